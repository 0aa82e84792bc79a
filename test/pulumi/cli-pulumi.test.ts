import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { BlobServiceClient } from "@azure/storage-blob";
import { QueueServiceClient } from "@azure/storage-queue";
import { parse as parseYaml, stringify } from "yaml";
import { execute } from "../../cli/commands.ts";
import type { CliRequest } from "../../cli/main.ts";
import type { RuntimeEntry } from "../../deploy/plans.ts";
import type { CliIO } from "../../deploy/run-plan.ts";
import { RuntimeNotDeployedError } from "../../client/errors.ts";
import { FunctionExecutor } from "../../client/executor.ts";
import { startAzurite, type Azurite } from "../../local/azurite.ts";
import { runtimeQueues } from "../../azure/runtime-name.ts";
import { PulumiStandIn, type StandInState } from "../support/pulumi-standin.ts";
import { REPO_ROOT } from "../support/package-paths.ts";

/**
 * The commands that need Pulumi, run in-process against a stand-in `pulumi` first on PATH
 * (test/support/pulumi-standin.ts): what they ask of the CLI through the Automation API,
 * what they change in the stack's config, what they print, and how they fail.
 */

const root = REPO_ROOT;
const IMAGING = "runtimes/examples/imaging/Dockerfile";
const DEV: RuntimeEntry[] = [
  { name: "default", memory: 512, maxWorkers: 10 },
  { name: "imaging", dockerfile: IMAGING, memory: 2048, timeout: 300 },
];
const RUNTIMES = "lithops-aca:runtimes";

const originalPath = process.env.PATH;
const originalStack = process.env.LITHOPS_STACK;
let scratch: string;
let env: NodeJS.ProcessEnv;
let pulumi: PulumiStandIn;

function devState(
  config: Record<string, unknown> = { [RUNTIMES]: DEV, "azure-native:location": "westeurope" },
  outputs: Record<string, unknown> = {},
): Partial<StandInState> {
  return { current: null, stacks: { dev: { config, outputs } } };
}

async function usePulumi(state: Partial<StandInState>): Promise<PulumiStandIn> {
  pulumi?.remove();
  pulumi = await PulumiStandIn.served(state);
  process.env.PATH = pulumi.path(originalPath);
  return pulumi;
}

interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** The folder the command runs in: the repository (its Pulumi project) unless given. */
  cwd?: string;
  /** The terminal's answer to a question; no terminal when absent. */
  answer?: string;
}

async function run(
  request: Partial<CliRequest> & { command: CliRequest["command"] },
  options: RunOptions = {},
): Promise<{ code: number; out: string; err: string; asked: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const asked: string[] = [];
  const full = { backend: undefined, storage: undefined, stack: undefined, config: undefined, debug: false, ...request } as CliRequest;
  const io: CliIO = { out: (l) => out.push(l), err: (l) => err.push(l), debug: full.debug };
  const { answer } = options;
  if (answer !== undefined)
    io.ask = async (question) => {
      asked.push(question);
      return answer;
    };
  const code = await execute(full, io, options.env ?? env, options.cwd ?? root);
  return { code, out: out.join("\n"), err: err.join("\n"), asked };
}

/** The command words of each recorded call: `config set-all`, `up`, ... */
const verbs = () => pulumi.calls().map((c) => (["stack", "config"].includes(c.args[0]!) ? `${c.args[0]} ${c.args[1]}` : c.args[0]!));
const callOf = (verb: string) => pulumi.calls().find((c) => (["stack", "config"].includes(c.args[0]!) ? `${c.args[0]} ${c.args[1]}` : c.args[0]) === verb);
const runtimesOf = () => pulumi.state().stacks.dev!.config[RUNTIMES] as RuntimeEntry[] | undefined;

before(() => {
  scratch = mkdtempSync(join(tmpdir(), "cli-pulumi-"));
  const empty = join(scratch, "empty.yaml");
  writeFileSync(empty, "");
  // No user config file may leak in; LITHOPS_STACK only where a test sets it.
  env = { ...process.env, LITHOPS_CONFIG_FILE: empty, LITHOPS_STACK: "" };
});

afterEach(() => {
  process.env.PATH = originalPath;
  if (originalStack === undefined) delete process.env.LITHOPS_STACK;
  else process.env.LITHOPS_STACK = originalStack;
});

after(() => {
  pulumi?.remove();
  rmSync(scratch, { recursive: true, force: true });
});

describe("cli with Pulumi (stand-in CLI): runtime deploy, update, delete, build, list, clean", () => {
  it("deploy adds the runtime to the stack config with `config set-all --path`, then `pulumi up`, and prints the result", async () => {
    await usePulumi(devState());
    const { code, out, err } = await run({ command: "runtime deploy", name: "lithopscloud/ca-node20:01", memory: 1024, stack: "dev" });
    assert.equal(code, 0, err);
    assert.deepEqual(verbs(), ["version", "stack select", "config get", "config set-all", "up", "stack output", "stack output", "stack history"]);
    assert.deepEqual(callOf("config set-all")!.args, [
      "config",
      "set-all",
      "--stack",
      "dev",
      "--path",
      "--plaintext",
      "lithops-aca:runtimes[2].name=lithopscloud/ca-node20:01",
      "--plaintext",
      "lithops-aca:runtimes[2].memory=1024",
      "--non-interactive",
    ]);
    assert.deepEqual(callOf("up")!.args.slice(0, 3), ["up", "--yes", "--skip-preview"]);
    assert.ok(!callOf("up")!.args.includes("--target"));
    assert.deepEqual(runtimesOf(), [...DEV, { name: "lithopscloud/ca-node20:01", memory: 1024 }]);
    assert.equal(pulumi.state().stacks.dev!.config["azure-native:location"], "westeurope", "other config stays");
    assert.match(out, /Selecting stack 'dev'/);
    assert.match(out, /\+\s+azure-native:storage:Queue lithops-queue created/, "Pulumi's progress is shown");
    assert.match(out, /Runtime lithopscloud\/ca-node20:01 \(1024 MB\) deployed in stack 'dev'$/);
  });

  it("deploy into a stack that does not set the key writes the whole list, keeping the default runtime", async () => {
    await usePulumi(devState({}));
    const { code, err } = await run({ command: "runtime deploy", name: "lithopscloud/ca-node20:01", stack: "dev" });
    assert.equal(code, 0, err);
    assert.deepEqual(runtimesOf(), [{ name: "default" }, { name: "lithopscloud/ca-node20:01", memory: 512 }]);
  });

  it("update all bumps every runtime's revision and runs a full up", async () => {
    await usePulumi(devState());
    const first = await run({ command: "runtime update", name: "all", stack: "dev" });
    assert.equal(first.code, 0, first.err);
    assert.deepEqual(
      runtimesOf()!.map((r) => r.revision),
      [1, 1],
    );
    const second = await run({ command: "runtime update", name: "imaging", stack: "dev" });
    assert.equal(second.code, 0, second.err);
    assert.deepEqual(
      runtimesOf()!.map((r) => r.revision),
      [1, 2],
    );
    assert.equal(pulumi.calls().filter((c) => c.args[0] === "up").length, 2);
    assert.match(second.out, /Runtime imaging \(2048 MB\) updated in stack 'dev'/);
  });

  it("delete removes the entry with `config rm-all --path`; delete all leaves `runtimes: []` and a stack with no runtimes", async () => {
    await usePulumi(devState());
    const deleted = await run({ command: "runtime delete", name: "imaging", memory: 2048, stack: "dev" });
    assert.equal(deleted.code, 0, deleted.err);
    assert.deepEqual(callOf("config rm-all")!.args, ["config", "rm-all", "--stack", "dev", "--path", "lithops-aca:runtimes[1]", "--non-interactive"]);
    assert.deepEqual(runtimesOf(), [DEV[0]]);
    pulumi.resetCalls();
    const all = await run({ command: "runtime delete", name: "all", stack: "dev" });
    assert.equal(all.code, 0, all.err);
    assert.deepEqual(verbs().slice(0, 5), ["version", "stack select", "config get", "config rm-all", "up"]);
    assert.deepEqual(callOf("config rm-all")!.args, ["config", "rm-all", "--stack", "dev", "--path", "lithops-aca:runtimes[0]", "--non-interactive"]);
    assert.deepEqual(runtimesOf(), [], "an explicit empty list, not an unset key (which means the default runtime)");
    assert.deepEqual(pulumi.state().stacks.dev!.outputs.runtimes, []);
    assert.match(
      all.out,
      /Runtime default \(512 MB\) deleted: stack 'dev' now has no runtimes \(deploy one with `npx lithops-aca runtime deploy default --stack dev`\)$/,
    );
    pulumi.resetCalls();
    const again = await run({ command: "runtime delete", name: "all", stack: "dev" });
    assert.equal(again.code, 1);
    assert.match(again.err, /stack 'dev' has no runtimes/);
    assert.deepEqual(verbs(), ["version", "stack select", "config get"], "nothing was changed or deployed");
    const redeployed = await run({ command: "runtime deploy", name: "default", stack: "dev" });
    assert.equal(redeployed.code, 0, redeployed.err);
    assert.deepEqual(runtimesOf(), [{ name: "default", memory: 512 }]);
  });

  it("delete all on a stack that does not set the key writes the implicit default, then removes it: `runtimes: []`", async () => {
    await usePulumi(devState({ "azure-native:location": "westeurope" }));
    const { code, out, err } = await run({ command: "runtime delete", name: "all", stack: "dev" });
    assert.equal(code, 0, err);
    assert.deepEqual(verbs().slice(0, 6), ["version", "stack select", "config get", "config set-all", "config rm-all", "up"]);
    assert.deepEqual(runtimesOf(), []);
    assert.match(out, /stack 'dev' now has no runtimes/);
  });

  it("build records the Dockerfile and runs up targeted at the image only; without a registry it says to deploy first", async () => {
    await usePulumi(devState(undefined, { registryPrefix: "lithopsacr.azurecr.io/", runtimes: [] }));
    const built = await run({ command: "runtime build", name: "myacct/tools:01", file: IMAGING, stack: "dev" });
    assert.equal(built.code, 0, built.err);
    const up = callOf("up")!.args;
    const targets = up.flatMap((arg, i) => (arg === "--target" ? [up[i + 1]] : []));
    assert.deepEqual(targets, [
      "urn:pulumi:dev::lithops-aca::lithops-aca:index:LithopsStack$lithops-aca:index:RuntimeImage::lithops-image-myacct-tools-01",
      "urn:pulumi:dev::lithops-aca::lithops-aca:index:LithopsStack$lithops-aca:index:RuntimeImage$docker:index/image:Image::lithops-image-myacct-tools-01-build",
    ]);
    assert.deepEqual(runtimesOf()!.at(-1), { name: "myacct/tools:01", memory: 512, dockerfile: IMAGING });
    assert.match(built.out, /Runtime myacct\/tools:01 built and pushed/);

    await usePulumi(devState());
    const refused = await run({ command: "runtime build", name: "imaging", stack: "dev" });
    assert.equal(refused.code, 1);
    assert.match(refused.err, /has no container registry yet/);
    assert.ok(!verbs().includes("up"));
  });

  it("list shows the stack's deployed runtimes and what its config lists but is not deployed", async () => {
    await usePulumi(
      devState(undefined, {
        runtimes: [
          { name: "default", memory: 512, image: "lithopsacr.azurecr.io/default@sha256:ab", appName: "lithops-default-512", queue: "q", poisonQueue: "p" },
        ],
      }),
    );
    const { code, out, err } = await run({ command: "runtime list", stack: "dev" });
    assert.equal(code, 0, err);
    assert.match(out, /Runtime Name\s+Memory Size\s+Status\s+Image\s+Container App/);
    assert.match(out, /default\s+512 MB\s+deployed\s+lithopsacr\.azurecr\.io\/default@sha256:ab\s+lithops-default-512/);
    assert.match(out, /imaging\s+2048 MB\s+in config, not deployed yet/);
    assert.match(out, /Total runtimes: 1 deployed in stack 'dev'/);
    assert.deepEqual(verbs(), ["version", "stack select", "stack output", "stack output", "config get"], "list only reads");
  });

  it("clean of a stack that was never deployed changes nothing: an up would create it", async () => {
    await usePulumi(devState());
    const { code, out, err } = await run({ command: "clean", stack: "dev" });
    assert.equal(code, 0, err);
    assert.match(out, /Nothing to clean: stack 'dev' is not deployed/);
    assert.deepEqual(verbs(), ["version", "stack select", "stack output", "stack output"], "only the outputs were read");
    assert.deepEqual(runtimesOf(), DEV);
  });

  it("stack destroy without --yes and without a terminal refuses, and destroys nothing", async () => {
    await usePulumi(devState(undefined, { clientConfig: "x" }));
    const { code, err } = await run({ command: "stack destroy", stack: "dev" });
    assert.equal(code, 1);
    assert.match(
      err,
      /stack destroy deletes every resource of stack 'dev', the storage account with all its objects .*: pass --yes to confirm \(there is no terminal to ask on\)/,
    );
    assert.ok(!verbs().includes("destroy"));
    assert.deepEqual(pulumi.state().stacks.dev!.outputs, { clientConfig: "x" });
  });

  it("stack destroy needs the stack named with --stack: LITHOPS_STACK or the selected stack is not enough", async () => {
    await usePulumi({ ...devState(), current: "dev" });
    const { code, err } = await run({ command: "stack destroy", yes: true }, { env: { ...env, LITHOPS_STACK: "dev" } });
    assert.equal(code, 1);
    assert.match(err, /stack destroy needs the stack named with --stack <name>/);
    assert.deepEqual(pulumi.calls(), [], "Pulumi was not even asked");
  });

  it("stack destroy --yes runs `pulumi destroy` on the named stack only; its config stays", async () => {
    const prod = { config: { [RUNTIMES]: [DEV[0]] }, outputs: { clientConfig: "prod" } };
    await usePulumi({ current: null, stacks: { dev: { config: { [RUNTIMES]: DEV }, outputs: { clientConfig: "x" } }, prod } });
    const { code, out, err } = await run({ command: "stack destroy", stack: "dev", yes: true });
    assert.equal(code, 0, err);
    const destroys = pulumi.calls().filter((c) => c.args[0] === "destroy");
    assert.equal(destroys.length, 1);
    assert.deepEqual(destroys[0]!.args.slice(0, 3), ["destroy", "--yes", "--skip-preview"]);
    assert.equal(destroys[0]!.args[destroys[0]!.args.indexOf("--stack") + 1], "dev");
    assert.deepEqual(pulumi.state().stacks.dev!.outputs, {});
    assert.deepEqual(pulumi.state().stacks.prod, prod, "the other stack is untouched");
    assert.deepEqual(runtimesOf(), DEV);
    assert.match(out, /Stack 'dev' destroyed: all its resources and data are gone, its config is kept/);
  });

  it("stack destroy on a terminal asks for the stack name: a wrong answer destroys nothing, the name destroys", async () => {
    await usePulumi(devState(undefined, { clientConfig: "x" }));
    const wrong = await run({ command: "stack destroy", stack: "dev" }, { answer: "yes" });
    assert.equal(wrong.code, 1);
    assert.match(wrong.asked[0]!, /every resource of stack 'dev'.*Type the stack name to confirm/);
    assert.match(wrong.err, /not confirmed .*nothing was destroyed/);
    assert.ok(!verbs().includes("destroy"));
    const right = await run({ command: "stack destroy", stack: "dev" }, { answer: "dev" });
    assert.equal(right.code, 0, right.err);
    assert.ok(verbs().includes("destroy"));
  });

  it("the stack comes from --stack, else LITHOPS_STACK, else the stack selected in the project", async () => {
    await usePulumi({ ...devState(), current: "dev" });
    const selected = await run({ command: "runtime update", name: "default" });
    assert.equal(selected.code, 0, selected.err);
    assert.deepEqual(verbs().slice(0, 3), ["version", "stack ls", "version"], "asked the CLI for the selected stack first");
    await usePulumi(devState());
    const fromEnv = await run({ command: "runtime update", name: "default" }, { env: { ...env, LITHOPS_STACK: "dev" } });
    assert.equal(fromEnv.code, 0, fromEnv.err);
    await usePulumi(devState()); // (selecting a stack, as the Automation API does, made dev the current one)
    const none = await run({ command: "runtime update", name: "default" });
    assert.equal(none.code, 1);
    assert.match(none.err, /no Pulumi stack given: pass --stack <name>.*LITHOPS_STACK.*`pulumi stack select <name>`/);
  });
});

describe("cli from a user's own folder (no Pulumi.yaml): lithops-aca's program, inline, stack files in ./lithops-aca/", () => {
  let user: string;
  let workspace: string;
  const inUser = (...parts: string[]) => join(user, ...parts);
  /** Where the stack's commands ran (the Automation API asks `pulumi version` from anywhere). */
  const callFolders = () =>
    new Set(
      pulumi
        .calls()
        .filter((c) => c.args[0] !== "version")
        .map((c) => c.cwd),
    );

  beforeEach(async () => {
    user = mkdtempSync(join(scratch, "user-project-"));
    workspace = inUser("lithops-aca");
    await usePulumi({ current: null, stacks: {} });
  });

  it("runtime deploy creates the stack, asks for its region, then deploys with the inline program; every call runs in ./lithops-aca/", async () => {
    const first = await run({ command: "runtime deploy", name: "default", stack: "dev" }, { cwd: user });
    assert.equal(first.code, 1);
    assert.match(first.out, new RegExp(`Selecting stack 'dev' of lithops-aca's Pulumi program, stack files in ${workspace}`));
    assert.ok(verbs().includes("stack init"), "a missing stack of the inline program is created");
    assert.match(
      first.err,
      new RegExp(`stack 'dev' has no Azure region yet: run \`pulumi config set azure-native:location <region> --stack dev --cwd ${workspace}\``),
    );
    const project = parseYaml(readFileSync(join(workspace, "Pulumi.yaml"), "utf8")) as { name: string; runtime: string };
    assert.equal(project.name, "lithops-aca", "the config namespace stays lithops-aca:");
    assert.equal(project.runtime, "nodejs");

    pulumi.update((state) => (state.stacks.dev!.config["azure-native:location"] = "westeurope"));
    pulumi.resetCalls();
    mkdirSync(inUser("src"));
    const second = await run({ command: "runtime deploy", name: "default", stack: "dev" }, { cwd: inUser("src") });
    assert.equal(second.code, 0, second.err);
    assert.deepEqual(callFolders(), new Set([workspace]), "a subfolder finds the same stack files");
    const up = callOf("up")!.args;
    assert.equal(up[up.indexOf("--exec-kind") + 1], "auto.inline");
    assert.ok(
      up.some((arg) => arg.startsWith("--client=127.0.0.1:")),
      "the program is served from this process",
    );
    assert.deepEqual(runtimesOf(), [{ name: "default" }]);
    assert.match(second.out, /Runtime default \(512 MB\) deployed in stack 'dev'/);
  });

  it("from a subfolder of a package, the stack files go to the package's folder; -f paths are stored relative to it", async () => {
    writeFileSync(inUser("package.json"), "{}\n");
    writeFileSync(inUser("Dockerfile"), "FROM node:22-slim\n");
    mkdirSync(inUser("src"));
    await usePulumi({
      current: null,
      stacks: { dev: { config: { "azure-native:location": "westeurope", [RUNTIMES]: [] }, outputs: { registryPrefix: "lithopsacr.azurecr.io/" } } },
    });
    const built = await run({ command: "runtime build", name: "myacct/tools:01", file: "../Dockerfile", stack: "dev" }, { cwd: inUser("src") });
    assert.equal(built.code, 0, built.err);
    assert.deepEqual(callFolders(), new Set([workspace]));
    assert.deepEqual(runtimesOf(), [{ name: "myacct/tools:01", memory: 512, dockerfile: "Dockerfile" }]);
    const outside = await run({ command: "runtime build", name: "myacct/tools:01", file: join(scratch, "Dockerfile"), stack: "dev" }, { cwd: user });
    assert.equal(outside.code, 1);
    assert.match(outside.err, new RegExp(`the Dockerfile must be inside the Pulumi project at ${user}`));
  });

  it("a stack that does not exist is not created by a command that only reads: list names the deploy command", async () => {
    const { code, err } = await run({ command: "runtime list", stack: "prod" }, { cwd: user });
    assert.equal(code, 1);
    assert.match(err, new RegExp(`stack 'prod' does not exist in ${workspace}: \`npx lithops-aca runtime deploy default --stack prod\` creates it`));
    assert.ok(!verbs().includes("stack init"));
  });

  it("LITHOPS_PULUMI_DIR names the stack files' folder; never one inside node_modules", async () => {
    const elsewhere = join(scratch, "stacks-elsewhere");
    const listed = await run({ command: "runtime list", stack: "prod" }, { cwd: user, env: { ...env, LITHOPS_PULUMI_DIR: elsewhere } });
    assert.equal(listed.code, 1);
    assert.deepEqual(callFolders(), new Set([elsewhere]));
    const refused = await run(
      { command: "runtime list", stack: "dev" },
      { cwd: user, env: { ...env, LITHOPS_PULUMI_DIR: inUser("node_modules", "lithops-aca") } },
    );
    assert.equal(refused.code, 1);
    assert.match(refused.err, /LITHOPS_PULUMI_DIR=.*: the stack files must not live inside node_modules/);
  });
});

describe("cli with Pulumi: errors name what to do next", () => {
  it("the Pulumi CLI is missing: how to install it", async () => {
    const empty = mkdtempSync(join(scratch, "nopulumi-"));
    process.env.PATH = empty;
    const { code, err } = await run({ command: "runtime deploy", name: "default", stack: "dev" });
    assert.equal(code, 1);
    assert.match(err, /the Pulumi CLI is not installed \(no `pulumi` on PATH\): install the Pulumi CLI .*get\.pulumi\.com/);
  });

  it("a Pulumi CLI older than the Automation API needs: update it", async () => {
    await usePulumi({ ...devState(), version: "3.1.0" });
    const { code, err } = await run({ command: "runtime list", stack: "dev" });
    assert.equal(code, 1);
    assert.match(err, /Minimum version requirement failed.*update the Pulumi CLI/);
  });

  it("not logged in: pulumi login", async () => {
    await usePulumi({ ...devState(), loggedIn: false });
    const { code, err } = await run({ command: "runtime deploy", name: "default", stack: "dev" });
    assert.equal(code, 1);
    assert.match(err, /not logged in to a Pulumi backend: run `pulumi login`/);
    assert.match(err, /PULUMI_ACCESS_TOKEN must be set/, "and what pulumi said");
  });

  it("the stack does not exist: how to create it", async () => {
    await usePulumi(devState());
    const { code, err } = await run({ command: "runtime deploy", name: "default", stack: "prod" });
    assert.equal(code, 1);
    assert.match(err, /stack 'prod' does not exist in the Pulumi project at .*: create it with `pulumi stack init prod`/);
  });

  it("up fails on Azure login: az login, and the config change is named", async () => {
    await usePulumi({
      ...devState(),
      failUp:
        "building auth config: obtain subscription() from Azure CLI: parsing json result from the Azure CLI: waiting for the Azure CLI: exit status 1: ERROR: Please run 'az login' to setup account.",
    });
    const { code, err } = await run({ command: "runtime deploy", name: "lithopscloud/ca-node20:01", stack: "dev" });
    assert.equal(code, 1);
    assert.match(err, /not logged in to Azure: run `az login`/);
    assert.match(err, /The stack's config was already changed/);
    assert.equal(runtimesOf()!.length, 3, "the config change stays, so running the command again only deploys");
  });

  it("bad arguments fail before Pulumi is asked anything", async () => {
    await usePulumi(devState());
    const { code, err } = await run({ command: "runtime deploy", name: "default", memory: 1000, stack: "dev" });
    assert.equal(code, 1);
    assert.match(err, /--memory: 1000 MB is not|--memory: 1000/);
    assert.deepEqual(pulumi.calls(), []);
    const local = await run({ command: "runtime deploy", name: "default", backend: "local" });
    assert.match(local.err, /the local backend has nothing to build or deploy/);
  });
});

describe("client bound to a stack (Automation API via the stand-in, storage on Azurite)", () => {
  let azurite: Azurite;
  const signingKey = "stack-signing-key-0123456789abcdef";
  const clientConfig = () =>
    stringify({
      lithops: { backend: "azure_containers", storage: "azure_storage", signing_key: signingKey },
      azure_storage: { connection_string: azurite.connectionString, storage_bucket: "lithops-jobs" },
      azure_containers: {
        runtime: "default",
        runtime_memory: 512,
        runtimes: [{ name: "default", memory: 512, queue: "lithops-default-512", poison_queue: "lithops-default-512-poison" }],
      },
    });

  before(async () => {
    azurite = await startAzurite();
  });
  after(async () => {
    await azurite.stop();
  });
  beforeEach(async () => {
    await usePulumi(devState(undefined, { clientConfig: clientConfig() }));
    pulumi.update((state) => (state.stacks.dev!.secretOutputs = ["clientConfig"]));
  });

  it("new FunctionExecutor({ stack }) (or LITHOPS_STACK) reads the stack's clientConfig output: no config file", async () => {
    const fexec = new FunctionExecutor({ backend: "azure_containers", stack: "dev", config: {}, progress: false });
    try {
      const backend = await fexec.backend();
      assert.equal(backend.kind, "azure_containers");
      assert.equal(backend.storage.connectionString, azurite.connectionString);
      assert.equal(fexec.config.signingKey, signingKey);
      assert.deepEqual(
        fexec.config.deployedRuntimes.map((r) => r.queue),
        ["lithops-default-512"],
      );
      assert.ok(pulumi.calls().some((c) => c.args.join(" ").startsWith("stack output --json --show-secrets --stack dev")));
    } finally {
      await fexec.close();
    }
    process.env.LITHOPS_STACK = "dev";
    const fromEnv = new FunctionExecutor({ backend: "azure_containers", config: {}, progress: false });
    try {
      assert.equal(fromEnv.config.stack, "dev");
      assert.equal((await fromEnv.backend()).storage.connectionString, azurite.connectionString);
    } finally {
      await fromEnv.close();
    }
  });

  it("a runtime the stack has not deployed: the error names the stack and the deploy command", async () => {
    const fexec = new FunctionExecutor({
      backend: "azure_containers",
      stack: "dev",
      config: {},
      progress: false,
      runtime: "myacct/tools:01",
      runtimeMemory: 2048,
    });
    try {
      await assert.rejects(
        fexec.callAsync((x: number) => x + 1, 1),
        (error: Error) =>
          error instanceof RuntimeNotDeployedError &&
          /runtime 'myacct\/tools:01' with 2048 MB is not deployed in stack 'dev': deploy it with `npx lithops-aca runtime deploy myacct\/tools:01 --memory 2048 --stack dev`, or create the executor with autoDeploy: true/.test(
            error.message,
          ),
      );
      assert.ok(!pulumi.calls().some((c) => c.args[0] === "up"), "nothing was deployed");
    } finally {
      await fexec.close();
    }
  });

  it("clean deletes every runtime, then only lithops.jobs/ and lithops.runtimes/ of the stack's storage: no destroy, the user's objects stay", async () => {
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient("lithops-jobs");
    await container.createIfNotExists();
    const lithopsKeys = ["lithops.jobs/e1-1/M000/data.bin", "lithops.jobs/e1-1/M000/status/00000.json", "lithops.runtimes/lithops-default-512/metadata.json"];
    const userKeys = ["inputs/words.txt", "lithops.jobs-archive/keep.txt", "results/lithops.jobs/keep.txt"];
    for (const key of [...lithopsKeys, ...userKeys]) await container.getBlockBlobClient(key).uploadData(Buffer.from(key));
    pulumi.update(
      (state) =>
        (state.stacks.dev!.outputs.runtimes = [
          { name: "default", memory: 512 },
          { name: "imaging", memory: 2048 },
        ]),
    );

    const { code, out, err } = await run({ command: "clean", stack: "dev" });
    assert.equal(code, 0, err);
    assert.ok(!verbs().includes("destroy"), "clean never destroys the stack");
    assert.deepEqual(verbs().slice(0, 7), ["version", "stack select", "stack output", "stack output", "config get", "config rm-all", "up"]);
    assert.deepEqual(runtimesOf(), [], "the runtime delete all change");
    assert.deepEqual(pulumi.state().stacks.dev!.outputs.runtimes, [], "up removed the runtimes");
    assert.ok(pulumi.state().stacks.dev!.outputs.clientConfig, "the stack and its storage stay");
    const remaining: string[] = [];
    for await (const blob of container.listBlobsFlat()) remaining.push(blob.name);
    assert.deepEqual(remaining.sort(), userKeys);
    assert.match(out, /deleting lithops\.jobs\/ and lithops\.runtimes\/ in container lithops-jobs/);
    assert.match(out, /\d+ objects deleted/);
    assert.match(out, /Stack 'dev' cleaned: no runtimes, no job data; its storage and config are kept/);
  });

  it("autoDeploy: true runs `lithops-aca runtime deploy` first, then the call is queued", async () => {
    const name = "lithopscloud/ca-node20:01";
    const { queue } = runtimeQueues(name, 1024);
    // What `pulumi up` would create: the runtime's queue (and the job container) in the stack's storage.
    const hook = join(scratch, "up-hook.mjs");
    writeFileSync(
      hook,
      `import { createRequire } from "node:module";
const require = createRequire(${JSON.stringify(join(root, "package.json"))});
const { QueueServiceClient } = require("@azure/storage-queue");
const { BlobServiceClient } = require("@azure/storage-blob");
export default async function () {
  const cs = ${JSON.stringify(azurite.connectionString)};
  await QueueServiceClient.fromConnectionString(cs).getQueueClient(${JSON.stringify(queue)}).createIfNotExists();
  await BlobServiceClient.fromConnectionString(cs).getContainerClient("lithops-jobs").createIfNotExists();
}
`,
    );
    pulumi.update((state) => {
      state.upHook = hook;
      state.upOutputs = { clientConfig: clientConfig() };
    });
    const fexec = new FunctionExecutor({
      backend: "azure_containers",
      stack: "dev",
      config: {},
      progress: false,
      logLevel: "ERROR",
      runtime: name,
      runtimeMemory: 1024,
      autoDeploy: true,
    });
    try {
      const future = await fexec.callAsync((x: number) => x + 1, 1);
      assert.equal(future.callId, "00000");
      assert.deepEqual(runtimesOf()!.at(-1), { name, memory: 1024 }, "the deploy command listed the runtime in the stack");
      assert.equal(pulumi.calls().filter((c) => c.args[0] === "up").length, 1);
      const properties = await QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient(queue).getProperties();
      assert.equal(properties.approximateMessagesCount, 1, "the call's message is on the deployed runtime's queue");
    } finally {
      await fexec.close();
    }
  });
});
