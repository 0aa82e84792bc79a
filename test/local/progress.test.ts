import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { startProgress, type ProgressStream } from "../../client/progress.ts";
import { repoPath } from "../support/package-paths.ts";

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]/g;

/** A stream that records what is written; isTTY and columns as given. */
function fakeStream(isTTY: boolean, columns = 100): ProgressStream & { chunks: string[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  return Object.assign(stream, { isTTY, columns, chunks });
}

/** The bar lines drawn, escape codes removed. */
function lines(stream: { chunks: string[] }): string[] {
  return stream.chunks.map((c) => c.replace(ANSI, "")).filter((c) => c.includes("calls"));
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("progress bar", () => {
  it("on a terminal: shows done/total, failures and the rate, and the final state on stop", async () => {
    const stream = fakeStream(true);
    const progress = startProgress(10, true, stream);
    assert.match(lines(stream)[0], /^ {2}\S+ 0\/10 calls \| 0 failed \| 0 calls\/s \| \d+s$/);
    await sleep(500);
    progress.update(5, 1);
    await sleep(250); // cli-progress redraws at most every 100 ms
    const shown = lines(stream).at(-1) ?? "";
    const match = /^ {2}\S+ 5\/10 calls \| 1 failed \| ([\d.]+) calls\/s \| \d+s$/.exec(shown);
    assert.ok(match, `bar line: ${JSON.stringify(shown)}`);
    // 5 calls done about 0.5 s after the start: about 10 calls/s.
    assert.ok(Number(match[1]) > 4 && Number(match[1]) <= 10.5, `rate ${match[1]}`);
    progress.update(10, 2);
    progress.stop();
    assert.match(lines(stream).at(-1) ?? "", / 10\/10 calls \| 2 failed \| /);
    const count = stream.chunks.length;
    progress.update(10, 2);
    progress.stop();
    await sleep(150);
    assert.equal(stream.chunks.length, count, "nothing is drawn after stop");
  });

  it("fits the terminal's width: the bar shrinks before the numbers are cut, and never wraps", async () => {
    for (const columns of [40, 70, 80, 200]) {
      const stream = fakeStream(true, columns);
      const progress = startProgress(1000, true, stream);
      await sleep(50);
      progress.update(999, 999);
      progress.stop();
      const last = lines(stream).at(-1) ?? "";
      assert.ok(last.length <= columns, `${last.length} > ${columns}: ${last}`);
      if (columns >= 70) assert.match(last, /999\/1000 calls \| 999 failed \| [\d.]+ calls\/s \| \d+s$/);
      else assert.match(last, /999\/1000 calls/);
    }
  });

  it("is silent when the stream is not a terminal, when turned off, and for one call", async () => {
    for (const [stream, total, enabled] of [
      [fakeStream(false), 10, true],
      [fakeStream(true), 10, false],
      [fakeStream(true), 1, true],
    ] as const) {
      const progress = startProgress(total, enabled, stream);
      progress.update(1, 1);
      await sleep(120);
      progress.update(total, 0);
      progress.stop();
      assert.deepEqual(stream.chunks, [], `total ${total}, enabled ${enabled}, isTTY ${stream.isTTY}`);
    }
  });
});

// Each child program has a data folder, Azurite and workers of its own (test/support/executor.ts, run from its build): they run at once.
describe("progress bar of getResult on the local backend (child processes)", { concurrency: true }, () => {
  const child = repoPath("test/support/progress-child.mjs");
  const run = (...args: string[]): Promise<{ stdout: string; stderr: string }> => promisify(execFile)(process.execPath, [child, ...args], { timeout: 80_000 });

  it("draws on a terminal: 20/20 calls with 1 failure", async () => {
    const { stdout, stderr } = await run("on", "tty");
    assert.equal(stdout, "results 20\n");
    const drawn = stderr.replace(ANSI, "");
    assert.match(drawn, / 20\/20 calls \| 1 failed \| [\d.]+ calls\/s/);
  });

  it("advances per call, not per batch: 200 calls of 100 ms on 2 workers", { timeout: 90_000 }, async () => {
    const { stdout, stderr } = await run("on", "tty", "200", "100");
    assert.equal(stdout, "results 200\n");
    const counts = [...stderr.replace(ANSI, "").matchAll(/ (\d+)\/200 calls/g)].map((m) => Number(m[1]));
    // Before the last batch ends the count stays below 200: every increase there came from batches still running or just ended.
    const increases = counts.filter((count, i) => i > 0 && count > counts[i - 1] && count < 200);
    assert.ok(increases.length >= 5, `counts shown: ${counts.join(" ")}`);
    // The plan gives 8 batches of 25 calls: counts between multiples of 25 come from per-call progress.
    assert.ok(
      increases.some((count) => count % 25 !== 0),
      `counts shown: ${counts.join(" ")}`,
    );
  });

  it("stays quiet when stderr is not a terminal, and when progress is off", async () => {
    const [piped, off] = await Promise.all([run("on"), run("off", "tty")]);
    for (const { stdout, stderr } of [piped, off]) {
      assert.equal(stdout, "results 20\n");
      assert.doesNotMatch(stderr, /calls \|/);
    }
  });
});
