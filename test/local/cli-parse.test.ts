import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { resolveBackend } from "../../cli/commands.ts";
import { parseCommandLine, type CliRequest } from "../../cli/main.ts";
import { CLI_BIN, REPO_ROOT } from "../support/package-paths.ts";

const root = REPO_ROOT;

function parse(...argv: string[]): { request?: CliRequest; exitCode: number; out: string; err: string } {
  let out = "";
  let err = "";
  const result = parseCommandLine(argv, { writeOut: (t) => (out += t), writeErr: (t) => (err += t) });
  return { ...result, out, err };
}

const common = { backend: undefined, storage: undefined, stack: undefined, config: undefined, debug: false };

describe("cli: the command line parser (Lithops's words and flags)", () => {
  it("hello with -b/-s/--stack/-c/-d", () => {
    assert.deepEqual(parse("hello").request, { command: "hello", ...common });
    assert.deepEqual(parse("hello", "-b", "azure_containers", "-s", "azure_storage", "--stack", "dev", "-c", "cfg.yaml", "-d").request, {
      command: "hello",
      backend: "azure_containers",
      storage: "azure_storage",
      stack: "dev",
      config: "cfg.yaml",
      debug: true,
    });
    assert.deepEqual(parse("hello", "--backend", "local", "--storage", "local", "--debug").request, {
      command: "hello",
      ...common,
      backend: "local",
      storage: "local",
      debug: true,
    });
  });

  it("runtime build NAME [-f FILE]: the name is required, as in Lithops", () => {
    assert.deepEqual(parse("runtime", "build", "-f", "runtimes/examples/imaging/Dockerfile", "myaccount/img:01", "--stack", "dev").request, {
      command: "runtime build",
      name: "myaccount/img:01",
      file: "runtimes/examples/imaging/Dockerfile",
      ...common,
      stack: "dev",
    });
    assert.deepEqual(parse("runtime", "build", "myaccount/img:01", "--file", "Dockerfile").request, {
      command: "runtime build",
      name: "myaccount/img:01",
      file: "Dockerfile",
      ...common,
    });
    const missing = parse("runtime", "build");
    assert.equal(missing.request, undefined);
    assert.equal(missing.exitCode, 1);
    assert.match(missing.err, /missing required argument 'name'/);
  });

  it("runtime deploy [NAME] [--memory MB] [--timeout S]: the name defaults to 'default'", () => {
    assert.deepEqual(parse("runtime", "deploy").request, { command: "runtime deploy", name: "default", memory: undefined, timeout: undefined, ...common });
    assert.deepEqual(
      parse("runtime", "deploy", "lithopscloud/ca-node20:01", "--memory", "1024", "--timeout", "300", "-b", "azure_containers", "-s", "azure_storage").request,
      {
        command: "runtime deploy",
        name: "lithopscloud/ca-node20:01",
        memory: 1024,
        timeout: 300,
        ...common,
        backend: "azure_containers",
        storage: "azure_storage",
      },
    );
  });

  it("runtime update|delete NAME|all, delete with --memory", () => {
    assert.deepEqual(parse("runtime", "update", "all", "--stack", "prod").request, { command: "runtime update", name: "all", ...common, stack: "prod" });
    assert.deepEqual(parse("runtime", "update").request, { command: "runtime update", name: "default", ...common });
    assert.deepEqual(parse("runtime", "delete", "myaccount/img:01", "--memory", "2048").request, {
      command: "runtime delete",
      name: "myaccount/img:01",
      memory: 2048,
      ...common,
    });
  });

  it("runtime list and clean", () => {
    assert.deepEqual(parse("runtime", "list", "-b", "local").request, { command: "runtime list", ...common, backend: "local" });
    assert.deepEqual(parse("clean", "--stack", "dev", "-d").request, { command: "clean", ...common, stack: "dev", debug: true });
    assert.match(parse("clean", "--yes").err, /unknown option '--yes'/, "clean never destroys, so it has nothing to confirm");
  });

  it("stack destroy --stack NAME [-y/--yes]; `stack` alone lists its subcommand; it acts on a stack", () => {
    assert.deepEqual(parse("stack", "destroy", "--stack", "dev").request, { command: "stack destroy", yes: false, ...common, stack: "dev" });
    assert.deepEqual(parse("stack", "destroy", "--stack", "dev", "-y").request, { command: "stack destroy", yes: true, ...common, stack: "dev" });
    assert.deepEqual(parse("stack", "destroy", "--yes").request, { command: "stack destroy", yes: true, ...common });
    const stack = parse("stack");
    assert.equal(stack.exitCode, 1);
    assert.match(stack.err, /\n {2}destroy /);
    assert.equal(resolveBackend(parse("stack", "destroy", "--stack", "dev").request!, { lithops: { backend: "local" } }, {}), "azure_containers");
  });

  it("rejects a backend, storage or number that is not one, naming the flag", () => {
    const backend = parse("hello", "-b", "aws_lambda");
    assert.equal(backend.exitCode, 1);
    assert.match(backend.err, /option '-b, --backend <backend>' argument 'aws_lambda' is invalid. Allowed choices are local, azure_containers/);
    assert.match(parse("clean", "-s", "ibm_cos").err, /Allowed choices are azure_storage, local/);
    assert.match(parse("runtime", "deploy", "--memory", "1GB").err, /--memory must be a whole number, got "1GB"/);
    assert.match(parse("runtime", "deploy", "--timeout", "-5").err, /--timeout/);
    assert.match(parse("runtime", "frobnicate").err, /unknown command 'frobnicate'/);
    assert.match(parse("hello", "--bogus").err, /unknown option '--bogus'/);
  });

  it("help reads like Lithops's: commands, flags, examples; `runtime` alone lists its subcommands", () => {
    const top = parse("--help");
    assert.equal(top.exitCode, 0);
    for (const word of [
      "hello",
      "clean",
      "runtime",
      "stack",
      "Examples:",
      "npx lithops-aca runtime deploy default --stack dev",
      "npx lithops-aca clean -b local",
      "npx lithops-aca stack destroy --stack dev",
      "./lithops-aca/",
    ]) {
      assert.ok(top.out.includes(word), `--help mentions ${word}`);
    }
    const deploy = parse("runtime", "deploy", "--help");
    for (const flag of [
      "-b, --backend <backend>",
      "-s, --storage <storage>",
      "--stack <stack>",
      "-c, --config <path>",
      "-d, --debug",
      "--memory <mb>",
      "--timeout <seconds>",
    ]) {
      assert.ok(deploy.out.includes(flag), `runtime deploy --help has ${flag}`);
    }
    assert.match(parse("runtime", "build", "--help").out, /-f, --file <path>\s+file needed to build the runtime/);
    const runtime = parse("runtime");
    assert.equal(runtime.exitCode, 1);
    for (const sub of ["build", "deploy", "update", "delete", "list"]) assert.match(runtime.err, new RegExp(`\\n  ${sub} `));
    assert.match(parse("--version").out, /^\d+\.\d+\.\d+\n$/);
  });

  // What `npx lithops-aca` starts, run as npm's bin link runs it: by its shebang (the installed
  // package's npx is tried in test/package/package-trial.test.ts; npx itself costs seconds of npm start-up).
  it("the package's bin (package.json's, built) runs by its shebang on plain Node from the repository", () => {
    const result = spawnSync(CLI_BIN, ["--help"], { cwd: root, encoding: "utf8", timeout: 60_000 });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /Usage: lithops-aca \[options\] \[command\]/);
    const bad = spawnSync(process.execPath, [CLI_BIN, "runtime", "deploy", "--memory", "x"], { encoding: "utf8", timeout: 60_000 });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--memory must be a whole number/);
  });
});

describe("cli: -s/--storage agrees with the backend", () => {
  it("refuses -s local with a backend other than local, naming both and the valid choice", () => {
    const request = parse("hello", "-b", "azure_containers", "-s", "local").request!;
    assert.throws(
      () => resolveBackend(request, {}, {}),
      (error: Error) => error.name === "CliError" && /-s local goes only with -b local; backend azure_containers uses -s azure_storage/.test(error.message),
    );
  });

  it("accepts -s azure_storage with either backend and -s local with -b local", () => {
    assert.equal(resolveBackend(parse("hello", "-b", "azure_containers", "-s", "azure_storage").request!, {}, {}), "azure_containers");
    assert.equal(resolveBackend(parse("hello", "-b", "local", "-s", "azure_storage").request!, {}, {}), "local");
    assert.equal(resolveBackend(parse("hello", "-b", "local", "-s", "local").request!, {}, {}), "local");
  });
});
