/**
 * The scale model's predictions (bench/scale-model.ts) for a runtime of a stack config:
 * `node --import tsx bench/scale-table.ts [Pulumi.<stack>.yaml] [--runtime <name>] [--cold-start <s>]`
 * (no file: a stack with only the default runtime, every setting at its default). Prints
 * markdown: the job table for 100, 1,000 and 10,000 calls of 1 s and 60 s, and what
 * pollingInterval, cooldownPeriod and workerProcesses trade between speed and cost (the runtime
 * as configured first, then one row per setting or pair of settings changed).
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse } from "yaml";
import { parseStackConfig } from "../components/stack-config.ts";
import { messagesFor, predictScaling, replicaCap, type ScaleSettings } from "./scale-model.ts";

const NAMESPACE = "lithops-aca";
const argAfter = (flag: string): string | undefined => {
  const i = process.argv.indexOf(flag);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const file = process.argv.slice(2).find((a, i, all) => !a.startsWith("--") && !all[i - 1]?.startsWith("--"));

/** The project's keys of a Pulumi.<stack>.yaml, without their namespace. */
function projectKeys(path: string): Record<string, unknown> {
  const config = (parse(readFileSync(path, "utf8")) as { config?: Record<string, unknown> }).config ?? {};
  return Object.fromEntries(
    Object.entries(config)
      .filter(([key]) => key.startsWith(`${NAMESPACE}:`))
      .map(([key, value]) => [key.slice(NAMESPACE.length + 1), value]),
  );
}

const raw = file ? projectKeys(file) : {};
const stack = parseStackConfig(raw, { namespace: NAMESPACE, projectRoot: file ? dirname(resolve(file)) : process.cwd(), dockerHubTokenSet: true });
const runtimeName = argAfter("--runtime");
const runtime = runtimeName ? stack.runtimes.find((r) => r.name === runtimeName) : stack.runtimes[0];
if (!runtime) throw new Error(`no runtime '${runtimeName}' in ${file ?? "the default stack"}: ${stack.runtimes.map((r) => r.name).join(", ")}`);
const coldStartS = Number(argAfter("--cold-start") ?? 10);

/** The scale rule components/runtime.ts gives the runtime: queueLength = workerProcesses. */
const settings: ScaleSettings = {
  pollingIntervalS: runtime.pollingInterval,
  cooldownPeriodS: runtime.cooldownPeriod,
  maxReplicas: runtime.maxWorkers,
  slotsPerReplica: runtime.workerProcesses,
  queueLengthPerReplica: runtime.workerProcesses,
  cpuPerReplica: runtime.cpu,
  coreQuota: stack.environment.coreQuota,
  coldStartS,
};

const JOBS = [100, 1_000, 10_000].flatMap((calls) => [1, 60].map((callSeconds) => ({ calls, callSeconds })));

function predict(s: ScaleSettings, calls: number, callSeconds: number) {
  const slots = replicaCap(s) * s.slotsPerReplica;
  // The client spreads calls over maxWorkers x workerProcesses slots (client/call-batches.ts).
  const prediction = predictScaling(s, { messages: messagesFor(calls, s.maxReplicas * s.slotsPerReplica), callSeconds });
  return { ...prediction, idealS: Math.ceil(calls / slots) * callSeconds };
}

const fmt = (n: number): string => n.toLocaleString("en-US", { maximumFractionDigits: 0 });
const lines: string[] = [
  `Runtime \`${runtime.name}\` (${runtime.memory} MB, ${runtime.cpu} vCPU): maxWorkers ${settings.maxReplicas}, workerProcesses ${settings.slotsPerReplica} (queueLength ${settings.queueLengthPerReplica}), pollingInterval ${settings.pollingIntervalS} s, cooldownPeriod ${settings.cooldownPeriodS} s, core quota ${settings.coreQuota}; cold start ${coldStartS} s; KEDA's first check half an interval after the submit.`,
  "",
  "| Calls | Call | Ideal wall (all replicas warm) | Predicted wall | Peak replicas | Replica-seconds in the job | Idle replica-seconds after it (until the cooldown) |",
  "|---:|---:|---:|---:|---:|---:|---:|",
];
for (const { calls, callSeconds } of JOBS) {
  const p = predict(settings, calls, callSeconds);
  lines.push(
    `| ${fmt(calls)} | ${callSeconds} s | ${fmt(p.idealS)} s | ${fmt(p.wallS)} s | ${p.peakReplicas} | ${fmt(p.replicaSeconds - p.idleReplicaSeconds)} | ${fmt(p.idleReplicaSeconds)} |`,
  );
}

const variants: { label: string; change: Partial<ScaleSettings> }[] = [
  { label: "pollingInterval 30 s (KEDA's default)", change: { pollingIntervalS: 30 } },
  { label: "pollingInterval 10 s", change: { pollingIntervalS: 10 } },
  { label: "pollingInterval 5 s", change: { pollingIntervalS: 5 } },
  { label: "cooldownPeriod 300 s (KEDA's default)", change: { cooldownPeriodS: 300 } },
  { label: "cooldownPeriod 120 s", change: { cooldownPeriodS: 120 } },
  { label: "cooldownPeriod 60 s", change: { cooldownPeriodS: 60 } },
  { label: "pollingInterval 5 s and cooldownPeriod 120 s", change: { pollingIntervalS: 5, cooldownPeriodS: 120 } },
  { label: "pollingInterval 10 s and cooldownPeriod 300 s", change: { pollingIntervalS: 10, cooldownPeriodS: 300 } },
  { label: "pollingInterval 30 s and cooldownPeriod 300 s (KEDA's defaults)", change: { pollingIntervalS: 30, cooldownPeriodS: 300 } },
  { label: "workerProcesses 1 (queueLength 1)", change: { slotsPerReplica: 1, queueLengthPerReplica: 1 } },
  {
    label: "workerProcesses 2 (queueLength 2; for calls that wait on I/O: CPU-bound calls would share the vCPU)",
    change: { slotsPerReplica: 2, queueLengthPerReplica: 2 },
  },
];
/** A variant the runtime already has would only repeat the first row. */
const changesSomething = (change: Partial<ScaleSettings>): boolean =>
  Object.entries(change).some(([key, value]) => settings[key as keyof ScaleSettings] !== value);
const tradeJobs = [
  { calls: 100, callSeconds: 1 },
  { calls: 1_000, callSeconds: 1 },
  { calls: 1_000, callSeconds: 60 },
];
lines.push(
  "",
  `Trade-offs (the first row is the runtime above; each other row changes the settings it names). KEDA's check is one queue request: ${fmt(3600 / 30)} an hour at 30 s, ${fmt(3600 / 10)} at 10 s, ${fmt(3600 / 5)} at 5 s, day and night.`,
  "",
  `| Setting | ${tradeJobs.map((j) => `${fmt(j.calls)} x ${j.callSeconds} s: wall / replica-s (idle)`).join(" | ")} |`,
  `|---|${tradeJobs.map(() => "---:|").join("")}`,
);
const rows = [
  {
    label: `as above (pollingInterval ${settings.pollingIntervalS} s, cooldownPeriod ${settings.cooldownPeriodS} s, workerProcesses ${settings.slotsPerReplica})`,
    change: {},
  },
  ...variants.filter((v) => changesSomething(v.change)),
];
for (const { label, change } of rows) {
  const s = { ...settings, ...change };
  const cells = tradeJobs.map(({ calls, callSeconds }) => {
    const p = predict(s, calls, callSeconds);
    return `${fmt(p.wallS)} s / ${fmt(p.replicaSeconds)} (${fmt(p.idleReplicaSeconds)})`;
  });
  lines.push(`| ${label} | ${cells.join(" | ")} |`);
}
process.stdout.write(`${lines.join("\n")}\n`);
