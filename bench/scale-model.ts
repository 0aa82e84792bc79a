/**
 * A discrete-event model of how a runtime's Container App scales on its queue, to predict a
 * job's wall time and billed replica-seconds from the stack config, without Azure:
 *
 * - KEDA checks the queue every `pollingIntervalS`, the first check `firstCheckS` after the
 *   messages are sent (on average half an interval). The azure-queue metric counts visible and
 *   in-flight messages; the wanted replicas are ceil(messages / queueLengthPerReplica), at most
 *   `maxReplicas` and what the core quota fits (floor(coreQuota / cpuPerReplica)).
 * - Container Apps adds replicas in steps per check: from 0 to 1, then 4, 8, 16, 32, ...
 *   (each check at most the next step), up to what is wanted.
 * - A new replica takes `coldStartS` before it takes messages, then runs up to
 *   `slotsPerReplica` messages at once; a message's calls run one after another.
 * - Replicas stay while any message is left, and all of them go at the first check at least
 *   `cooldownPeriodS` after the queue is empty (KEDA's cooldown; the HPA's 300 s scale-in
 *   window keeps them as long during a job's tail, so no partial scale-in is modelled).
 * - Billed replica-seconds run from a replica's start (cold start included) to its removal;
 *   the part after the last call is reported apart (billed at the idle rate while the
 *   replica uses next to no CPU).
 */

import { defaultCallsPerBatch } from "../client/call-batches.ts";

export interface ScaleSettings {
  pollingIntervalS: number;
  cooldownPeriodS: number;
  maxReplicas: number;
  /** Messages one replica runs at once (the stack's workerProcesses). */
  slotsPerReplica: number;
  /** The scale rule's queueLength: messages per wanted replica. */
  queueLengthPerReplica: number;
  cpuPerReplica: number;
  coreQuota: number;
  coldStartS: number;
  /** Seconds from sending the messages to KEDA's first look at the queue (default: half an interval). */
  firstCheckS?: number;
}

export interface ScaleJob {
  /** Calls in each message, in queue order. */
  messages: number[];
  callSeconds: number;
}

export interface ScalePrediction {
  /** Send to the last call's end. */
  wallS: number;
  /** Replica-seconds from each replica's start to its removal. */
  replicaSeconds: number;
  /** Of which after the job ended (replicas idle until the cooldown removes them). */
  idleReplicaSeconds: number;
  peakReplicas: number;
  /** When the first replica became ready. */
  firstReadyS: number;
}

/** The replica count Container Apps moves to from `current` in one check: 1, 4, 8, 16, ... */
export function nextReplicaStep(current: number): number {
  if (current < 1) return 1;
  if (current < 4) return 4;
  return 2 ** Math.floor(Math.log2(current) + 1);
}

/** Replicas the quota and the rule's maximum allow. */
export function replicaCap(settings: ScaleSettings): number {
  return Math.max(0, Math.min(settings.maxReplicas, Math.floor(settings.coreQuota / settings.cpuPerReplica + 1e-9)));
}

/** The messages the client sends for `calls` calls on `slots` parallel slots: as client/call-batches.ts groups them. */
export function messagesFor(calls: number, slots: number): number[] {
  const perMessage = defaultCallsPerBatch(calls, slots);
  const messages: number[] = [];
  for (let left = calls; left > 0; left -= perMessage) messages.push(Math.min(perMessage, left));
  return messages;
}

export function predictScaling(settings: ScaleSettings, job: ScaleJob): ScalePrediction {
  const cap = replicaCap(settings);
  if (cap < 1)
    throw new RangeError(`no replica fits: maxReplicas ${settings.maxReplicas}, core quota ${settings.coreQuota}, ${settings.cpuPerReplica} vCPU per replica`);
  const firstCheck = settings.firstCheckS ?? settings.pollingIntervalS / 2;
  const replicas: { start: number; ready: number }[] = [];
  /** End times of the messages running now. */
  const running: number[] = [];
  let next = 0; // the next message to start
  let now = 0;
  let check = firstCheck;
  let lastEnd = 0;
  let firstReady = Number.POSITIVE_INFINITY;
  const readyReplicas = (): number => replicas.filter((r) => r.ready <= now).length;

  while (next < job.messages.length || running.length > 0) {
    // Start what the ready replicas have room for.
    const free = readyReplicas() * settings.slotsPerReplica - running.length;
    for (let i = 0; i < free && next < job.messages.length; i += 1) {
      running.push(now + job.messages[next] * job.callSeconds);
      next += 1;
    }
    const pendingReady = replicas.filter((r) => r.ready > now).map((r) => r.ready);
    const events = [check, ...pendingReady, ...running];
    const at = Math.min(...events);
    now = at;
    // Messages that end now free their slots.
    for (let i = running.length - 1; i >= 0; i -= 1) {
      if (running[i] <= now) {
        lastEnd = Math.max(lastEnd, running[i]);
        running.splice(i, 1);
      }
    }
    for (const r of replicas) if (r.ready <= now) firstReady = Math.min(firstReady, r.ready);
    if (now === check) {
      const outstanding = job.messages.length - next + running.length;
      const wanted = Math.min(cap, Math.ceil(outstanding / settings.queueLengthPerReplica));
      if (wanted > replicas.length) {
        const target = Math.min(wanted, nextReplicaStep(replicas.length));
        while (replicas.length < target) replicas.push({ start: now, ready: now + settings.coldStartS });
      }
      check += settings.pollingIntervalS;
    }
  }
  // Scale-in: the first check at least cooldownPeriod after the queue emptied (the last message ended).
  const intervalsAfter = Math.ceil((lastEnd + settings.cooldownPeriodS - firstCheck) / settings.pollingIntervalS - 1e-9);
  const removedAt = Math.max(lastEnd, firstCheck + intervalsAfter * settings.pollingIntervalS);
  return {
    wallS: lastEnd,
    replicaSeconds: replicas.reduce((sum, r) => sum + (removedAt - r.start), 0),
    idleReplicaSeconds: replicas.length * (removedAt - lastEnd),
    peakReplicas: replicas.length,
    firstReadyS: firstReady,
  };
}
