/**
 * Issue 6's figures in one run: `npx tsx bench/reliability.ts` (add `--quick` for a small
 * run written to bench/out/). Runs, each in a fresh process:
 * - bench/reliability-100k.ts: a 100,000-call no-op map; client peak memory, storage ops per call;
 * - bench/reliability-sustained.ts: 10 maps x 5,000 calls, on one executor and on an executor
 *   per map; heap, RSS and open handles after each map;
 * - the reliability tests with LITHOPS_LONG_TESTS=1 (longer random-kill run, more fuzzing),
 *   whose diagnostics carry the fault counts;
 * and writes bench/results/reliability-<date>.md with the machine's description.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { machineInfo, mb, runChild, seconds, type SustainedMode, type SustainedResult } from "./lib.ts";

const quick = process.argv.includes("--quick");
const skipTests = process.argv.includes("--no-tests");
const root = fileURLToPath(new URL("../", import.meta.url));

interface ScaleResult {
  calls: number;
  completed: number;
  failed: number;
  batches: number;
  submittedMs: number;
  wallMs: number;
  rssAtStart: number;
  peakRss: number;
  peakHeap: number;
  clientOps: number;
  workerOps: number;
  scalerOps: number;
  opsPerCall: number;
}

/** Runs the reliability test files and returns their diagnostics and pass/fail counts. */
function runReliabilityTests(): Promise<{ diagnostics: string[]; summary: string[]; ok: boolean }> {
  const files = ["local", "unit"].flatMap((tier) =>
    readdirSync(`${root}test/${tier}`)
      .filter((name) => /^(reliability-.*|storage-names)\.test\.ts$/.test(name))
      .map((name) => `test/${tier}/${name}`),
  );
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=1", ...files], {
      cwd: root,
      env: { ...process.env, LITHOPS_LONG_TESTS: quick ? "" : "1" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) => {
      const lines = out.split("\n");
      resolve({
        diagnostics: lines.filter((l) => /^\s+# (calls|malformed)/.test(l)).map((l) => l.trim().replace(/^# /, "")),
        summary: lines.filter((l) => /^# (tests|pass|fail|duration_ms)/.test(l)).map((l) => l.replace(/^# /, "")),
        ok: code === 0,
      });
    });
  });
}

const machine = machineInfo();
const scaleCalls = quick ? 10_000 : 100_000;
const [maps, perMap] = quick ? [3, 1_000] : [10, 5_000];
console.error(`reliability bench: ${scaleCalls} calls, then ${maps} x ${perMap}${skipTests ? "" : ", then the reliability tests"}`);
const scale = await runChild<ScaleResult>("./reliability-100k.ts", [String(scaleCalls)], 1_200_000);
const sustained = await runChild<SustainedResult>("./reliability-sustained.ts", [String(maps), String(perMap)], 1_200_000);
const tests = skipTests ? undefined : await runReliabilityTests();

const sustainedTable = (mode: SustainedMode): string[] => [
  "| map | wall | heap after GC | RSS | open handles | futures held |",
  "|---|---|---|---|---|---|",
  ...mode.rows.map(
    (r) =>
      `| ${r.map} | ${seconds(r.ms)} | ${mb(r.heapUsed)} | ${mb(r.rss)} | ${r.handles} (${Object.entries(r.byType)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}) | ${r.futures} |`,
  ),
];

const date = machine.date.slice(0, 10);
const lines = [
  `# Reliability figures (issue 6), ${date}`,
  "",
  `Machine: \`${machine.uname}\`; ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGb} GB; Node ${machine.node}; load average at start ${machine.loadAverage}.`,
  "Local backend (Azurite + worker processes), bench executor: maxWorkers 2, workerProcesses 1. The machine is shared: wall times are noisy.",
  `Command: \`npx tsx bench/reliability.ts${quick ? " --quick" : ""}\`.`,
  "",
  `## ${scale.calls.toLocaleString("en")}-call no-op map`,
  "",
  "| measure | value |",
  "|---|---|",
  `| calls attempted / completed / failed | ${scale.calls} / ${scale.completed} / ${scale.failed} |`,
  `| batches (queue messages) | ${scale.batches} |`,
  `| wall time (map + getResult, backend start included) | ${seconds(scale.wallMs)} (submitted after ${seconds(scale.submittedMs)}) |`,
  `| client RSS at start | ${mb(scale.rssAtStart)} |`,
  `| client peak RSS (kernel high-water mark) | ${mb(scale.peakRss)} |`,
  `| client peak heap used | ${mb(scale.peakHeap)} |`,
  `| storage requests: client / workers / local scaler | ${scale.clientOps} / ${scale.workerOps} / ${scale.scalerOps} |`,
  `| storage requests per call | ${scale.opsPerCall.toFixed(4)} |`,
  "",
  `## Sustained: ${sustained.maps} maps x ${sustained.callsPerMap.toLocaleString("en")} calls`,
  "",
  "One executor for every map (it keeps its futures, by design):",
  "",
  ...sustainedTable(sustained.same),
  "",
  `Heap growth from map 2 to map ${sustained.maps}: ${mb(sustained.same.heapGrowth)}, ${(sustained.same.heapPerRetainedFuture ?? 0).toFixed(0)} bytes per future held; open handles ${sustained.same.handleGrowth >= 0 ? "+" : ""}${sustained.same.handleGrowth}.`,
  "",
  "An executor per map over one shared Azurite, each closed after its map (nothing kept on purpose):",
  "",
  ...sustainedTable(sustained.fresh),
  "",
  `Heap growth from map 2 to map ${sustained.maps}: ${(sustained.fresh.heapGrowth / 1024).toFixed(0)} KB; RSS ${mb(sustained.fresh.rssGrowth)}; open handles ${sustained.fresh.handleGrowth >= 0 ? "+" : ""}${sustained.fresh.handleGrowth}.`,
  "",
];
if (tests) {
  lines.push(
    `## Fault and hostile-input tests (${quick ? "default sizes" : "LITHOPS_LONG_TESTS=1"})`,
    "",
    ...tests.diagnostics.map((d) => `- ${d}`),
    "",
    `Result: ${tests.summary.join(", ")}${tests.ok ? "" : " (FAILED)"}.`,
    "",
  );
}
const out = quick ? `${root}bench/out/reliability-${date}.md` : `${root}bench/results/reliability-${date}.md`;
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${lines.join("\n")}\n`);
console.log(lines.join("\n"));
console.error(`written to ${out}`);
if (tests && !tests.ok) process.exitCode = 1;
