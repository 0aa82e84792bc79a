import { PlotPackagesMissingError } from "./errors.ts";
/**
 * `fexec.plot()`: an execution timeline and a histogram of call durations, drawn with
 * Vega-Lite and rendered to SVG by Vega in Node (no canvas, no browser). The timeline draws
 * a bar per call up to PER_CALL_LIMIT calls and, above that, calls over time and per worker,
 * so that the picture stays readable and small at any job size.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { TopLevelSpec } from "vega-lite";
import { isModuleNotFound } from "./optional-packages.ts";
import type { CostReport } from "./cost.ts";
import type { ResponseFuture } from "./response-future.ts";
import {
  type CallPoint,
  callPoints,
  costLine,
  counted,
  cumulative,
  failedCount,
  lastFinish,
  MAX_WORKER_ROWS,
  numberFormat,
  PER_CALL_LIMIT,
  type PlottedCall,
  scope,
  spread,
  timeBins,
  workerNames,
  workerRows,
} from "./plot-data.ts";

export { MAX_WORKER_ROWS, PER_CALL_LIMIT, type PlottedCall };

/** The two files plot() writes: `[timeline, histogram]`, also by name. */
export type PlotPaths = [timeline: string, histogram: string] & { timeline: string; histogram: string };

/** Names of the Vega marks drawn (tests and tools can find them in the SVG by class). */
export const PLOT_MARKS = {
  /** Per-call timeline: a line per call from started to finished, colored by worker. */
  run: "run_marks",
  /** Per-call timeline: a thin gray line per call from submitted to started. */
  queued: "queued_marks",
  /** Per-call timeline: a red cross at the finish of each failed call. */
  failed: "failed_marks",
  /** Aggregated timeline: the mean number of calls running in each time bin (an area). */
  running: "running_marks",
  /** Aggregated timeline: calls submitted, started, finished and failed so far (a line each). */
  progress: "progress_marks",
  /** Aggregated timeline: a cell per worker row and time bin, shaded by the calls running on it. */
  workers: "workers_marks",
  /** Histogram: a bar per duration bin. */
  bars: "bars_marks",
  /** Histogram: the count of calls above each bar. */
  counts: "counts_marks",
} as const;

/**
 * How plot() loads its optional packages: by package name, imported on first use only
 * (about 0.15 s). Typed loosely so that the package's declarations need no vega types.
 */
export interface PlotModules {
  vega: () => Promise<unknown>;
  "vega-lite": () => Promise<unknown>;
}

export const PLOT_MODULES: PlotModules = { vega: () => import("vega"), "vega-lite": () => import("vega-lite") };

interface LoadedPlotModules {
  vega: typeof import("vega");
  vegaLite: typeof import("vega-lite");
}

/** Loads vega and vega-lite; when either is not installed, says which to install. */
async function loadPlotModules(modules: PlotModules): Promise<LoadedPlotModules> {
  const [vega, vegaLite] = await Promise.allSettled([modules.vega(), modules["vega-lite"]()]);
  if (vega.status === "fulfilled" && vegaLite.status === "fulfilled") {
    return { vega: vega.value as LoadedPlotModules["vega"], vegaLite: vegaLite.value as LoadedPlotModules["vegaLite"] };
  }
  const failures = [
    { name: "vega", loaded: vega },
    { name: "vega-lite", loaded: vegaLite },
  ].flatMap(({ name, loaded }) => (loaded.status === "rejected" ? [{ name, reason: loaded.reason as unknown }] : []));
  const missing = failures.filter(({ reason }) => isModuleNotFound(reason)).map(({ name }) => name);
  if (missing.length > 0) {
    throw new PlotPackagesMissingError(
      `plot() draws with ${missing.join(" and ")}, optional peer dependencies of lithops-aca that are not installed; install them with: npm install ${missing.join(" ")}`,
      { cause: failures[0].reason },
    );
  }
  throw failures[0].reason;
}

const WIDTH = 760;
const FONT = "Helvetica, Arial, sans-serif";
const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";
/** Room for the y axis of every stacked view, so that their time axes line up. */
const Y_AXIS_EXTENT = 150;
const COLORS = { queued: "#dcdcdc", submitted: "#a0a0a0", started: "#9ecae9", finished: "#4c78a8", failed: "#d62728" } as const;

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
  costOf?: (futures: readonly ResponseFuture[]) => Promise<CostReport>,
): Promise<PlotPaths> {
  const futures = fs === undefined || typeof fs === "string" ? all : Array.isArray(fs) ? (fs as readonly ResponseFuture[]) : [fs as ResponseFuture];
  const into = typeof fs === "string" ? fs : (dir ?? DEFAULT_PLOT_DIR);
  return costOf ? costOf(futures).then((cost) => plotFutures(futures, into, executorId, PLOT_MODULES, cost)) : plotFutures(futures, into, executorId);
}

/**
 * Writes `<name>-timeline.svg` and `<name>-histogram.svg` into dir (created if missing) for
 * the finished calls among futures, and returns their paths; the timeline states `cost` if given.
 */
export async function plotFutures(
  futures: readonly PlottedCall[],
  dir: string,
  name: string,
  modules: PlotModules = PLOT_MODULES,
  cost?: CostReport,
): Promise<PlotPaths> {
  const loaded = await loadPlotModules(modules);
  const points = callPoints(futures);
  const unfinished = futures.length - points.length;
  await mkdir(dir, { recursive: true });
  const timeline = resolve(join(dir, `${name}-timeline.svg`));
  const histogram = resolve(join(dir, `${name}-histogram.svg`));
  const timelineView = points.length > PER_CALL_LIMIT ? aggregatedTimelineSpec(points, unfinished) : perCallTimelineSpec(points, futures.length, unfinished);
  if (cost) (timelineView.title as { subtitle: string[] }).subtitle.push(costLine(cost));
  await writeFile(timeline, await renderSvg(timelineView, loaded));
  await writeFile(histogram, await renderSvg(histogramSpec(points, unfinished), loaded));
  return Object.assign([timeline, histogram] as [string, string], { timeline, histogram });
}

const baseSpec = { $schema: SCHEMA, background: "white", padding: 12, config: { font: FONT, view: { stroke: "#ddd" }, title: { anchor: "start" as const } } };

/** A line per call: call on y (call 0 at the top), seconds on x. */
function perCallTimelineSpec(points: CallPoint[], calls: number, unfinished: number): TopLevelSpec {
  const failed = failedCount(points);
  const workers = new Set(points.map((p) => p.worker)).size;
  const workerName = workerNames(points);
  // About 1.5 px per call up to 900 px, so that a few hundred calls still get a visible bar each.
  const height = Math.min(900, Math.max(220, calls * 1.5));
  const spacing = height / Math.max(calls, 1);
  const stroke = Math.max(1, Math.min(8, spacing * 0.8));
  const values = points.map((p) => ({
    ...p,
    status: p.failed ? "error" : "success",
    workerName: workerName.name(p.worker),
    // The mark's description (aria-label in the SVG), which screen readers read and scripts parse.
    label: `call ${p.call} ${p.id} on ${p.worker}: ${p.failed ? "error" : "success"}, queued ${p.queued.toFixed(3)} s, ran ${p.duration.toFixed(3)} s`,
  }));
  const tooltip = [
    { field: "id", title: "call" },
    { field: "worker" },
    { field: "status" },
    { field: "queued", title: "queued (s)", type: "quantitative" as const, format: ".3f" },
    { field: "duration", title: "duration (s)", type: "quantitative" as const, format: ".3f" },
  ];
  const description = { field: "label" };
  const x = {
    field: "started",
    type: "quantitative" as const,
    title: "seconds since the first submit",
    scale: { domain: [0, lastFinish(points)], nice: false },
  };
  const y = {
    field: "call",
    type: "quantitative" as const,
    title: "call",
    scale: { domain: [-0.5, Math.max(calls, 1) - 0.5], reverse: true, nice: false, zero: false },
    axis: { format: "d", tickMinStep: 1 },
  };
  return {
    ...baseSpec,
    title: {
      text: `Execution timeline: ${counted(points.length, "call")} ${scope(points, unfinished)}`,
      subtitle: [
        `light gray: queued (submitted to started); colored: running (started to finished), by worker${failed ? `; red cross: failed (${numberFormat.format(failed)})` : ""}`,
        ...(workerName.note ? [`legend: ${workerName.note}`] : []),
      ],
    },
    width: WIDTH,
    height,
    config: { ...baseSpec.config, legend: { symbolLimit: 24, labelLimit: 260 } },
    data: { values },
    layer: [
      {
        name: "queued",
        // No description: the run line of the same call carries it, and 2,000 more labels would double the file.
        mark: { type: "rule", color: COLORS.queued, strokeWidth: Math.max(0.5, Math.min(3, spacing * 0.35)), aria: false },
        encoding: { x: { ...x, field: "submitted" }, x2: { field: "started" }, y, tooltip },
      },
      {
        name: "run",
        mark: { type: "rule", strokeWidth: stroke, strokeCap: "butt" },
        encoding: {
          x,
          x2: { field: "finished" },
          y,
          color: { field: "workerName", type: "nominal", title: "worker", scale: { scheme: workers > 10 ? "tableau20" : "tableau10" } },
          tooltip,
          description,
        },
      },
      {
        name: "failed",
        transform: [{ filter: "datum.status === 'error'" }],
        // Large enough to find among hairlines; no description, as for the queued lines.
        mark: { type: "point", shape: "cross", color: COLORS.failed, filled: true, size: Math.max(40, Math.min(80, stroke * stroke * 4)), aria: false },
        encoding: { x: { ...x, field: "finished" }, y, tooltip },
      },
    ],
  };
}

/** Calls running over time, calls submitted / started / finished so far, and each worker's load over time. */
function aggregatedTimelineSpec(points: CallPoint[], unfinished: number): TopLevelSpec {
  const end = lastFinish(points);
  const bins = timeBins(end);
  const running = new Float64Array(bins.count);
  const workerName = workerNames(points);
  const { rows, rowOf } = workerRows(points, workerName.name);
  const rowLoad = rows.map(() => new Float64Array(bins.count));
  for (const p of points) {
    spread(running, bins, p.started, p.finished);
    spread(rowLoad[rowOf.get(p.worker) ?? 0], bins, p.started, p.finished);
  }
  const failed = failedCount(points);
  const seconds = (k: number): number => Number((k * bins.width).toPrecision(12));
  const binLabel = `${numberFormat.format(bins.width)} s`;
  const x = { type: "quantitative" as const, title: "seconds since the first submit", scale: { domain: [0, bins.count * bins.width], nice: false } };
  const yAxis = { minExtent: Y_AXIS_EXTENT, maxExtent: Y_AXIS_EXTENT, labelLimit: Y_AXIS_EXTENT - 20 };

  let peak = 0;
  for (const v of running) peak = Math.max(peak, v);
  // step-after needs the last bin's end as a point of its own.
  const runningValues = Array.from({ length: bins.count + 1 }, (_, k) => ({ t: seconds(k), running: running[Math.min(k, bins.count - 1)] }));

  const series = [
    { name: "submitted", times: points.map((p) => p.submitted) },
    { name: "started", times: points.map((p) => p.started) },
    { name: "finished", times: points.map((p) => p.finished) },
    ...(failed ? [{ name: "failed", times: points.filter((p) => p.failed).map((p) => p.finished) }] : []),
  ];
  const progressValues = series.flatMap(({ name, times }) => cumulative(times, bins).map((calls, k) => ({ t: seconds(k), series: name, calls })));

  const cells = rowLoad.flatMap((load, row) =>
    Array.from(load, (busy, b) => ({ row: rows[row].label, start: seconds(b), end: seconds(b + 1), running: busy / rows[row].workers })).filter(
      (cell) => cell.running > 0,
    ),
  );
  const grouped = rows.some((row) => row.workers > 1);
  const workerShade = { scheme: "blues", domainMin: 0 };

  return {
    ...baseSpec,
    title: {
      text: `Execution timeline: ${counted(points.length, "call")} ${scope(points, unfinished)}`,
      subtitle: [
        `Aggregated over ${binLabel} bins: more than ${numberFormat.format(PER_CALL_LIMIT)} calls are too many for a bar each.`,
        `${failed ? `${counted(failed, "call")} failed. ` : ""}Peak ${numberFormat.format(Math.round(peak))} calls running at once; last call finished at ${end.toFixed(1)} s.`,
      ],
      offset: 16,
    },
    spacing: 28,
    resolve: { scale: { color: "independent" } },
    vconcat: [
      {
        name: "running",
        title: { text: "Calls running", subtitle: `mean over each ${binLabel} bin`, fontSize: 12 },
        width: WIDTH,
        height: 150,
        data: { values: runningValues },
        mark: { type: "area", interpolate: "step-after", color: COLORS.finished, opacity: 0.85, line: { color: COLORS.finished, strokeWidth: 1 } },
        encoding: {
          x: { ...x, field: "t", axis: { title: null } },
          y: { field: "running", type: "quantitative", title: "calls running", axis: yAxis },
        },
      },
      {
        name: "progress",
        title: {
          text: "Calls so far",
          subtitle: "the gap between submitted and started is the queue; between started and finished, the calls running",
          fontSize: 12,
        },
        width: WIDTH,
        height: 200,
        data: { values: progressValues },
        mark: { type: "line", strokeWidth: 2 },
        encoding: {
          x: { ...x, field: "t", axis: { title: null } },
          y: { field: "calls", type: "quantitative", title: "calls", axis: { ...yAxis, format: ",d" } },
          color: {
            field: "series",
            type: "nominal",
            title: null,
            scale: { domain: series.map((s) => s.name), range: series.map((s) => COLORS[s.name as keyof typeof COLORS]) },
            legend: { orient: "top-left", direction: "vertical", fillColor: "white" },
          },
        },
      },
      {
        name: "workers",
        title: {
          text: "Per worker",
          subtitle: grouped
            ? `a row per ${numberFormat.format(Math.max(...rows.map((r) => r.workers)))} workers in order of first start; shade: mean calls running per worker`
            : ["a row per worker in order of first start; shade: mean calls running", ...(workerName.note ? [workerName.note] : [])],
          fontSize: 12,
        },
        width: WIDTH,
        height: Math.max(40, rows.length * 14),
        data: { values: cells },
        // A stroke of the cell's own shade: without it, antialiasing leaves white seams between cells.
        mark: { type: "rect", aria: false, strokeWidth: 0.5 },
        encoding: {
          x: { ...x, field: "start" },
          x2: { field: "end" },
          y: { field: "row", type: "nominal", title: null, sort: rows.map((r) => r.label), axis: { ...yAxis, labelFontSize: 9 } },
          color: { field: "running", type: "quantitative", title: "calls running", scale: workerShade, legend: { orient: "right" } },
          stroke: { field: "running", type: "quantitative", scale: workerShade, legend: null },
        },
      },
    ],
  } as TopLevelSpec;
}

function histogramSpec(points: CallPoint[], unfinished: number): TopLevelSpec {
  const durations = points.map((p) => p.duration).sort((a, b) => a - b);
  const median = durations.length ? durations[Math.floor((durations.length - 1) / 2)] : 0;
  const bin = { maxbins: 30, nice: true };
  const y = { field: "calls", type: "quantitative" as const, title: "calls", axis: { format: ",d", tickMinStep: 1 } };
  return {
    ...baseSpec,
    title: {
      text: `Call durations: ${counted(points.length, "call")}${unfinished ? ` (${numberFormat.format(unfinished)} more not finished, not drawn)` : ""}`,
      subtitle: points.length
        ? `median ${median.toFixed(3)} s, min ${durations[0].toFixed(3)} s, max ${durations[durations.length - 1].toFixed(3)} s (started to finished, in the worker)`
        : "no finished calls",
    },
    width: WIDTH,
    height: 300,
    data: { values: durations.map((duration) => ({ duration })) },
    transform: [
      { bin, field: "duration", as: ["bin_start", "bin_end"] },
      { aggregate: [{ op: "count", as: "calls" }], groupby: ["bin_start", "bin_end"] },
    ],
    layer: [
      {
        name: "bars",
        mark: { type: "bar", color: COLORS.finished, stroke: "white", strokeWidth: 0.5 },
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
        encoding: { x: { field: "bin_mid", type: "quantitative" }, y, text: { field: "calls", type: "quantitative", format: "," } },
      },
    ],
  };
}

/** Vega-Lite -> Vega -> SVG text, headless. */
async function renderSvg(spec: TopLevelSpec, { vega, vegaLite }: LoadedPlotModules): Promise<string> {
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: "none" });
  try {
    return roundCoordinates(await view.toSVG());
  } finally {
    view.finalize();
  }
}

const GEOMETRY_ATTRIBUTE = /\s(?:transform|d|x|y|x1|x2|y1|y2|width|height)="[^"]*"/g;
const LONG_DECIMAL = /-?\d+\.\d{3,}/g;

/** Vega writes coordinates with up to 17 digits; a hundredth of a pixel is plenty and makes a per-call timeline a third smaller. */
function roundCoordinates(svg: string): string {
  return svg.replace(GEOMETRY_ATTRIBUTE, (attribute) => attribute.replace(LONG_DECIMAL, (n) => String(Math.round(Number(n) * 100) / 100)));
}
