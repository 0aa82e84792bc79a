import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import type { QueueClient } from "@azure/storage-queue";
import { ENV } from "../protocol/env.ts";
import { nextPollDelay, type PollPacing, WAKE_MESSAGE } from "../protocol/polling.ts";
import { packageRoot, WORKER_BUNDLE } from "../protocol/version.ts";
import { isWorkerReadyMessage, isWorkerRunningMessage, workerEnvMessage } from "../protocol/worker-env-message.ts";
import { PARENT_WATCHDOG, stopChild } from "./azurite.ts";

export interface ScalerSettings {
  maxWorkers: number;
  /** Messages one worker takes at once: the KEDA rule's queueLength per replica. */
  messagesPerWorker: number;
  /** Idle time after which all workers are stopped (KEDA's cooldownPeriod). */
  cooldownMs: number;
  /** Exactly the variables a container of this runtime gets. */
  env: Record<string, string>;
  /** File descriptor the workers' stdout and stderr go to. */
  logFd: number;
  /** A worker process already started (and loaded) that the first worker this scaler needs becomes. */
  spare?: WaitingWorker;
}

const BUSY_POLL_MS = 200;
/** Workers in a row that exit with an error before they start taking messages, after which the scaler starts no more: they cannot start. */
export const MAX_FAILED_STARTS = 3;
/**
 * With the queue empty the scaler looks once a second, then less and less often from 4 s on,
 * down to once per 5 s after 20 s (720 requests an hour): its own submits poke it at once, so
 * an idle look only times the cooldown and notices another process's messages.
 */
const IDLE_POLLING: PollPacing = { minMs: 1000, maxMs: 5000, fraction: 0.25 };
/**
 * The local stand-in for a Container App's terminationGracePeriodSeconds: workers get it
 * (ENV.terminationGrace) and are SIGKILLed that long after SIGTERM. Shorter than ACA's 30 s
 * default so that close() with a call running returns within seconds.
 */
export const LOCAL_TERMINATION_GRACE_SECONDS = 10;
const WORKER_STOP_TIMEOUT_MS = LOCAL_TERMINATION_GRACE_SECONDS * 1000;

/** The bundled worker a runtime image runs (tools/build.mjs): local workers run the very same file. */
const WORKER_ENTRY = join(packageRoot(), WORKER_BUNDLE);

/** Starts a worker process: the bundle with parent-watchdog.cjs preloaded, `env` added to this process's environment. */
function spawnWorker(env: Record<string, string>, logFd: number): ChildProcess {
  const worker = spawn(process.execPath, ["--require", PARENT_WATCHDOG, WORKER_ENTRY], {
    env: { ...process.env, ...env },
    // The IPC channel tells the worker when this process is gone (parent-watchdog.cjs), and the scaler's wake-ups.
    stdio: ["ignore", logFd, logFd, "ipc"],
  });
  worker.unref();
  worker.channel?.unref();
  return worker;
}

/**
 * A worker process that gets its variables over its IPC channel (ENV.envFromParent), never in
 * its environment: every local worker starts so, so that the signing key and the storage key
 * are not in the process's initial environment, which /proc/<pid>/environ shows to anything
 * running as the user, the functions the worker runs included (docs/security.md). It loads,
 * says it is ready and waits for them. The local backend also starts one beside Azurite as a
 * spare, so that Node's start and the worker's modules (a few hundred ms of CPU) overlap
 * Azurite's start; the first scaler that needs a worker adopts it with its runtime's variables.
 */
export class WaitingWorker {
  private readonly worker: ChildProcess;
  private ready = false;
  /** It said it takes messages (its environment checked out). */
  private running = false;

  /** Starts the process; with `env`, a worker of that runtime at once, else a spare for take(). */
  constructor(
    logFd: number,
    private adopted?: Record<string, string>,
  ) {
    this.worker = spawnWorker({ [ENV.envFromParent]: "1" }, logFd);
    this.worker.on("message", (message: unknown) => {
      if (isWorkerRunningMessage(message)) this.running = true;
      if (!isWorkerReadyMessage(message)) return;
      this.ready = true;
      this.sendEnv();
    });
  }

  /** This worker, given `env` (sent once it listens), if it is still waiting; each is taken once. */
  take(env: Record<string, string>): WaitingWorker | undefined {
    const { worker } = this;
    if (this.adopted || worker.exitCode !== null || worker.signalCode !== null || !worker.connected) return undefined;
    this.adopted = env;
    this.sendEnv();
    return this;
  }

  get process(): ChildProcess {
    return this.worker;
  }

  /** Whether it got as far as taking messages. */
  get started(): boolean {
    return this.running;
  }

  /** Stops it unless a scaler took it (the scaler stops its workers). */
  stop(): void {
    if (!this.adopted) this.worker.kill("SIGKILL");
  }

  private sendEnv(): void {
    if (this.ready && this.adopted && this.worker.connected) this.worker.send(workerEnvMessage(this.adopted), () => undefined);
  }
}

/**
 * The local KEDA: watches one runtime queue and keeps between 0 and maxWorkers worker
 * processes, one per `messagesPerWorker` queued messages, scaling to zero after the
 * cooldown. Workers are separate processes running the worker bundle, as in a container.
 */
export class LocalWorkerScaler {
  private readonly workers = new Set<ChildProcess>();
  private timer?: NodeJS.Timeout;
  private lastBusy = 0;
  private peak = 0;
  private started = 0;
  private closed = false;
  /** Workers in a row that exited with an error before they started (MAX_FAILED_STARTS). */
  private failedStarts = 0;
  /** Each worker's start and stop, epoch ms: the replica-seconds a cost estimate bills. */
  private readonly lifetimes: { workerId: string; started: number; stopped?: number }[] = [];

  constructor(
    private readonly queue: QueueClient,
    private readonly settings: ScalerSettings,
  ) {}

  get peakWorkers(): number {
    return this.peak;
  }

  get workersStarted(): number {
    return this.started;
  }

  get workerLifetimes(): readonly { workerId: string; started: number; stopped?: number }[] {
    return this.lifetimes;
  }

  get running(): readonly ChildProcess[] {
    return [...this.workers];
  }

  /** Whether its workers cannot start: MAX_FAILED_STARTS in a row exited with an error before taking messages, and it starts no more. */
  get failing(): boolean {
    return this.failedStarts >= MAX_FAILED_STARTS;
  }

  /** Messages were just queued: scale up now instead of at the next poll. */
  poke(messages: number): void {
    this.lastBusy = Date.now();
    // Idle workers poll with a backed-off sleep: wake them so they take the messages now.
    for (const worker of this.workers) {
      if (worker.connected) worker.send(WAKE_MESSAGE, () => undefined);
    }
    this.scaleUpTo(messages);
    this.scheduleBusy();
  }

  /** A job is about to be queued: start the first worker now, so it boots while the client batches and uploads. */
  prestart(): void {
    this.lastBusy = Date.now();
    this.scaleUpTo(1);
    this.scheduleBusy();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await Promise.all([...this.workers].map((worker) => stopChild(worker, WORKER_STOP_TIMEOUT_MS)));
  }

  /** Synchronous, for the end of the client process: nothing may outlive it. */
  signalAll(signal: NodeJS.Signals): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const worker of this.workers) worker.kill(signal);
  }

  /** Work was queued: look soon while more workers could start, else at the idle pace (only the cooldown needs timing). */
  private scheduleBusy(): void {
    this.schedule(this.canGrow() ? BUSY_POLL_MS : IDLE_POLLING.minMs);
  }

  private canGrow(): boolean {
    return this.workers.size < this.settings.maxWorkers;
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    let queued = 0;
    try {
      queued = (await this.queue.getProperties()).approximateMessagesCount ?? 0;
    } catch {
      // Storage briefly unreachable: keep the workers we have and look again soon.
      queued = -1;
    }
    if (this.closed) return;
    const now = Date.now();
    if (queued !== 0) this.lastBusy = now;
    if (queued > 0) this.scaleUpTo(queued);
    if (queued === 0 && this.workers.size > 0 && now - this.lastBusy >= this.settings.cooldownMs) {
      await Promise.all([...this.workers].map((worker) => stopChild(worker, WORKER_STOP_TIMEOUT_MS)));
    }
    // Messages waiting and room for more workers: look again soon (scale up for a nested job, say).
    // All workers up or nothing queued: only the cooldown needs timing, and submits poke at once.
    this.schedule(queued !== 0 && this.canGrow() ? BUSY_POLL_MS : nextPollDelay(now - this.lastBusy, IDLE_POLLING));
  }

  private scaleUpTo(messages: number): void {
    const wanted = Math.min(this.settings.maxWorkers, Math.ceil(messages / this.settings.messagesPerWorker));
    while (!this.closed && !this.failing && this.workers.size < wanted) this.startWorker();
  }

  private startWorker(): void {
    this.started += 1;
    const lifetime: { workerId: string; started: number; stopped?: number } = { workerId: `local-${process.pid}-${this.started}`, started: Date.now() };
    this.lifetimes.push(lifetime);
    const env = { ...this.settings.env, [ENV.workerId]: lifetime.workerId };
    const waiting = this.settings.spare?.take(env) ?? new WaitingWorker(this.settings.logFd, env);
    const worker = waiting.process;
    this.workers.add(worker);
    this.peak = Math.max(this.peak, this.workers.size);
    worker.once("exit", (code) => {
      lifetime.stopped = Date.now();
      this.workers.delete(worker);
      if (this.closed) return;
      // Only a worker that ended on its own with an error failed to start; one killed by a signal (scale-in, a test, the OOM killer) did not.
      if (waiting.started) this.failedStarts = 0;
      else if (code !== null && code !== 0) this.failedStarts += 1;
    });
  }
}
