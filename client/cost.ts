/**
 * `fexec.cost()`: what a job costs on Azure Container Apps' Consumption plan. Container Apps
 * bills a replica's vCPU and memory for every second it runs, from start to stop, whether it
 * runs calls or waits out the scale-in cooldown; Azure Storage bills each request. So the
 * estimate is replica lifetimes times the runtime's cpu/memory pair, plus the storage requests
 * the client and the workers counted. On the local backend, the same figure answers "what
 * would this job cost on Azure" for the replicas the local scaler ran.
 */
import { z } from "zod";
import type { ReplicaLifetime } from "../runtime-model/backend.ts";
import { cpuForMemory } from "../runtime-model/memory.ts";

/** USD rates the estimate uses; `region` and `asOf` say where and when they were published. */
export interface Prices {
  /** Active vCPU, per vCPU-second (meter 'Standard vCPU Active Usage'). */
  vcpuSecondUsd: number;
  /** Active memory, per GiB-second (meter 'Standard Memory Active Usage'). */
  gibSecondUsd: number;
  /** Storage requests, per 10,000 (blob and queue requests alike, at the blob write rate: the dearest class). */
  storage10kRequestsUsd: number;
  region: string;
  asOf: string;
  source: string;
}

/**
 * Microsoft's pay-as-you-go list prices from the Azure Retail Prices API (Consumption plan,
 * USD): Container Apps' active vCPU and memory meters in West US 2 as read on 2026-09-19, and
 * Storage's 'Hot LRS Write Operations' (General Block Blob v2) in East US as read on 2026-08-10.
 * Other regions differ by a few tens of percent: set `cost:` in the config for yours.
 */
export const DEFAULT_PRICES: Prices = {
  vcpuSecondUsd: 0.000034,
  gibSecondUsd: 0.000004,
  storage10kRequestsUsd: 0.05,
  region: "westus2",
  asOf: "2026-09-19",
  source:
    "Azure Retail Prices API, Consumption: Container Apps 'Standard vCPU Active Usage' and 'Standard Memory Active Usage' (westus2, 2026-09-19); Storage 'Hot LRS Write Operations' (eastus, 2026-08-10)",
};

/** The stack's default KEDA cooldownPeriod (components/stack-config.ts): an idle replica runs this long before it is scaled in. */
export const DEFAULT_AZURE_COOLDOWN_SECONDS = 300;

/** The config file's `cost:` section: each key overrides one default price, or the cooldown used to infer Azure replica lifetimes. */
export const costSection = z
  .object({
    vcpu_second_usd: z.number().nonnegative().optional(),
    gib_second_usd: z.number().nonnegative().optional(),
    storage_10k_requests_usd: z.number().nonnegative().optional(),
    region: z.string().optional(),
    as_of: z.string().optional(),
    /** The runtime's cooldownPeriod in seconds, when the stack sets another than 300. */
    cooldown_seconds: z.number().nonnegative().optional(),
  })
  .strict();
export type CostSection = z.infer<typeof costSection>;

/** The prices of a config's `cost:` section, defaults where it says nothing; overridden prices name the config as their source. */
export function pricesFrom(section: CostSection = {}): Prices {
  const overridden = section.vcpu_second_usd !== undefined || section.gib_second_usd !== undefined || section.storage_10k_requests_usd !== undefined;
  return {
    vcpuSecondUsd: section.vcpu_second_usd ?? DEFAULT_PRICES.vcpuSecondUsd,
    gibSecondUsd: section.gib_second_usd ?? DEFAULT_PRICES.gibSecondUsd,
    storage10kRequestsUsd: section.storage_10k_requests_usd ?? DEFAULT_PRICES.storage10kRequestsUsd,
    region: section.region ?? (overridden ? "as configured" : DEFAULT_PRICES.region),
    asOf: section.as_of ?? (overridden ? "as configured" : DEFAULT_PRICES.asOf),
    source: overridden ? `the config's cost: section, defaults otherwise (${DEFAULT_PRICES.source})` : DEFAULT_PRICES.source,
  };
}

/** What the estimate reads of a call: its worker, its times (epoch ms) and its runtime's memory (MB). */
export interface BilledCall {
  workerId?: string;
  started?: number;
  finished?: number;
  memory: number;
}

export interface CostReport {
  calls: number;
  replicas: number;
  /** Sum of the replicas' lifetimes, seconds. */
  replicaSeconds: number;
  vcpuSeconds: number;
  gibSeconds: number;
  /** Client and worker storage requests. */
  storageRequests: number;
  /** computeUsd + storageUsd. */
  usd: number;
  computeUsd: number;
  storageUsd: number;
  /** Replica time after each replica's last call (the scale-in cooldown, or idle so far), and its share of computeUsd. */
  cooldownSeconds: number;
  cooldownUsd: number;
  /** true when the lifetimes were inferred from call stats (Azure), false when the backend recorded them (local). */
  lifetimesInferred: boolean;
  prices: Prices;
  notes: string[];
}

export interface CostInput {
  calls: readonly BilledCall[];
  /** The backend's recorded replica lifetimes (local); undefined: inferred from the calls and cooldownSeconds. */
  lifetimes?: readonly ReplicaLifetime[];
  /** Bill only the recorded replicas that ran one of the calls (a subset of the executor's calls), not every one. */
  onlyReplicasOfCalls?: boolean;
  cooldownSeconds: number;
  storageRequests: { client: number; workers: number };
  prices: Prices;
  /** What "still running" is measured to; default Date.now(). */
  now?: number;
}

const LEFT_OUT =
  "Left out: the monthly free grant (180,000 vCPU-seconds and 360,000 GiB-seconds per subscription), the lower idle rate (every replica-second is billed at the active rate), " +
  "egress, storage capacity, the registry and Log Analytics. Storage requests are billed at the blob write rate; reads and queue operations cost less, so that part is an upper bound.";

/** The cost of one call's run time at its runtime's cpu/memory pair (jobSummary's per-call columns): its share, not the replica's idle time. */
export function callCost(durationMs: number, memory: number, prices: Prices): { vcpuSeconds: number; gibSeconds: number; usd: number } {
  const seconds = durationMs / 1000;
  const vcpuSeconds = seconds * cpuForMemory(memory);
  const gibSeconds = (seconds * memory) / 1024;
  return { vcpuSeconds, gibSeconds, usd: vcpuSeconds * prices.vcpuSecondUsd + gibSeconds * prices.gibSecondUsd };
}

/**
 * Azure's replica lifetimes, inferred from the calls: each worker id from its first call's
 * start to its last call's finish plus the cooldown (KEDA scales a replica in that long after
 * the queue empties), or still running if that is after `now`.
 */
export function inferLifetimes(calls: readonly BilledCall[], cooldownSeconds: number, now: number): ReplicaLifetime[] {
  const byWorker = new Map<string, ReplicaLifetime & { lastFinish: number }>();
  for (const call of calls) {
    if (call.workerId === undefined || call.started === undefined) continue;
    const finish = call.finished ?? now;
    const known = byWorker.get(call.workerId);
    if (!known) byWorker.set(call.workerId, { workerId: call.workerId, memory: call.memory, started: call.started, lastFinish: finish });
    else {
      known.started = Math.min(known.started, call.started);
      known.lastFinish = Math.max(known.lastFinish, finish);
      known.memory = Math.max(known.memory, call.memory);
    }
  }
  return [...byWorker.values()].map(({ lastFinish, ...life }) => {
    const stop = lastFinish + cooldownSeconds * 1000;
    return stop <= now ? { ...life, stopped: stop } : life;
  });
}

/** The estimate: replica-seconds at each replica's cpu/memory pair, plus storage requests. */
export function estimateCost(input: CostInput): CostReport {
  const now = input.now ?? Date.now();
  const { prices } = input;
  const inferred = input.lifetimes === undefined;
  const lastFinish = new Map<string, number>();
  const memoryOf = new Map<string, number>();
  for (const call of input.calls) {
    if (call.workerId === undefined || call.finished === undefined) continue;
    lastFinish.set(call.workerId, Math.max(lastFinish.get(call.workerId) ?? 0, call.finished));
    memoryOf.set(call.workerId, Math.max(memoryOf.get(call.workerId) ?? 0, call.memory));
  }
  let lifetimes = input.lifetimes ?? inferLifetimes(input.calls, input.cooldownSeconds, now);
  if (input.onlyReplicasOfCalls && !inferred) lifetimes = lifetimes.filter((life) => lastFinish.has(life.workerId));
  let replicaSeconds = 0;
  let vcpuSeconds = 0;
  let gibSeconds = 0;
  let cooldownSeconds = 0;
  let cooldownUsd = 0;
  for (const life of lifetimes) {
    const memory = life.memory || memoryOf.get(life.workerId) || 0;
    if (memory === 0) continue; // a replica of a runtime this estimate knows nothing of
    const end = life.stopped ?? now;
    const seconds = Math.max(0, end - life.started) / 1000;
    const cpu = cpuForMemory(memory);
    replicaSeconds += seconds;
    vcpuSeconds += seconds * cpu;
    gibSeconds += (seconds * memory) / 1024;
    const idle = Math.max(0, end - Math.max(life.started, lastFinish.get(life.workerId) ?? life.started)) / 1000;
    cooldownSeconds += idle;
    cooldownUsd += idle * (cpu * prices.vcpuSecondUsd + (memory / 1024) * prices.gibSecondUsd);
  }
  const storageRequests = input.storageRequests.client + input.storageRequests.workers;
  const computeUsd = vcpuSeconds * prices.vcpuSecondUsd + gibSeconds * prices.gibSecondUsd;
  const storageUsd = (storageRequests / 10_000) * prices.storage10kRequestsUsd;
  const share = computeUsd > 0 ? Math.round((cooldownUsd / computeUsd) * 100) : 0;
  const notes = [
    inferred
      ? `Replica lifetimes inferred from the calls' stats: each worker id from its first call's start to its last call's finish plus the cooldown (${input.cooldownSeconds} s); time a replica spent starting before its first call, and replicas that ran no call, are not seen.`
      : "Replica lifetimes as the backend recorded them: each local worker process from start to stop, billed as if it were a Container Apps replica.",
    `${share}% of the compute cost is replica time after each replica's last call (the scale-in cooldown, or idle so far).`,
    `Storage requests: ${input.storageRequests.client} by the client, ${input.storageRequests.workers} by the workers (as reported in the status documents read so far).`,
    LEFT_OUT,
  ];
  return {
    calls: input.calls.length,
    replicas: lifetimes.length,
    replicaSeconds,
    vcpuSeconds,
    gibSeconds,
    storageRequests,
    usd: computeUsd + storageUsd,
    computeUsd,
    storageUsd,
    cooldownSeconds,
    cooldownUsd,
    lifetimesInferred: inferred,
    prices,
    notes,
  };
}

/** "$0.0123": a few significant digits, since job costs are often fractions of a cent. */
export function formatUsd(usd: number): string {
  if (usd === 0) return "$0";
  return `$${usd >= 1 ? usd.toFixed(2) : usd.toPrecision(3)}`;
}
