/**
 * The dashboard's page and its script, served by client/dashboard/server.ts. The script
 * fetches `data.json` (a Snapshot, client/dashboard/snapshot.ts) twice a second and updates
 * the numbers in place and the Vega-Lite charts through their data, without reloading.
 * Every URL is relative to the page's own `/<token>/` path, so every request carries the token.
 */

/** The page; its script and the Vega files are siblings under the token path. */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lithops-aca dashboard</title>
<meta name="referrer" content="no-referrer">
<style>
body{font:14px Helvetica,Arial,sans-serif;margin:16px 24px;color:#222;background:#fafafa}
h1{font-size:20px;margin:0 0 4px}h2{font-size:15px;margin:18px 0 6px}
.counts{display:flex;gap:12px;margin:10px 0}.count{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:90px}
.count b{display:block;font-size:24px}.queued b{color:#888}.running b{color:#e8a33d}.done b{color:#4c78a8}.failed b{color:#d62728}
.bar{height:8px;background:#eee;border-radius:4px;overflow:hidden;display:flex}.bar span{display:block;height:100%}
.grid{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:18px}
table{border-collapse:collapse;background:#fff;width:100%}td,th{border-bottom:1px solid #eee;padding:3px 8px;text-align:left;font-size:13px}
th{background:#f0f0f0}tr.clickable{cursor:pointer}tr.clickable:hover{background:#eef4fb}
pre{background:#fff;border:1px solid #ddd;padding:8px;max-height:260px;overflow:auto;font-size:12px;white-space:pre-wrap}
details{background:#fff;border:1px solid #f2c4c4;border-radius:4px;margin:4px 0;padding:4px 8px}summary{cursor:pointer}
.muted{color:#777;font-size:12px}.cost b{font-size:20px}
</style></head><body>
<h1 id="title">lithops-aca dashboard</h1><div class="muted" id="status">connecting…</div>
<div class="counts">
<div class="count queued">queued<b id="count-queued">0</b></div><div class="count running">running<b id="count-running">0</b></div>
<div class="count done">done<b id="count-done">0</b></div><div class="count failed">failed<b id="count-failed">0</b></div>
<div class="count">calls<b id="count-total">0</b></div>
<div class="count cost">estimated cost<b id="cost-usd">–</b><span class="muted" id="cost-detail"></span></div>
</div>
<div class="bar" id="bar"></div>
<div class="grid"><div>
<h2>Timeline</h2><div class="muted" id="timeline-note"></div><div id="timeline"></div>
<h2>Throughput (calls finished per second)</h2><div id="throughput"></div>
</div><div>
<h2>Failures <span class="muted" id="failure-note"></span></h2><div id="failures"></div>
<h2>Logs <span class="muted" id="logs-title">click a call (a row below or a bar of the timeline)</span></h2><pre id="logs"></pre>
<h2>Recent calls</h2><table><thead><tr><th>call</th><th>state</th><th>worker</th><th>seconds</th></tr></thead><tbody id="recent"></tbody></table>
</div></div>
<h2>Workers</h2><table><thead><tr><th>worker</th><th>calls</th><th>running</th><th>failed</th><th>busy seconds</th></tr></thead><tbody id="workers"></tbody></table>
<h2>Cost</h2><div id="cost-notes" class="muted"></div>
<script src="vega.min.js"></script><script src="vega-lite.min.js"></script><script src="app.js"></script>
</body></html>
`;

/** The page's script (plain browser JavaScript, no build step). */
export const DASHBOARD_SCRIPT = `"use strict";
const $ = (id) => document.getElementById(id);
const fmt = new Intl.NumberFormat("en-US");
const COLORS = { queued: "#bbbbbb", running: "#e8a33d", done: "#4c78a8", failed: "#d62728" };
const charts = {};

function el(tag, text, attrs) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  return node;
}

function usd(n) { return n === 0 ? "$0" : "$" + (n >= 1 ? n.toFixed(2) : n.toPrecision(3)); }

async function showLogs(executorId, jobId, callId) {
  $("logs-title").textContent = executorId + "/" + jobId + "/" + callId;
  $("logs").textContent = "loading…";
  const query = new URLSearchParams({ executor: executorId, job: jobId, call: callId });
  const res = await fetch("logs?" + query, { cache: "no-store" });
  const text = await res.text();
  $("logs").textContent = res.ok ? (text === "" ? "(the call wrote nothing)" : text) : "no logs: " + text;
}

async function chart(name, spec, values) {
  const key = JSON.stringify(spec);
  let current = charts[name];
  if (!current || current.key !== key) {
    if (current) current.view.finalize();
    const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: "svg", container: "#" + name, hover: true });
    view.addEventListener("click", (_event, item) => {
      const d = item && item.datum;
      if (d && d.callId !== undefined) showLogs(d.executorId, d.jobId, d.callId);
    });
    current = charts[name] = { key, view };
  }
  current.view.data("values", values);
  await current.view.runAsync();
}

function timelineSpec(mode, calls) {
  const base = { width: 640, height: 260, data: { name: "values" } };
  if (mode === "calls") {
    return { ...base, height: Math.min(420, Math.max(160, calls * 1.6)),
      mark: { type: "rule", strokeWidth: Math.max(1, Math.min(6, 300 / Math.max(calls, 1))) },
      encoding: {
        x: { field: "start", type: "quantitative", title: "seconds since the first submit" }, x2: { field: "end" },
        y: { field: "row", type: "quantitative", title: "call", scale: { reverse: true, zero: false, nice: false }, axis: { format: "d" } },
        color: { field: "state", type: "nominal", title: "state", scale: { domain: Object.keys(COLORS), range: Object.values(COLORS) } },
        tooltip: [{ field: "jobId" }, { field: "callId" }, { field: "worker" }, { field: "state" }],
      } };
  }
  return { ...base, mark: { type: "area", interpolate: "step-after", color: COLORS.done },
    encoding: { x: { field: "t", type: "quantitative", title: "seconds since the first submit" }, y: { field: "running", type: "quantitative", title: "calls running (mean per bin)" } } };
}

function render(s) {
  $("title").textContent = "lithops-aca: " + s.title;
  $("status").textContent = "updated " + new Date(s.now).toLocaleTimeString() + " · " + s.jobs.map((j) => j.jobId + " " + fmt.format(j.done + j.failed) + "/" + fmt.format(j.calls)).join(" · ");
  for (const k of ["queued", "running", "done", "failed", "total"]) $("count-" + k).textContent = fmt.format(s.counts[k]);
  $("bar").replaceChildren(...["done", "failed", "running", "queued"].map((k) => el("span", undefined, { style: "width:" + (100 * s.counts[k] / Math.max(1, s.counts.total)) + "%;background:" + COLORS[k] })));
  if (s.cost) {
    const c = s.cost;
    $("cost-usd").textContent = usd(c.usd);
    $("cost-detail").textContent = fmt.format(Math.round(c.replicaSeconds)) + " replica-s, " + Math.round(100 * c.cooldownUsd / Math.max(c.computeUsd, 1e-12)) + "% cooldown";
    $("cost-notes").replaceChildren(el("div", "compute " + usd(c.computeUsd) + " (" + c.vcpuSeconds.toFixed(1) + " vCPU-s, " + c.gibSeconds.toFixed(1) + " GiB-s on " + c.replicas + " replicas), storage " + usd(c.storageUsd) + " (" + fmt.format(c.storageRequests) + " requests); prices " + c.prices.region + ", " + c.prices.asOf), ...c.notes.map((n) => el("div", n)));
  } else if (s.costError) $("cost-notes").textContent = "no estimate: " + s.costError;
  $("failure-note").textContent = s.failureCount ? fmt.format(s.failureCount) + (s.failureCount > s.failures.length ? " (first " + s.failures.length + " shown)" : "") : "none";
  $("failures").replaceChildren(...s.failures.map((f) => {
    const d = el("details", undefined, { class: "failure" });
    const summary = el("summary");
    summary.append(el("b", f.jobId + "/" + f.callId + " "), el("span", f.name + ": " + f.message, { class: "failure-message" }));
    summary.addEventListener("click", () => showLogs(f.executorId, f.jobId, f.callId));
    d.append(summary, el("pre", f.stack || "(no stack)"));
    return d;
  }));
  $("recent").replaceChildren(...s.recent.map((r) => {
    const tr = el("tr", undefined, { class: "clickable", "data-call": r.jobId + "/" + r.callId });
    tr.append(el("td", r.jobId + "/" + r.callId), el("td", r.state), el("td", r.worker), el("td", r.seconds.toFixed(3)));
    tr.addEventListener("click", () => showLogs(r.executorId, r.jobId, r.callId));
    return tr;
  }));
  $("workers").replaceChildren(...s.workers.map((w) => {
    const tr = el("tr");
    tr.append(el("td", w.worker), el("td", fmt.format(w.calls)), el("td", fmt.format(w.running)), el("td", fmt.format(w.failed)), el("td", w.busySeconds.toFixed(1)));
    return tr;
  }));
  const tl = s.timeline;
  $("timeline-note").textContent = tl.mode === "calls" ? "a bar per call, from start to finish (or now)" : "more than 2,000 calls: calls running, mean over " + tl.binSeconds + " s bins";
  const values = tl.mode === "calls" ? tl.calls : tl.bins;
  return Promise.all([
    chart("timeline", timelineSpec(tl.mode, values.length), values),
    chart("throughput", { width: 640, height: 140, data: { name: "values" }, mark: { type: "area", interpolate: "step-after", color: "#72b7b2", line: true },
      encoding: { x: { field: "t", type: "quantitative", title: "seconds since the first submit" }, y: { field: "perSecond", type: "quantitative", title: "calls/s" } } }, s.throughput.bins),
  ]);
}

async function tick() {
  try {
    const res = await fetch("data.json", { cache: "no-store" });
    if (!res.ok) throw new Error(res.status + " " + (await res.text()));
    await render(await res.json());
  } catch (error) {
    $("status").textContent = "not updated: " + error.message;
  }
  setTimeout(tick, 500);
}
tick();
`;
