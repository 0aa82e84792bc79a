import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { after, describe, it, type TestContext } from "node:test";
import { LOCAL_DATA_DIR_ENV } from "../../client/config.ts";
import { aliveAfter, childProcesses } from "../support/processes.ts";

/**
 * The client's death ends its workers: a client process running a long map on the local
 * backend is ended by SIGINT, SIGTERM, an uncaught exception or SIGKILL; within 3 s no
 * process it started (workers, Azurite) is alive. Its temporary folders are removed by the
 * client itself on a catchable end, and by the next start of the local backend after a
 * SIGKILL. Each client gets a temporary folder of its own as TMPDIR and as data folder.
 */

const CHILD = fileURLToPath(new URL("../support/local-client-child.ts", import.meta.url));
const WITHIN_MS = 3000;

interface Started {
  pid: number;
  workers: number[];
  workerLogDir: string;
}

const scratch = mkdtempSync(join(tmpdir(), "lithops-death-test-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A child client with its own TMPDIR and data folder, once its two workers run. */
async function startClient(mode: string) {
  const tmp = mkdtempSync(join(scratch, "client-"));
  const env = { ...process.env, TMPDIR: tmp, [LOCAL_DATA_DIR_ENV]: join(tmp, "data") };
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, mode], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  assert.ok(!first.done, `the client ended before its workers ran: ${stderr}`);
  const started = JSON.parse(first.value) as Started;
  // Everything the client started: its workers and the data folder's Azurite (started detached, still its child).
  const children = childProcesses(started.pid);
  if (process.platform === "linux") {
    assert.ok(
      children.some((c) => c.command.includes("azurite")),
      `no Azurite among ${JSON.stringify(children)}`,
    );
    for (const worker of started.workers)
      assert.ok(
        children.some((c) => c.pid === worker),
        `worker ${worker} is not a child`,
      );
  }
  return { child, tmp, env, started, pids: [...new Set([...started.workers, ...children.map((c) => c.pid)])], exited, lines, stderr: () => stderr };
}

/** Asserts that every pid is gone within WITHIN_MS of `since`, and reports how long it took. */
async function allGoneWithin(t: TestContext, pids: number[], since: number): Promise<void> {
  assert.deepEqual(await aliveAfter(pids, WITHIN_MS - (Date.now() - since)), []);
  t.diagnostic(`${pids.length} processes it started (workers, Azurite, tsx's esbuild) gone ${Date.now() - since} ms after the client's end`);
}

function leftFolders(tmp: string): string[] {
  return readdirSync(tmp).filter((entry) => entry.startsWith("lithops-"));
}

describe("the client's death ends what it started", () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`${signal}: the client ends by ${signal}, its processes within 3 s, its folders with it`, async (t) => {
      const client = await startClient("wait");
      const sent = Date.now();
      client.child.kill(signal);
      const { code, signal: endedBy } = await client.exited;
      assert.deepEqual({ code, signal: endedBy }, { code: null, signal }, client.stderr());
      await allGoneWithin(t, client.pids, sent);
      assert.deepEqual(leftFolders(client.tmp), []);
      assert.equal(existsSync(join(client.tmp, "data", "users", String(client.started.pid))), false, "the client's lease on the data folder is gone");
    });
  }

  it("an uncaught exception: the client exits with code 1, its processes within 3 s, its folders with it", async (t) => {
    const client = await startClient("throw");
    const { code } = await client.exited;
    const ended = Date.now();
    assert.equal(code, 1);
    assert.match(client.stderr(), /uncaught, on purpose/);
    await allGoneWithin(t, client.pids, ended);
    assert.deepEqual(leftFolders(client.tmp), []);
  });

  it("a SIGINT handler of the user's own decides: the client runs it and exits with its code; then its processes stop", async (t) => {
    const client = await startClient("own-handler");
    client.child.kill("SIGINT");
    const next = await client.lines.next();
    assert.equal(next.value, "user handler");
    const { code, signal } = await client.exited;
    const ended = Date.now();
    assert.deepEqual({ code, signal }, { code: 7, signal: null });
    await allGoneWithin(t, client.pids, ended);
    assert.deepEqual(leftFolders(client.tmp), []);
  });

  it("SIGKILL: its processes stop within 3 s; the next start of the local backend removes its folders", async (t) => {
    const client = await startClient("wait");
    const sent = Date.now();
    client.child.kill("SIGKILL");
    await client.exited;
    await allGoneWithin(t, client.pids, sent);
    assert.ok(existsSync(client.started.workerLogDir), "a SIGKILLed client cannot remove its folder itself");

    const next = spawn(process.execPath, ["--import", "tsx", CHILD, "start"], { env: client.env, stdio: ["ignore", "ignore", "inherit"] });
    const { code } = await new Promise<{ code: number | null }>((resolve) => next.once("exit", (exitCode) => resolve({ code: exitCode })));
    assert.equal(code, 0);
    assert.deepEqual(leftFolders(client.tmp), []);
  });
});
