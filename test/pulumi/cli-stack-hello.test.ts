import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { stringify } from "yaml";
import { execute } from "../../cli/commands.ts";
import { startAzurite, stopChild, type Azurite } from "../../local/azurite.ts";
import { runProgram } from "../support/pulumi-harness.ts";
import { PulumiStandIn } from "../support/pulumi-standin.ts";
import { clientConfigOnAzurite, containerEnv, createRuntimeStorage, workerStorageOnAzurite } from "../support/runtime-app.ts";
import { REPO_ROOT, WORKER_BIN } from "../support/package-paths.ts";

/**
 * `lithops-aca hello --stack dev` end to end, with everything but Azure real: the stack's
 * outputs come from a mock run of the Pulumi program (served by the stand-in `pulumi`),
 * the client reads its clientConfig through the Automation API, and a real worker started
 * with the runtime component's container env runs the call. Storage is Azurite.
 */

const root = REPO_ROOT;
const APP = "lithops-default-512";

describe("cli: hello --stack dev (stack outputs from the program, real worker, Azurite)", () => {
  const originalPath = process.env.PATH;
  let azurite: Azurite;
  let worker: ChildProcess | undefined;
  let pulumi: PulumiStandIn;
  let scratch: string;

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), "cli-stack-hello-"));
    const run = await runProgram({ stack: "dev", config: { runtimes: [{ name: "default" }] } });
    const env = containerEnv(run, APP);
    azurite = await startAzurite();
    await createRuntimeStorage(azurite, env);
    worker = spawn(process.execPath, [WORKER_BIN], { cwd: root, env: { ...env, ...workerStorageOnAzurite(azurite) }, stdio: "ignore" });

    // The stack's outputs as `pulumi up` of this program leaves them, storage pointed at Azurite.
    const clientConfig = clientConfigOnAzurite(run.outputs.clientConfig as string, azurite);
    pulumi = await PulumiStandIn.served({
      current: "dev",
      stacks: {
        dev: {
          config: { "lithops-aca:runtimes": [{ name: "default" }] },
          outputs: { ...run.outputs, clientConfig: stringify(clientConfig) },
          secretOutputs: ["clientConfig"],
        },
      },
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
