import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import type { FunctionExecutor, ResponseFuture } from "../../client/index.ts";
import { LithopsError } from "../../client/errors.ts";
import { MAX_WORKER_ROWS, PER_CALL_LIMIT, PLOT_MARKS, PLOT_MODULES, plotFutures, type PlottedCall, type PlotPaths } from "../../client/plot.ts";
import { PlotPackagesMissingError } from "../../client/errors.ts";
import { testExecutor } from "../support/executor.ts";
import { chartTitle, markGroups, markItems, parseSvg, type SvgElement } from "../support/svg.ts";
import { REPO_ROOT } from "../support/package-paths.ts";

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
    assert.deepEqual(
      labels.map((l) => l.call).sort((a, b) => a - b),
      Array.from({ length: CALLS }, (_, i) => i),
    );
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
    assert.equal(markItems(svg, PLOT_MARKS.failed).length, 1, "one red cross, for the one failed call");
    assert.match(chartTitle(svg).title, new RegExp(`^Execution timeline: ${CALLS} calls on \\d+ workers?; 1 more not finished \\(not drawn\\)$`));
    // The cost estimate of the calls drawn (fexec.cost(), client/cost.ts) is the last subtitle line.
    assert.match(
      chartTitle(svg).subtitle,
      /Estimated cost on Azure Container Apps: \$[\d.]+ \([\d,]+ replica-seconds on \d+ replicas?, \d+% of compute after the last call; [\d,]+ storage requests; westus2 prices of 2026-09-19\)$/,
    );
  });

  it("histogram: the bar counts add up to the number of finished calls", async () => {
    const svg = await readSvg((await fexec.plot(undefined, dir)).histogram);
    const bars = markItems(svg, PLOT_MARKS.bars);
    assert.ok(bars.length >= 2, `durations from 0 to 165 ms fall in several bins, got ${bars.length}`);
    const barCounts = bars.map((bar) => Number(/calls: (\d+)/.exec(bar.attributes["aria-label"] ?? "")?.[1]));
    assert.equal(
      barCounts.reduce((a, b) => a + b, 0),
      CALLS,
    );
    const labelCounts = markItems(svg, PLOT_MARKS.counts).map((text) => Number(text.text.replaceAll(",", "")));
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

/** The bound on every picture plot() writes, whatever the number of calls. */
const MAX_SVG_BYTES = 1.5e6;

/**
 * Finished calls as a real job would leave them, without running them: `workers` workers come
 * up one after another over the first 30 s and take the calls in turn; durations vary from
 * 0.5 to 1.5 s, every 50th call fails, and every 500th runs ten times as long.
 */
function syntheticJob(calls: number, workers: number, workerId = (w: number) => `local-4242-${w}`): PlottedCall[] {
  const origin = 1_700_000_000_000;
  const free = Array.from({ length: workers }, (_, w) => origin + 2000 + (30_000 * w) / workers);
  return Array.from({ length: calls }, (_, call) => {
    const worker = call % workers;
    const submitted = origin + Math.floor((1000 * call) / calls);
    const started = Math.max(free[worker], submitted) + 5;
    const finished = started + (500 + ((call * 7919) % 1000)) * (call % 500 === 499 ? 10 : 1);
    free[worker] = finished;
    return {
      jobId: "M000",
      callId: String(call).padStart(5, "0"),
      status: call % 50 === 49 ? "error" : "success",
      done: true,
      stats: { submitted, started, finished, workerId: workerId(worker), attempt: 1, argumentBytes: 20, batch: Math.floor(call / 20) },
    };
  });
}

/** The y of a per-worker cell, a `<path d="M x,y h.. v.. h.. Z">`: one value per row. */
function cellRow(cell: SvgElement): string {
  const y = /^M[^,]+,([^h]+)h/.exec(cell.attributes.d ?? "")?.[1];
  assert.ok(y !== undefined, `unexpected cell path: ${cell.attributes.d}`);
  return y;
}

describe("plot: pictures at any size (synthesized calls)", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "lithops-plot-scale-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Plots the calls and checks what every picture must do: stay under the size bound and state the number of calls. */
  async function plotChecked(calls: PlottedCall[], name: string): Promise<{ paths: PlotPaths; timeline: SvgElement; histogram: SvgElement }> {
    const paths = await plotFutures(calls, dir, name);
    for (const path of paths) {
      const bytes = (await stat(path)).size;
      assert.ok(bytes < MAX_SVG_BYTES, `${basename(path)} is ${bytes} bytes, more than ${MAX_SVG_BYTES}`);
    }
    const count = calls.length.toLocaleString("en-US");
    const timeline = await readSvg(paths.timeline);
    assert.match(chartTitle(timeline).title, new RegExp(`^Execution timeline: ${count} calls on `));
    const histogram = await readSvg(paths.histogram);
    assert.equal(chartTitle(histogram).title, `Call durations: ${count} calls`);
    return { paths, timeline, histogram };
  }

  it("500 calls: a bar per call, each labelled with its call, worker and status", async () => {
    const calls = syntheticJob(500, 8);
    const { timeline } = await plotChecked(calls, "calls-500");
    const labels = markItems(timeline, PLOT_MARKS.run).map(parseLabel);
    assert.deepEqual(
      labels.map((l) => l.call),
      calls.map((_, i) => i),
    );
    for (const label of labels) {
      const call = calls[label.call];
      assert.equal(label.id, `M000/${call.callId}`);
      assert.equal(label.worker, call.stats.workerId);
      assert.equal(label.status, call.status);
    }
    assert.equal(markItems(timeline, PLOT_MARKS.failed).length, 10, "a red cross per failed call (every 50th)");
    assert.equal(markGroups(timeline, PLOT_MARKS.running).length, 0, "no aggregated view");
  });

  it(`${PER_CALL_LIMIT.toLocaleString("en-US")} calls, all failed, on workers with long names: still a bar each, and under the bound`, async () => {
    const calls = syntheticJob(PER_CALL_LIMIT, 50, (w) => `lithops-aca-default-node22-4096--rev12-7d9f8c6b5-${String(w).padStart(5, "x")}`);
    for (const call of calls) call.status = "error";
    const { timeline } = await plotChecked(calls, "calls-limit");
    assert.equal(markItems(timeline, PLOT_MARKS.run).length, PER_CALL_LIMIT);
    assert.equal(markItems(timeline, PLOT_MARKS.failed).length, PER_CALL_LIMIT);
  });

  it("5,000 calls: calls running and done over time and per worker instead of a bar per call", async () => {
    const { timeline, histogram } = await plotChecked(syntheticJob(5000, 20), "calls-5000");
    assert.equal(markGroups(timeline, PLOT_MARKS.run).length, 0, "no per-call bars above the limit");
    assert.equal(markItems(timeline, PLOT_MARKS.running).length, 1, "one area of calls running");
    const series = markGroups(timeline, PLOT_MARKS.progress).flatMap((group) => group.children.map((line) => line.attributes.stroke));
    assert.deepEqual(new Set(series).size, 4, "submitted, started, finished and failed lines");
    const cells = markItems(timeline, PLOT_MARKS.workers);
    const rows = new Set(cells.map(cellRow));
    assert.equal(rows.size, 20, "a row per worker");
    assert.match(chartTitle(timeline).subtitle, /100 calls failed/);
    const bars = markItems(histogram, PLOT_MARKS.bars).map((bar) =>
      Number(/calls: ([\d,]+)/.exec(bar.attributes["aria-label"] ?? "")?.[1].replaceAll(",", "")),
    );
    assert.equal(
      bars.reduce((a, b) => a + b, 0),
      5000,
    );
  });

  it("100,000 calls on 400 workers: the same views, at most the row limit of workers", async () => {
    const { timeline } = await plotChecked(syntheticJob(100_000, 400), "calls-100000");
    const cells = markItems(timeline, PLOT_MARKS.workers);
    const rows = new Set(cells.map(cellRow));
    assert.equal(rows.size, MAX_WORKER_ROWS, `400 workers in ${MAX_WORKER_ROWS} rows`);
    assert.match(chartTitle(timeline).subtitle, /2,000 calls failed/);
  });
});

describe("plot: vega and vega-lite are optional", () => {
  /** A loader for a package that is not installed: Node's own error for a missing module. */
  const notInstalled = (name: string) => () => import(`${name}-not-installed`);

  it("names exactly the missing package, writes nothing, and extends LithopsError", async () => {
    const dir = join(tmpdir(), `lithops-plot-missing-${process.pid}`);
    const error = await plotFutures([], dir, "x", { ...PLOT_MODULES, "vega-lite": notInstalled("vega-lite") }).then(
      () => assert.fail("plot() succeeded without vega-lite"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof PlotPackagesMissingError && error instanceof LithopsError);
    assert.match(error.message, /install them with: npm install vega-lite$/);
    assert.equal(existsSync(dir), false, "no folder made");
  });

  it("passes other load failures on as they are", async () => {
    const broken = new Error("vega failed to initialize");
    await assert.rejects(plotFutures([], tmpdir(), "x", { ...PLOT_MODULES, vega: () => Promise.reject(broken) }), (e) => e === broken);
  });

  it("the client loads without them, and plot() then says: npm install vega vega-lite", async () => {
    // A resolve hook sends "vega" and "vega-lite" to names that are not installed, as if they were missing.
    const hook = `export async function resolve(specifier, context, next) { return next(specifier === "vega" || specifier === "vega-lite" ? specifier + "-not-installed" : specifier, context); }`;
    const register = `import { register } from "node:module"; register("data:text/javascript,${encodeURIComponent(hook)}");`;
    const root = REPO_ROOT;
    const script = `
      const client = await import("./dist/client/index.js");
      const { plotFutures } = await import("./dist/client/plot.js");
      try { await plotFutures([], "plots-never-written", "x"); } catch (e) { console.log(JSON.stringify({ client: typeof client.FunctionExecutor, name: e.name, message: e.message })); }`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", `data:text/javascript,${encodeURIComponent(register)}`, "--input-type=module", "-e", script],
      { cwd: root },
    );
    const outcome = JSON.parse(stdout) as { client: string; name: string; message: string };
    assert.equal(outcome.client, "function");
    assert.equal(outcome.name, "PlotPackagesMissingError");
    assert.match(outcome.message, /^plot\(\) draws with vega and vega-lite, .* install them with: npm install vega vega-lite$/);
    assert.equal(existsSync(join(root, "plots-never-written")), false);
  });
});
