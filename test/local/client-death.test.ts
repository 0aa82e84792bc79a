import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, it, type TestContext } from "node:test";
import { LOCAL_DATA_DIR_ENV } from "../../client/config.ts";
import { aliveAfter, childProcesses } from "../support/processes.ts";
import { repoPath } from "../support/package-paths.ts";

/**
 * The client's death ends its workers: a client process running a long map on the local
 * backend is ended by SIGINT, SIGTERM, an uncaught exception or SIGKILL; within 3 s no
 * process it started (workers, Azurite) is alive. Its temporary folders are removed by the
 * client itself on a catchable end, and by the next start of the local backend after a
 * SIGKILL. Each client gets a temporary folder of its own as TMPDIR and as data folder. The
 * clients are plain JavaScript on the built package (test/support/local-client-child.mjs).
 */

const CHILD = repoPath("test/support/local-client-child.mjs");
const WITHIN_MS = 3000;

interface Started {
  pid: number;
  workers: number[];
  workerLogDir: string;
}

const scratch = mkdtempSync(join(tmpdir(), "lithops-death-test-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A child client with its own TMPDIR and data folder, once its two workers run. `exited` tells when it ended. */
async function startClient(mode: string) {
  const tmp = mkdtempSync(join(scratch, "client-"));
  const env = { ...process.env, TMPDIR: tmp, [LOCAL_DATA_DIR_ENV]: join(tmp, "data") };
  const child = spawn(process.execPath, [CHILD, mode], { env, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal, at: Date.now() })),
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
  t.diagnostic(`${pids.length} processes it started (workers, Azurite) gone ${Date.now() - since} ms after the client's end`);
}

function leftFolders(tmp: string): string[] {
  return readdirSync(tmp).filter((entry) => entry.startsWith("lithops-"));
}

type Client = Awaited<ReturnType<typeof startClient>>;

describe("the client's death ends what it started", () => {
  // The five clients start together (most of each test's time is a client starting Azurite and
  // its workers); the tests then end them one at a time, so no other client's start competes
  // for the CPU while a 3 s bound is measured.
  const clients = new Map<string, Client>();
  const modes = { SIGINT: "wait", SIGTERM: "wait", throw: "throw", "own-handler": "own-handler", SIGKILL: "wait" };
  before(async () => {
    const started = await Promise.allSettled(Object.entries(modes).map(async ([name, mode]) => clients.set(name, await startClient(mode))));
    const failed = started.find((outcome) => outcome.status === "rejected");
    if (failed) throw failed.reason;
  });
  after(() => {
    for (const { child } of clients.values()) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  const client = (name: keyof typeof modes): Client => clients.get(name)!;

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`${signal}: the client ends by ${signal}, its processes within 3 s, its folders with it`, async (t) => {
      const { child, exited, stderr, pids, tmp, started } = client(signal);
      const sent = Date.now();
      child.kill(signal);
      const { code, signal: endedBy } = await exited;
      assert.deepEqual({ code, signal: endedBy }, { code: null, signal }, stderr());
      await allGoneWithin(t, pids, sent);
      assert.deepEqual(leftFolders(tmp), []);
      assert.equal(existsSync(join(tmp, "data", "users", String(started.pid))), false, "the client's lease on the data folder is gone");
    });
  }

  it("an uncaught exception: the client exits with code 1, its processes within 3 s, its folders with it", async (t) => {
    const { child, exited, stderr, pids, tmp } = client("throw");
    child.stdin.write("throw\n");
    const { code, at } = await exited;
    assert.equal(code, 1);
    assert.match(stderr(), /uncaught, on purpose/);
    await allGoneWithin(t, pids, at);
    assert.deepEqual(leftFolders(tmp), []);
  });

  it("a SIGINT handler of the user's own decides: the client runs it and exits with its code; then its processes stop", async (t) => {
    const { child, exited, lines, pids, tmp } = client("own-handler");
    child.kill("SIGINT");
    const next = await lines.next();
    assert.equal(next.value, "user handler");
    const { code, signal, at } = await exited;
    assert.deepEqual({ code, signal }, { code: 7, signal: null });
    await allGoneWithin(t, pids, at);
    assert.deepEqual(leftFolders(tmp), []);
  });

  it("SIGKILL: its processes stop within 3 s; the next start of the local backend removes its folders", async (t) => {
    const { child, exited, pids, started, env, tmp } = client("SIGKILL");
    const sent = Date.now();
    child.kill("SIGKILL");
    await exited;
    await allGoneWithin(t, pids, sent);
    assert.ok(existsSync(started.workerLogDir), "a SIGKILLed client cannot remove its folder itself");

    const next = spawn(process.execPath, [CHILD, "start"], { env, stdio: ["ignore", "ignore", "inherit"] });
    const { code } = await new Promise<{ code: number | null }>((resolve) => next.once("exit", (exitCode) => resolve({ code: exitCode })));
    assert.equal(code, 0);
    assert.deepEqual(leftFolders(tmp), []);
  });
});
