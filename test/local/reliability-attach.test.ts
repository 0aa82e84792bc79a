import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { after, before, describe, it } from "node:test";
import { JobNotFoundError, type FunctionExecutor } from "../../client/index.ts";
import { startAzurite, type Azurite } from "../../local/azurite.ts";
import { testExecutor } from "../support/executor.ts";
import { aliveAfter } from "../support/processes.ts";
import { repoPath } from "../support/package-paths.ts";

/**
 * A client killed (SIGKILL) right after submitting a map; a new client in another process
 * re-attaches to the job by its ids (FunctionExecutor.attach, reading the job manifest the
 * first client wrote at submit) and collects every result exactly once. The storage is an
 * Azurite both clients reach (local.connection_string) and both share the signing key, as
 * two clients of one Azure stack would.
 */
const CHILD = repoPath("test/support/attach-child.mjs");
const CALLS = 400;

async function firstLine(child: ChildProcess): Promise<string> {
  let text = "";
  let errors = "";
  child.stderr?.on("data", (chunk: Buffer) => (errors += chunk.toString()));
  for await (const chunk of child.stdout!) {
    text += (chunk as Buffer).toString();
    if (text.includes("\n")) return text.split("\n")[0];
  }
  throw new Error(`the child client exited before submitting:\n${errors}`);
}

describe("a client killed after submitting; another re-attaches by the job's ids", () => {
  let azurite: Azurite;
  const signingKey = randomBytes(32).toString("base64url");
  let fexec: FunctionExecutor;
  before(async () => {
    azurite = await startAzurite();
    fexec = testExecutor({ config: { local: { connection_string: azurite.connectionString, visibility_timeout: 3 }, lithops: { signing_key: signingKey } } });
  });
  after(async () => {
    await fexec.close();
    await azurite.stop();
  });

  it("collects all results of the killed client's map, none lost, none twice", async (t) => {
    const child = spawn(process.execPath, [CHILD, azurite.connectionString, signingKey, String(CALLS)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = once(child, "exit");
    const { executorId, jobIds, workerPids } = JSON.parse(await firstLine(child)) as { executorId: string; jobIds: string[]; workerPids: number[] };
    assert.ok(workerPids.length > 0, "the child started workers");
    child.kill("SIGKILL");
    await exited;
    // Its workers notice that their client is gone and stop (parent-watchdog.cjs) instead of running on as orphans.
    assert.deepEqual(await aliveAfter(workerPids, 35_000), [], "the killed client's workers exited");

    const attached = await fexec.attach(executorId);
    assert.equal(attached.length, CALLS);
    assert.deepEqual([...new Set(attached.map((f) => f.jobId))], jobIds);
    const results = (await fexec.getResult()) as number[];
    assert.equal(results.length, CALLS);
    assert.equal(
      results.findIndex((v, i) => v !== i * 3),
      -1,
    );
    assert.ok(attached.every((f) => f.status === "success" && f.executorId === executorId));
    const byKilledClient = attached.filter((f) => f.stats.workerId?.startsWith(`local-${child.pid}-`)).length;
    assert.ok(byKilledClient > 0 && byKilledClient < CALLS, `${byKilledClient} calls done by the killed client's workers: the kill was not mid-job`);
    t.diagnostic(
      `calls ${CALLS}, completed ${results.length} (${byKilledClient} by the killed client's workers, ${CALLS - byKilledClient} by the new client's), re-run ${attached.filter((f) => (f.stats.attempt ?? 1) > 1).length}`,
    );

    // Attaching by explicit job ids gives the same calls, already collected ones included.
    const again = await fexec.attach(executorId, jobIds);
    assert.deepEqual(await fexec.getResult(again), results);
  });

  it("refuses ids that could reach outside lithops.jobs/<executor>/<job>/ and names a job that does not exist", async () => {
    await assert.rejects(fexec.attach("../../lithops.runtimes", ["M000"]), /executor id "..\/..\/lithops.runtimes" is not valid/);
    await assert.rejects(fexec.attach("abc-1", ["M000/../../x"]), /job id "M000\/..\/..\/x" is not valid/);
    await assert.rejects(
      fexec.attach("abc-1", ["M000"]),
      (error: unknown) => error instanceof JobNotFoundError && /job abc-1\/M000 not found/.test(error.message),
    );
    assert.deepEqual(await fexec.attach("never-submitted"), []);
  });
});
