import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { execute } from "../../cli/commands.ts";
import { parseCommandLine } from "../../cli/main.ts";
import { executorWithObjects } from "../support/executor.ts";

/** Runs a command line in-process from `cwd`, as the `lithops-aca` command does; no config file is read unless -c. */
async function run(argv: string[], cwd: string): Promise<{ status: number; out: string; err: string }> {
  const { request } = parseCommandLine(argv, { writeOut: () => undefined, writeErr: () => undefined });
  assert.ok(request, `${argv.join(" ")} did not parse`);
  const out: string[] = [];
  const err: string[] = [];
  const env = { ...process.env, LITHOPS_STACK: "", LITHOPS_CONFIG_FILE: join(cwd, "no-config"), HOME: cwd };
  const status = await execute(request, { out: (line) => out.push(line), err: (line) => err.push(line), debug: request.debug }, env, cwd);
  return { status, out: out.join("\n"), err: err.join("\n") };
}

/** The command line's rough edges a new user met first (issue 17, point 6). */
describe("CLI rough edges of the first hour", () => {
  let project: string;
  before(() => {
    project = mkdtempSync(join(tmpdir(), "lithops-cli-first-hour-"));
    writeFileSync(join(project, "package.json"), '{ "name": "first-hour", "type": "module" }\n');
  });
  after(() => rmSync(project, { recursive: true, force: true }));

  it("-b localhost is the local backend, as in the config file and the executor's option", () => {
    const { request } = parseCommandLine(["runtime", "list", "-b", "localhost"], { writeOut: () => undefined, writeErr: () => undefined });
    assert.equal(request?.backend, "local");
  });

  it("runtime deploy -b local says the local backend needs no deploy, without asking for the Pulumi packages", async () => {
    for (const argv of [
      ["runtime", "deploy", "default", "-b", "local"],
      ["runtime", "build", "myimage:1", "-b", "localhost"],
    ]) {
      const { status, err } = await run(argv, project);
      assert.equal(status, 1);
      assert.match(err, /the local backend has nothing to build or deploy: its runtime starts with the first job/);
      assert.doesNotMatch(err, /npm install|@pulumi/);
    }
  });

  it("a read-only stack command that fails (no Pulumi CLI here) leaves no lithops-aca/Pulumi.yaml behind", async () => {
    const path = process.env.PATH;
    // Only node's own folder: no `pulumi` on PATH, whatever this machine has installed.
    process.env.PATH = dirname(process.execPath);
    try {
      const { status } = await run(["runtime", "list", "--stack", "dev"], project);
      assert.equal(status, 1);
    } finally {
      process.env.PATH = path;
    }
    assert.ok(!existsSync(join(project, "lithops-aca")), "the stack folder was left behind");
  });

  it("clean -b local, refused while a program uses the data folder, names that program, not its Azurite", async () => {
    const { fexec } = await executorWithObjects({ "first-hour.txt": "in use" });
    try {
      const { status, err } = await run(["clean", "-b", "local"], project);
      assert.equal(status, 1);
      assert.match(err, new RegExp(`is in use by process ${process.pid} \\(through its Azurite, process \\d+\\): close that executor`));
    } finally {
      await fexec.close();
    }
  });
});
