/**
 * The dashboard at 100,000 calls: a synthetic job (50 workers, calls of 0.2-2 s, 0.1 % failing,
 * still running at the snapshot) served by client/dashboard/server.ts and drawn in headless
 * Chromium. Prints the size of one data.json and how long the server and the page take, and
 * writes a screenshot. Run: `npx tsx bench/dashboard-scale.ts [calls] [screenshot.png]`.
 */
import { performance } from "node:perf_hooks";
import { estimateCost, pricesFrom } from "../client/cost.ts";
import { serveDashboard } from "../client/dashboard/server.ts";
import type { DashboardCall } from "../client/dashboard/snapshot.ts";
import { launchBrowser } from "../test/support/browser.ts";

const calls = Number(process.argv[2] ?? 100_000);
const screenshot = process.argv[3] ?? "dashboard-100k.png";
const WORKERS = 50;
const now = Date.now();
const origin = now - 600_000;

/** Deterministic pseudo-random numbers, so runs compare. */
let seed = 42;
function random(): number {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
}

// Each worker runs its calls back to back from a staggered start; the last ones are still running or queued.
const free = Array.from({ length: WORKERS }, (_, w) => origin + 2000 + w * 400);
const synthetic: DashboardCall[] = Array.from({ length: calls }, (_, i) => {
  const w = i % WORKERS;
  const started = free[w];
  const finished = started + 200 + random() * 1800;
  free[w] = finished + 20;
  const base = { executorId: "bench-1", jobId: "M000", callId: String(i).padStart(5, "0"), submitted: origin, memory: 1024, workerId: `replica-${w}` };
  if (started > now) return { ...base, state: "queued", workerId: undefined };
  if (finished > now) return { ...base, state: "running", started };
  const failed = random() < 0.001;
  return {
    ...base,
    state: failed ? "failed" : "done",
    started,
    finished,
    error: failed
      ? { name: "ValueError", message: `row ${i} has no price`, stack: `ValueError: row ${i} has no price\n    at parse (job.js:12:9)` }
      : undefined,
  };
});

const dashboard = await serveDashboard({
  title: `synthetic job of ${calls.toLocaleString("en-US")} calls`,
  calls: async () => synthetic,
  logs: async (_executor, _job, callId) => `call ${callId}: processed`,
  cost: async (list) => estimateCost({ calls: list, cooldownSeconds: 300, storageRequests: { client: 4000, workers: 90_000 }, prices: pricesFrom() }),
});
// The first snapshot includes the JIT's warm-up; the page asks again twice a second.
for (const which of ["first", "second"]) {
  await new Promise((resolve) => setTimeout(resolve, 500));
  const started = performance.now();
  const data = await (await fetch(`${dashboard.url}data.json`)).text();
  console.log(`${which} data.json: ${(data.length / 1024).toFixed(0)} KiB in ${(performance.now() - started).toFixed(0)} ms for ${calls} calls`);
}

const browser = await launchBrowser();
try {
  const page = await browser.context.newPage();
  const opened = performance.now();
  await page.goto(dashboard.url);
  await page.waitForFunction("document.querySelector('#timeline svg') !== null && document.getElementById('count-total').textContent !== '0'");
  console.log(`page drawn in ${(performance.now() - opened).toFixed(0)} ms`);
  await page.waitForTimeout(1500);
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(`screenshot: ${screenshot}`);
} finally {
  await browser.close();
  await dashboard.close();
}
