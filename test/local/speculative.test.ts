import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { FunctionExecutor, ResponseFuture } from "../../client/index.ts";
import { testExecutor } from "../support/executor.ts";
import { sleep } from "../support/processes.ts";

/**
 * Backup calls for stragglers (`speculative: true`, client/speculation.ts) on the local
 * backend: a map of 20 calls of 100 ms where call 7 sleeps STRAGGLER_MS on its first delivery
 * only (it leaves a marker file, so its second run knows it is one).
 */
const CALLS = Array.from({ length: 20 }, (_, i) => i);
const STRAGGLER = 7;
/** Past the bounds below (10 s for the map, 20 s for the mapReduce) with room to spare: the original is still running when they are checked. */
const STRAGGLER_MS = 25_000;

async function straggling(x: number, dir: string, stragglerMs: number): Promise<number> {
  const { existsSync, writeFileSync } = await import("node:fs");
  const first = x === 7 && !existsSync(`${dir}/straggler-started`);
  if (first) writeFileSync(`${dir}/straggler-started`, "");
  await new Promise((resolve) => setTimeout(resolve, first ? stragglerMs : 100));
  if (first) writeFileSync(`${dir}/straggler-finished`, "");
  return x * 2;
}

/** Counts, per future, the outcomes it took: a future that settled twice would count 2. */
function countSettlements(futures: readonly ResponseFuture[]): number[] {
  const counts = futures.map(() => 0);
  futures.forEach((future, index) => {
    const complete = future.complete.bind(future);
    future.complete = (outcome, collected) => {
      const took = complete(outcome, collected);
      if (took) counts[index] += 1;
      return took;
    };
  });
  return counts;
}

/** An executor whose two workers are up and stay up (long cooldown): the timings below measure the map, not start-up. */
function warmExecutor(): { fexec: () => FunctionExecutor; dir: () => string } {
  let fexec: FunctionExecutor | undefined;
  let dir = "";
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "lithops-speculative-"));
    fexec = testExecutor({ maxWorkers: 2, config: { local: { cooldown: 120 } } });
    await fexec.getResult(await fexec.map(async (ms: number) => new Promise((resolve) => setTimeout(resolve, ms)), [1500, 1500], { chunksize: 1 }));
  });
  after(async () => {
    await fexec?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    fexec: () => {
      if (!fexec) throw new Error("the executor exists only while the suite runs");
      return fexec;
    },
    dir: () => dir,
  };
}

describe("speculative: true", () => {
  const { fexec, dir } = warmExecutor();

  it(`a map of 20 calls with one ${STRAGGLER_MS / 1000} s straggler finishes in under 10 s, each call reported once`, { timeout: 120_000 }, async (t) => {
    const started = Date.now();
    const futures = await fexec().map(straggling, CALLS, { extraArgs: [dir(), STRAGGLER_MS], speculative: true });
    const settlements = countSettlements(futures);
    const results = await fexec().getResult(futures, { timeout: 60 });
    const elapsed = Date.now() - started;
    assert.deepEqual(
      results,
      CALLS.map((x) => x * 2),
    );
    assert.ok(elapsed < 10_000, `the map took ${elapsed} ms`);
    assert.equal(futures[STRAGGLER].stats.speculative, "backup", "the backup's outcome won");
    assert.ok(!existsSync(join(dir(), "straggler-finished")), "the original was still running");
    assert.deepEqual(await fexec().getResult(), [], "getResult() reports nothing twice");

    // The original finishes too: its outcome is discarded, nothing settles twice.
    const deadline = Date.now() + 60_000;
    while (!existsSync(join(dir(), "straggler-finished")) && Date.now() < deadline) await sleep(200);
    await sleep(1000); // its status document is written after the call returns
    await fexec().wait(futures, { timeout: 5 });
    assert.deepEqual(await fexec().getResult(futures), results);
    assert.deepEqual(
      settlements,
      CALLS.map(() => 1),
      "each future settled once",
    );
    assert.equal(futures[STRAGGLER].stats.speculative, "backup");
    const backedUp = futures.filter((f) => f.stats.speculative !== undefined).length;
    const cost = await fexec().cost(futures);
    assert.equal(cost.calls, futures.length + backedUp, "the losing copies are billed too");
    t.diagnostic(`20 calls in ${elapsed} ms with speculative: true; ${backedUp} calls in the backed-up batch`);
  });
});

describe("speculative: true on mapReduce", () => {
  const { fexec, dir } = warmExecutor();

  it("the reducer takes the backup's results instead of waiting for the straggler", { timeout: 120_000 }, async (t) => {
    const started = Date.now();
    const futures = await fexec().mapReduce(straggling, CALLS, (values: number[]) => values.reduce((a, b) => a + b, 0), {
      extraArgs: [dir(), STRAGGLER_MS],
      speculative: true,
    });
    const total = await fexec().getResult(futures, { timeout: 60 });
    const elapsed = Date.now() - started;
    assert.equal(total, 380);
    // Well under the straggler's STRAGGLER_MS; looser than the map's bound, as the reducer shares the two workers.
    assert.ok(elapsed < 20_000, `the mapReduce took ${elapsed} ms`);
    assert.ok(!existsSync(join(dir(), "straggler-finished")), "the original was still running");
    t.diagnostic(`mapReduce of 20 calls in ${elapsed} ms with speculative: true`);
  });
});

describe("speculative off (the default)", () => {
  const { fexec, dir } = warmExecutor();

  // Waits the straggler's full time, so that the bound is measured rather than inferred from a state.
  it(`the same map waits for the straggler: at least ${STRAGGLER_MS / 1000} s`, { timeout: 120_000 }, async (t) => {
    const started = Date.now();
    const futures = await fexec().map(straggling, CALLS, { extraArgs: [dir(), STRAGGLER_MS] });
    const results = await fexec().getResult(futures, { timeout: 90 });
    const elapsed = Date.now() - started;
    assert.deepEqual(
      results,
      CALLS.map((x) => x * 2),
    );
    assert.ok(elapsed >= STRAGGLER_MS, `the map took ${elapsed} ms`);
    assert.ok(futures.every((f) => f.stats.speculative === undefined));
    t.diagnostic(`20 calls in ${elapsed} ms without speculative`);
  });
});
