import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { after, describe, it } from "node:test";
import { CallCancelledError } from "../../client/index.ts";
import { testExecutor } from "../support/executor.ts";
import { MODULE_EXEC_ARGV, runningModule } from "../support/package-paths.ts";

/**
 * Calls belong to the program that made them: programs on one data folder (the tests' own,
 * inherited by the child programs) share its storage but not their calls. Each program's
 * calls go to its own queues (azure/runtime-name.ts's programQueues), so what an interrupted
 * program left does not run in the next one, and each program's functions resolve packages
 * from its own project.
 */

const scratch = mkdtempSync(join(tmpdir(), "lithops-program-queues-test-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe("a program interrupted with Ctrl-C", () => {
  it("ends as Ctrl-C ends it, cancels its unfinished calls (an attach says so at once), and leaves nothing in the way of the next program", async () => {
    const child = spawn(process.execPath, [...MODULE_EXEC_ARGV, runningModule("test/support/interrupted-map-child")], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
    let executorId = "";
    for await (const line of createInterface({ input: child.stdout }))
      if (line.startsWith("running ")) {
        executorId = line.slice("running ".length);
        break;
      }
    child.kill("SIGINT");
    // The signal is raised again once the calls are cancelled, so the shell sees a Ctrl-C (exit status 130).
    assert.equal(await exited, "SIGINT");
    const fexec = testExecutor({ maxWorkers: 2 });
    try {
      const started = Date.now();
      assert.equal(await fexec.getResult(await fexec.callAsync((x: number) => x + 1, 1)), 2);
      // Before per-program queues this took minutes: the next program's workers ran the 200 calls first.
      const seconds = (Date.now() - started) / 1000;
      assert.ok(seconds < 30, `the one call took ${seconds} s`);

      const attached = await fexec.attach(executorId);
      assert.equal(attached.length, 200);
      const cancelled = attached.filter((future) => future.done && future.error() instanceof CallCancelledError);
      // The two running calls may have finished before the signal; every other one was cancelled, and attach knows it without a worker.
      assert.ok(cancelled.length >= 196, `${cancelled.length} of 200 settled as cancelled at attach`);
      await fexec.wait(attached, { returnWhen: "ALL_COMPLETED", throwExcept: false, timeout: 60 });
      assert.ok(attached.every((future) => future.done));
    } finally {
      await fexec.close();
    }
  });
});

/** A project folder with its own node_modules/mypkg, and a program in it mapping `require("mypkg")`. */
function project(name: string): string {
  const dir = join(scratch, name);
  mkdirSync(join(dir, "node_modules", "mypkg"), { recursive: true });
  writeFileSync(join(dir, "node_modules", "mypkg", "package.json"), JSON.stringify({ name: "mypkg", version: "1.0.0", main: "index.js" }));
  writeFileSync(join(dir, "node_modules", "mypkg", "index.js"), `module.exports = (x) => ${JSON.stringify(name)} + ":" + x;\n`);
  const support = pathToFileURL(runningModule("test/support/executor")).href;
  writeFileSync(
    join(dir, "main.mjs"),
    `import { testExecutor } from ${JSON.stringify(support)};
const fexec = testExecutor({ maxWorkers: 2 });
const futures = await fexec.map((x) => require("mypkg")(x), Array.from({ length: 20 }, (_, i) => i));
console.log(JSON.stringify(await fexec.getResult(futures)));
await fexec.close();
`,
  );
  return join(dir, "main.mjs");
}

describe("two projects with different packages on one data folder", () => {
  it("map at the same time, and each one's functions resolve its own packages", async () => {
    const run = (main: string) => promisify(execFile)(process.execPath, [...MODULE_EXEC_ARGV, main], { env: process.env });
    const [a, b] = await Promise.all([run(project("projecta")), run(project("projectb"))]);
    const expected = (name: string) => Array.from({ length: 20 }, (_, i) => `${name}:${i}`);
    assert.deepEqual(JSON.parse(a.stdout.trim().split("\n").at(-1) ?? ""), expected("projecta"));
    assert.deepEqual(JSON.parse(b.stdout.trim().split("\n").at(-1) ?? ""), expected("projectb"));
  });
});
