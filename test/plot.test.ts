import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { FunctionExecutor, ResponseFuture } from "../client/index.ts";
import { PLOT_MARKS, plotFutures } from "../client/plot.ts";
import { testExecutor } from "./support/executor.ts";
import { markItems, parseSvg, type SvgElement } from "./support/svg.ts";

const CALLS = 12;
const FAILING = 7;

/** "call 3 M000/00003 on local-1: success, queued 0.210 s, ran 0.102 s" */
function parseLabel(item: SvgElement): { call: number; id: string; worker: string; status: string; ran: string } {
  const match = /^call (\d+) (\S+) on (\S+): (\w+), queued [\d.]+ s, ran ([\d.]+) s$/.exec(item.attributes["aria-label"] ?? "");
  assert.ok(match, `unexpected mark label: ${item.attributes["aria-label"]}`);
  return { call: Number(match[1]), id: match[2], worker: match[3], status: match[4], ran: match[5] };
}

async function readSvg(path: string): Promise<SvgElement> {
  const svg = parseSvg(await readFile(path, "utf8"));
  assert.ok(Number(svg.attributes.width) > 100 && Number(svg.attributes.height) > 100, "the image has a size");
  return svg;
}

describe("plot: timeline and histogram of a job on the local backend", () => {
  let fexec: FunctionExecutor;
  let dir: string;
  let mapped: ResponseFuture[];
  let slow: ResponseFuture;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "lithops-plot-"));
    fexec = testExecutor();
    mapped = await fexec.map(
      async (ms: number) => {
        await new Promise((resolve) => setTimeout(resolve, ms));
        if (ms === 7 * 15) throw new Error("seven");
        return ms;
      },
      Array.from({ length: CALLS }, (_, i) => i * 15),
    );
    await fexec.getResult(mapped, { throwExcept: false });
    // Still running when plot() is called: not drawn.
    slow = await fexec.callAsync(async () => new Promise((resolve) => setTimeout(resolve, 1500)), null);
  });
  after(async () => {
    await fexec.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("writes two SVG files and returns their paths", async () => {
    const paths = await fexec.plot(undefined, dir);
    assert.equal(paths.length, 2);
    assert.equal(paths.timeline, paths[0]);
    assert.equal(paths.histogram, paths[1]);
    assert.equal(basename(paths.timeline), `${fexec.executorId}-timeline.svg`);
    assert.equal(basename(paths.histogram), `${fexec.executorId}-histogram.svg`);
    for (const path of paths) {
      assert.equal(dirname(path), dir);
      assert.ok(existsSync(path));
    }
  });

  it("timeline: exactly one run line per finished call, colored by worker, none for the unfinished call", async () => {
    assert.equal(slow.done, false, "the slow call must still be running for this test");
    const svg = await readSvg((await fexec.plot(undefined, dir)).timeline);
    const runs = markItems(svg, PLOT_MARKS.run);
    assert.equal(runs.length, CALLS);
    assert.ok(runs.every((item) => item.name === "line"));
    const labels = runs.map(parseLabel);
    assert.deepEqual(labels.map((l) => l.call).sort((a, b) => a - b), Array.from({ length: CALLS }, (_, i) => i));
    for (const label of labels) {
      const future = mapped[label.call];
      assert.equal(label.id, `${future.jobId}/${future.callId}`);
      assert.equal(label.worker, future.stats.workerId);
      assert.equal(label.status, label.call === FAILING ? "error" : "success");
      assert.equal(label.ran, (((future.stats.finished ?? NaN) - (future.stats.started ?? NaN)) / 1000).toFixed(3));
    }
    // One color per worker: calls of the same worker share a stroke, different workers differ.
    const colorOf = new Map<string, string>();
    runs.forEach((item, i) => {
      const stroke = item.attributes.stroke;
      const known = colorOf.get(labels[i].worker);
      if (known) assert.equal(stroke, known);
      colorOf.set(labels[i].worker, stroke);
    });
    assert.equal(new Set(colorOf.values()).size, colorOf.size);
    assert.equal(markItems(svg, PLOT_MARKS.queued).length, CALLS);
    const failed = markItems(svg, PLOT_MARKS.failed).map(parseLabel);
    assert.deepEqual(failed.map((l) => l.call), [FAILING]);
  });

  it("histogram: the bar counts add up to the number of finished calls", async () => {
    const svg = await readSvg((await fexec.plot(undefined, dir)).histogram);
    const bars = markItems(svg, PLOT_MARKS.bars);
    assert.ok(bars.length >= 2, `durations from 0 to 165 ms fall in several bins, got ${bars.length}`);
    const barCounts = bars.map((bar) => Number(/calls: (\d+)/.exec(bar.attributes["aria-label"] ?? "")?.[1]));
    assert.equal(barCounts.reduce((a, b) => a + b, 0), CALLS);
    const labelCounts = markItems(svg, PLOT_MARKS.counts).map((text) => Number(text.text));
    assert.deepEqual(labelCounts, barCounts);
  });

  it("draws only the given futures, and takes a dir as the only argument", async () => {
    const subdir = join(dir, "some", "calls");
    const paths = await fexec.plot(mapped.slice(0, 3), subdir);
    const runs = markItems(await readSvg(paths.timeline), PLOT_MARKS.run).map(parseLabel);
    assert.deepEqual(runs.map((l) => l.call).sort(), [0, 1, 2]);
    await slow.result();
    const all = await fexec.plot(join(dir, "all"));
    assert.equal(dirname(all.timeline), join(dir, "all"));
    assert.equal(markItems(await readSvg(all.timeline), PLOT_MARKS.run).length, CALLS + 1);
  });
});

describe("plot: no finished calls", () => {
  it("still writes two valid, empty charts", async () => {
    const dir = await mkdtemp(join(tmpdir(), "lithops-plot-empty-"));
    try {
      const paths = await plotFutures([], dir, "empty");
      const timeline = await readSvg(paths.timeline);
      assert.equal(markItems(timeline, PLOT_MARKS.run).length, 0);
      const histogram = await readSvg(paths.histogram);
      assert.equal(markItems(histogram, PLOT_MARKS.bars).length, 0);
      assert.match(await readFile(paths.histogram, "utf8"), /no finished calls/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
