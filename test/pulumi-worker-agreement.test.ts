import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { FunctionExecutor } from "../client/index.ts";
import { DEV_ACCOUNT, startAzurite, stopChild, type Azurite } from "../local/azurite.ts";
import { ENV, parseWorkerEnv } from "../protocol/env.ts";
import { runtimeMetadataKey } from "../protocol/keys.ts";
import { connectStorage } from "../protocol/storage-connection.ts";
import { named, reveal, runProgram, type ProgramRun } from "./pulumi-harness.ts";

/**
 * The infrastructure and the worker agree: the environment the runtime component gives
 * the Container App (resolved from a mock run, secrets included) starts the real worker
 * with the image's own command, and a client configured from the stack's `clientConfig`
 * output runs a call through it. Only storage is redirected to Azurite, which cannot
 * check an identity token: its connection string stands in for the managed identity.
 */
const root = fileURLToPath(new URL("..", import.meta.url));
const APP = "lithops-default-512";

/** The container's env as Azure would set it: plain values, and secretRefs resolved from the app's secrets. */
function containerEnv(run: ProgramRun): Record<string, string> {
  const app = named(run, `${APP}-app`);
  const secrets = new Map<string, string>(reveal(app.inputs.configuration).secrets.map((s: { name: string; value: unknown }) => [s.name, reveal(s.value)]));
  const env: Record<string, string> = {};
  for (const variable of app.inputs.template.containers[0].env as { name: string; value?: string; secretRef?: string }[]) {
    const value = variable.secretRef === undefined ? variable.value : secrets.get(variable.secretRef);
    assert.ok(value !== undefined, `${variable.name} has no value (secretRef ${variable.secretRef})`);
    env[variable.name] = value;
  }
  return env;
}

/** The runtime image's CMD, e.g. ["node", "--import", "tsx", "worker/main.ts"], run from the image's WORKDIR. */
function imageCommand(): string[] {
  const dockerfile = readFileSync(`${root}runtimes/default/Dockerfile`, "utf8");
  const cmd = /^CMD (\[.*\])\s*$/m.exec(dockerfile);
  assert.ok(cmd, "runtimes/default/Dockerfile has an exec-form CMD");
  assert.match(dockerfile, /^WORKDIR \/app$/m, "the image runs from /app, which holds what the project root holds");
  return JSON.parse(cmd[1]!) as string[];
}

describe("pulumi program and worker agree (real worker, Azurite)", () => {
  let run: ProgramRun;
  let azurite: Azurite;
  let worker: ChildProcess;
  let workerLog = "";
  let fexec: FunctionExecutor;
  let env: Record<string, string>;

  before(async () => {
    run = await runProgram({ config: { runtimes: [{ name: "default", workerProcesses: 2 }] } });
    env = containerEnv(run);
    azurite = await startAzurite();
    // What `pulumi up` creates: the job container and the runtime's queues.
    const storage = connectStorage({ connectionString: azurite.connectionString, container: env[ENV.container]! });
    await storage.container.create();
    await storage.queueService.createQueue(env[ENV.queue]!);
    await storage.queueService.createQueue(env[ENV.poisonQueue]!);
  });

  after(async () => {
    await fexec?.close();
    if (worker) await stopChild(worker);
    await azurite?.stop();
  });

  it("the worker accepts the component's environment as is (identity, no key)", () => {
    assert.equal(env[ENV.connectionString], undefined);
    const parsed = parseWorkerEnv(env);
    assert.equal(parsed[ENV.backend], "azure_containers");
    assert.equal(parsed[ENV.workerProcesses], 2);
    assert.equal(parsed[ENV.runtimeMemory], 512);
    assert.ok(parsed[ENV.signingKey], "the signing key reaches the worker through the app secret");
    // Read by DefaultAzureCredential, not by the worker's own settings.
    assert.equal(env[ENV.azureClientId], named(run, `${APP}-identity`).state.clientId);
  });

  it("runs a call sent by a client configured from the clientConfig output", { timeout: 60_000 }, async () => {
    const [command, ...args] = imageCommand();
    assert.equal(command, "node");
    worker = spawn(process.execPath, args, {
      cwd: root,
      // Exactly the container's env, storage redirected to the emulator.
      env: {
        ...env,
        [ENV.storageAccount]: DEV_ACCOUNT,
        [ENV.blobEndpoint]: azurite.blobEndpoint,
        [ENV.queueEndpoint]: azurite.queueEndpoint,
        [ENV.connectionString]: azurite.connectionString,
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    worker.stderr!.on("data", (chunk: Buffer) => {
      workerLog += chunk.toString();
    });

    const clientConfig = parse(run.outputs.clientConfig as string);
    clientConfig.azure_storage = {
      ...clientConfig.azure_storage,
      storage_account_name: DEV_ACCOUNT,
      blob_endpoint: azurite.blobEndpoint,
      queue_endpoint: azurite.queueEndpoint,
      connection_string: azurite.connectionString,
    };
    fexec = new FunctionExecutor({ config: clientConfig, progress: false, logLevel: "WARNING" });
    const futures = await fexec.map((x: number) => x * 2, [1, 2, 21]);
    let results: unknown;
    try {
      results = await fexec.getResult(futures, { timeout: 20 });
    } catch (error) {
      assert.fail(`${(error as Error).message}\nworker log:\n${workerLog}`);
    }
    assert.deepEqual(results, [2, 4, 42]);

    // The worker recorded its runtime under the queue name the component gave it.
    const storage = connectStorage({ connectionString: azurite.connectionString, container: env[ENV.container]! });
    const metadata = JSON.parse((await storage.container.getBlockBlobClient(runtimeMetadataKey(env[ENV.queue]!)).downloadToBuffer()).toString());
    assert.equal(metadata.runtime, "default");
    assert.equal(metadata.memory, 512);
  });
});
