import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { FunctionExecutor } from "../../client/index.ts";
import { startAzurite, stopChild, type Azurite } from "../../local/azurite.ts";
import { ENV, parseWorkerEnv } from "../../protocol/env.ts";
import { runtimeMetadataKey } from "../../protocol/keys.ts";
import { connectStorage } from "../../azure/storage-connection.ts";
import { IMAGE_PACKAGE_DIR, workerLayer } from "../../components/image-context.ts";
import { named, runProgram, type ProgramRun } from "../support/pulumi-harness.ts";
import { clientConfigOnAzurite, containerEnv, createRuntimeStorage, workerStorageOnAzurite } from "../support/runtime-app.ts";
import { REPO_ROOT } from "../support/package-paths.ts";

/**
 * The infrastructure and the worker agree: the environment the runtime component gives
 * the Container App (resolved from a mock run, secrets included) starts the real worker
 * with the image's own command, and a client configured from the stack's `clientConfig`
 * output runs a call through it. Only storage is redirected to Azurite, which cannot
 * check an identity token: its connection string stands in for the managed identity.
 */
const root = REPO_ROOT;
const APP = "lithops-default-512";

/**
 * The runtime image's CMD (the worker layer the stack appends to every runtime's
 * Dockerfile), with the image's package folder mapped to this package's root.
 */
function imageCommand(): string[] {
  const cmd = /^CMD (\[.*\])\s*$/m.exec(workerLayer());
  assert.ok(cmd, "the worker layer has an exec-form CMD");
  return (JSON.parse(cmd[1]!) as string[]).map((part) => part.replace(IMAGE_PACKAGE_DIR, root));
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
    env = containerEnv(run, APP);
    azurite = await startAzurite();
    await createRuntimeStorage(azurite, env);
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
      env: { ...env, ...workerStorageOnAzurite(azurite) },
      stdio: ["ignore", "ignore", "pipe"],
    });
    worker.stderr!.on("data", (chunk: Buffer) => {
      workerLog += chunk.toString();
    });

    const clientConfig = clientConfigOnAzurite(run.outputs.clientConfig as string, azurite);
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
