import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse, stringify } from "yaml";
import { execute } from "../cli/commands.ts";
import { DEV_ACCOUNT, startAzurite, stopChild, type Azurite } from "../local/azurite.ts";
import { ENV } from "../protocol/env.ts";
import { connectStorage } from "../protocol/storage-connection.ts";
import { named, reveal, runProgram, type ProgramRun } from "./pulumi-harness.ts";
import { PulumiStandIn } from "./support/pulumi-standin.ts";

/**
 * `lithops-aca hello --stack dev` end to end, with everything but Azure real: the stack's
 * outputs come from a mock run of the Pulumi program (served by the stand-in `pulumi`),
 * the client reads its clientConfig through the Automation API, and a real worker started
 * with the runtime component's container env runs the call. Storage is Azurite.
 */

const root = resolve(import.meta.dirname, "..");
const APP = "lithops-default-512";

function containerEnv(run: ProgramRun): Record<string, string> {
  const app = named(run, `${APP}-app`);
  const secrets = new Map<string, string>(reveal(app.inputs.configuration).secrets.map((s: { name: string; value: unknown }) => [s.name, reveal(s.value)]));
  const env: Record<string, string> = {};
  for (const variable of app.inputs.template.containers[0].env as { name: string; value?: string; secretRef?: string }[]) {
    env[variable.name] = (variable.secretRef === undefined ? variable.value : secrets.get(variable.secretRef))!;
  }
  return env;
}

describe("cli: hello --stack dev (stack outputs from the program, real worker, Azurite)", () => {
  const originalPath = process.env.PATH;
  let azurite: Azurite;
  let worker: ChildProcess | undefined;
  let pulumi: PulumiStandIn;
  let scratch: string;

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), "cli-stack-hello-"));
    const run = await runProgram({ stack: "dev", config: { runtimes: [{ name: "default" }] } });
    const env = containerEnv(run);
    azurite = await startAzurite();
    const storage = connectStorage({ connectionString: azurite.connectionString, container: env[ENV.container]! });
    await storage.container.create();
    await storage.queueService.createQueue(env[ENV.queue]!);
    await storage.queueService.createQueue(env[ENV.poisonQueue]!);
    const redirect = { [ENV.storageAccount]: DEV_ACCOUNT, [ENV.blobEndpoint]: azurite.blobEndpoint, [ENV.queueEndpoint]: azurite.queueEndpoint, [ENV.connectionString]: azurite.connectionString };
    worker = spawn(process.execPath, ["--import", "tsx", "worker/main.ts"], { cwd: root, env: { ...env, ...redirect }, stdio: "ignore" });

    // The stack's outputs as `pulumi up` of this program leaves them, storage pointed at Azurite.
    const clientConfig = parse(run.outputs.clientConfig as string);
    clientConfig.azure_storage = {
      ...clientConfig.azure_storage,
      storage_account_name: DEV_ACCOUNT,
      blob_endpoint: azurite.blobEndpoint,
      queue_endpoint: azurite.queueEndpoint,
      connection_string: azurite.connectionString,
    };
    pulumi = new PulumiStandIn({
      current: "dev",
      stacks: { dev: { config: { "lithops-aca:runtimes": [{ name: "default" }] }, outputs: { ...run.outputs, clientConfig: stringify(clientConfig) }, secretOutputs: ["clientConfig"] } },
    });
    process.env.PATH = pulumi.path(originalPath);
  });

  after(async () => {
    process.env.PATH = originalPath;
    if (worker) await stopChild(worker);
    await azurite?.stop();
    pulumi?.remove();
    rmSync(scratch, { recursive: true, force: true });
  });

  it("reads the stack's clientConfig and gets the hello back from the runtime", { timeout: 60_000 }, async () => {
    const empty = join(scratch, "empty.yaml");
    writeFileSync(empty, "");
    const out: string[] = [];
    const err: string[] = [];
    const code = await execute(
      { command: "hello", backend: "azure_containers", storage: "azure_storage", stack: "dev", config: undefined, debug: false },
      { out: (l) => out.push(l), err: (l) => err.push(l), debug: false },
      { ...process.env, LITHOPS_CONFIG_FILE: empty, LITHOPS_STACK: "" },
      root,
    );
    assert.equal(code, 0, err.join("\n"));
    assert.match(out.join("\n"), /Reading the client config of stack 'dev'/);
    assert.match(out.join("\n"), /Called hello\('.+'\) on runtime default \(512 MB\)/);
    assert.match(out.join("\n"), /Hello .+! lithops-aca is working as expected :\)/);
    assert.ok(pulumi.calls().some((c) => c.args.slice(0, 4).join(" ") === "stack output --json --show-secrets"));
  });
});
