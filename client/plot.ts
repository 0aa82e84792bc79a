/**
 * `fexec.plot()`: an execution timeline and a histogram of call durations, drawn with
 * Vega-Lite and rendered to SVG by Vega in Node (no canvas, no browser).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { TopLevelSpec } from "vega-lite";
import type { ResponseFuture } from "./response-future.ts";

/** The two files plot() writes: `[timeline, histogram]`, also by name. */
export type PlotPaths = [timeline: string, histogram: string] & { timeline: string; histogram: string };

/** Names of the Vega marks drawn, one item per call (tests and tools can find them in the SVG by class). */
export const PLOT_MARKS = {
  /** Timeline: a line per call from started to finished, colored by worker. */
  run: "run_marks",
  /** Timeline: a thin gray line per call from submitted to started. */
  queued: "queued_marks",
  /** Timeline: a red cross at the finish of each failed call. */
  failed: "failed_marks",
  /** Histogram: a bar per duration bin. */
  bars: "bars_marks",
  /** Histogram: the count of calls above each bar. */
  counts: "counts_marks",
} as const;

interface CallPoint {
  call: number;
  /** The mark's description (aria-label in the SVG): "call 3 M000/00003 on local-1: success, queued 0.210 s, ran 0.102 s". */
  label: string;
  id: string;
  worker: string;
  status: string;
  attempt: number;
  submitted: number;
  started: number;
  finished: number;
  queued: number;
  duration: number;
}

const WIDTH = 760;
const FONT = "Helvetica, Arial, sans-serif";

/** Where plot() writes when no dir is given, as in Lithops: `plots/` in the working directory. */
export const DEFAULT_PLOT_DIR = "plots";

/**
 * What `fexec.plot(fs?, dir?)` does: fs is a future, a list of them, or undefined for every
 * call of the executor; a string as the first argument is taken as dir.
 */
export function plotCalls(
  all: readonly ResponseFuture[],
  executorId: string,
  fs?: ResponseFuture | readonly ResponseFuture[] | string,
  dir?: string,
): Promise<PlotPaths> {
  if (typeof fs === "string") return plotFutures(all, fs, executorId);
  const futures = fs === undefined ? all : Array.isArray(fs) ? (fs as readonly ResponseFuture[]) : [fs as ResponseFuture];
  return plotFutures(futures, dir ?? DEFAULT_PLOT_DIR, executorId);
}

/**
 * Writes `<executorId>-timeline.svg` and `<executorId>-histogram.svg` into dir (created
 * if missing) for the finished futures among fs, and returns their paths.
 */
export async function plotFutures(futures: readonly ResponseFuture[], dir: string, name: string): Promise<PlotPaths> {
  const points = callPoints(futures);
  await mkdir(dir, { recursive: true });
  const timeline = resolve(join(dir, `${name}-timeline.svg`));
  const histogram = resolve(join(dir, `${name}-histogram.svg`));
  await writeFile(timeline, await renderSvg(timelineSpec(points, futures.length)));
  await writeFile(histogram, await renderSvg(histogramSpec(points)));
  return Object.assign([timeline, histogram] as [string, string], { timeline, histogram });
}

/** Finished calls, with times in seconds since the first submit among them. */
function callPoints(futures: readonly ResponseFuture[]): CallPoint[] {
  const finished = futures
    .map((future, call) => ({ future, call }))
    .filter(({ future }) => future.done && future.stats.started !== undefined && future.stats.finished !== undefined);
  const origin = Math.min(...finished.map(({ future }) => future.stats.submitted));
  const seconds = (ms: number): number => (ms - origin) / 1000;
  return finished.map(({ future, call }) => {
    const { submitted, started = submitted, finished: end = started, workerId, attempt } = future.stats;
    const queued = Math.max(started - submitted, 0) / 1000;
    const duration = Math.max(end - started, 0) / 1000;
    const worker = workerId ?? "unknown";
    return {
      call,
      label: `call ${call} ${future.jobId}/${future.callId} on ${worker}: ${future.status}, queued ${queued.toFixed(3)} s, ran ${duration.toFixed(3)} s`,
      id: `${future.jobId}/${future.callId}`,
      worker,
      status: future.status,
      attempt: attempt ?? 1,
      submitted: seconds(submitted),
      // A worker's clock may run a little ahead of the client's: never draw a start before the submit.
      started: seconds(Math.max(started, submitted)),
      finished: seconds(Math.max(end, started, submitted)),
      queued,
      duration,
    };
  });
}

function timelineSpec(points: CallPoint[], calls: number): TopLevelSpec {
  const workers = new Set(points.map((p) => p.worker)).size;
  const failed = points.filter((p) => p.status === "error").length;
  const height = Math.min(640, Math.max(220, calls * 6));
  // Thick lines for a few calls, hairlines for thousands.
  const spacing = height / Math.max(calls, 1);
  const stroke = Math.max(1, Math.min(8, spacing * 0.8));
  const last = Math.max(0, ...points.map((p) => p.finished));
  const tooltip = [
    { field: "id", title: "call" },
    { field: "worker" },
    { field: "status" },
    { field: "queued", title: "queued (s)", type: "quantitative" as const, format: ".3f" },
    { field: "duration", title: "duration (s)", type: "quantitative" as const, format: ".3f" },
  ];
  const description = { field: "label" };
  const x = { field: "started", type: "quantitative" as const, title: "seconds since the first submit", scale: { domain: [0, last || 1], nice: false } };
  const y = {
    field: "call",
    type: "quantitative" as const,
    title: "call",
    scale: { domain: [-0.5, Math.max(calls, 1) - 0.5], reverse: true, nice: false, zero: false },
    axis: { format: "d", tickMinStep: 1 },
  };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: `Execution timeline: ${points.length} calls on ${workers} worker${workers === 1 ? "" : "s"}`,
      subtitle: `gray: queued (submitted to started); colored: running (started to finished), by worker${failed ? `; red cross: failed (${failed})` : ""}`,
      anchor: "start",
    },
    width: WIDTH,
    height,
    background: "white",
    padding: 12,
    config: { font: FONT, legend: { symbolLimit: 24 }, view: { stroke: "#ddd" } },
    data: { values: points },
    layer: [
      {
        name: "queued",
        mark: { type: "rule", color: "#c8c8c8", strokeWidth: Math.max(0.5, Math.min(3, spacing * 0.35)) },
        encoding: { x: { ...x, field: "submitted" }, x2: { field: "started" }, y, tooltip, description },
      },
      {
        name: "run",
        mark: { type: "rule", strokeWidth: stroke, strokeCap: "butt" },
        encoding: {
          x,
          x2: { field: "finished" },
          y,
          color: { field: "worker", type: "nominal", title: "worker", scale: { scheme: workers > 10 ? "tableau20" : "tableau10" } },
          tooltip,
          description,
        },
      },
      {
        name: "failed",
        transform: [{ filter: "datum.status === 'error'" }],
        mark: { type: "point", shape: "cross", color: "#d62728", filled: true, size: Math.max(12, Math.min(80, stroke * stroke * 4)) },
        encoding: { x: { ...x, field: "finished" }, y, tooltip, description },
      },
    ],
  };
}

function histogramSpec(points: CallPoint[]): TopLevelSpec {
  const durations = points.map((p) => p.duration).sort((a, b) => a - b);
  const median = durations.length ? durations[Math.floor((durations.length - 1) / 2)] : 0;
  const bin = { maxbins: 30, nice: true };
  const y = { field: "calls", type: "quantitative" as const, title: "calls", axis: { format: "d", tickMinStep: 1 } };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: `Call durations: ${points.length} calls`,
      subtitle: points.length
        ? `median ${median.toFixed(3)} s, min ${durations[0].toFixed(3)} s, max ${durations[durations.length - 1].toFixed(3)} s (started to finished, in the worker)`
        : "no finished calls",
      anchor: "start",
    },
    width: WIDTH,
    height: 300,
    background: "white",
    padding: 12,
    config: { font: FONT, view: { stroke: "#ddd" } },
    data: { values: points },
    transform: [{ bin, field: "duration", as: ["bin_start", "bin_end"] }, { aggregate: [{ op: "count", as: "calls" }], groupby: ["bin_start", "bin_end"] }],
    layer: [
      {
        name: "bars",
        mark: { type: "bar", color: "#4c78a8", stroke: "white", strokeWidth: 0.5 },
        encoding: {
          x: { field: "bin_start", type: "quantitative", bin: { binned: true }, title: "call duration (s)" },
          x2: { field: "bin_end" },
          y,
          tooltip: [{ field: "calls" }, { field: "bin_start", title: "from (s)" }, { field: "bin_end", title: "to (s)" }],
        },
      },
      {
        name: "counts",
        transform: [{ calculate: "(datum.bin_start + datum.bin_end) / 2", as: "bin_mid" }],
        mark: { type: "text", baseline: "bottom", dy: -2, fontSize: 10, color: "#333" },
        encoding: { x: { field: "bin_mid", type: "quantitative" }, y, text: { field: "calls", type: "quantitative" } },
      },
    ],
  };
}

/** Vega-Lite -> Vega -> SVG text, headless. vega is loaded on first use only (about 0.15 s). */
async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [{ parse, View }, { compile }] = await Promise.all([import("vega"), import("vega-lite")]);
  const view = new View(parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
