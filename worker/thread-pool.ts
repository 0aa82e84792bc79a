import { Worker } from "node:worker_threads";
import type { RemoteErrorInfo } from "../protocol/data-codec.ts";
import { REMOTE_ERROR_NAMES } from "../protocol/errors.ts";
import { checkedBatchOutput } from "../protocol/output.ts";
import { CallChildren } from "./call-children.ts";
import { memoryLimit, type MemoryLimit } from "./memory-limit.ts";
import type { CallEnd, ThreadReply, ThreadRequest } from "./thread-messages.ts";

/** A call's outcome with what its thread measured (absent when the pool ended the call) and its console output. */
export type CallResult = ({ ok: true; result: Uint8Array } | { ok: false; error: RemoteErrorInfo }) &
  Pick<CallEnd, "started" | "finished"> &
  Partial<Pick<CallEnd, "cpuMs" | "peakMemoryBytes">> & { logs?: string };

export interface CallRequest {
  funcId: string;
  funcText: string;
  args: Uint8Array;
  timeoutSeconds: number;
  /** Environment variables set for the call (the job's `extraEnv`). */
  env?: Record<string, string>;
  /** Told when a thread starts the call. */
  onStart?: () => void;
  /** Aborted when the call is cancelled (worker/cancel-watch.ts): it does not start, or its thread is ended. */
  signal?: AbortSignal;
  /** The outcome's error when `signal` ends the call. */
  cancelledError?: RemoteErrorInfo;
}

interface QueuedCall extends CallRequest {
  resolve: (result: CallResult) => void;
}

interface RunningCall {
  seq: number;
  call: QueuedCall;
  thread: CallThread;
  started: number;
  timer: NodeJS.Timeout;
  /** What the call waits on while it waits on a nested job. */
  waitingOn?: string;
  output: string[];
}

interface CallThread {
  worker: Worker;
  loaded: Set<string>;
  calls: Map<number, RunningCall>;
  /** What the thread last said its heap and buffers hold, and when (it tells every 100 ms while it runs calls). */
  memory?: { bytes: number; at: number };
}

/** The thread entry sits next to the worker in the bundle (tools/build.mjs names it so). */
const THREAD_SCRIPT = new URL("./call-thread.mjs", import.meta.url);

/** Calls get this share of the runtime's memory; the rest is the worker process's own. */
const CALLS_MEMORY_SHARE = 0.75;
/** What one more thread costs (measured: about 43 MB once a call in it has loaded the client for a nested job). */
const THREAD_COST_MB = 48;
/** Above this share of the runtime's memory in use, waiting calls no longer make room for more calls. */
const MORE_CALLS_MEMORY_SHARE = 0.9;

const MB = 1024 * 1024;
/**
 * How often the process's resident memory is checked while calls run. Off-heap memory
 * (Buffers) is not bounded by a thread's heap limit: a call filling 64 MB Buffers in a loop
 * gains about 1 GB a second here, so the check is frequent; reading it costs microseconds.
 */
const MEMORY_CHECK_MS = 50;
/** A thread that has not reported its memory for this long is busy in synchronous code. */
const STALE_REPORT_MS = 500;

/**
 * Runs calls in worker threads, `size` at a time (the runtime's workerProcesses). A thread
 * whose call times out, runs out of memory or exits is replaced; the call gets a failure
 * outcome and the worker process goes on.
 *
 * A call that waits on futures of a nested job (protocol/nested-wait.ts) does not count
 * against `size` while it waits: another call starts, in a new thread while the process's
 * memory allows one more, else in the thread of a waiting call (whose event loop is free
 * meanwhile). `capacity` grows by the calls waiting, so the worker takes more messages:
 * bounded by memory, not by the slot count, and nested jobs never deadlock.
 *
 * The pool holds the stack's key, which its threads never get: a reducer's thread asks it
 * to check the MACs of the map outputs it reads (worker/call-results.ts).
 */
export class CallThreadPool {
  private readonly threads: CallThread[] = [];
  private readonly queued: QueuedCall[] = [];
  private readonly running = new Map<number, RunningCall>();
  private waitingCalls = 0;
  private seq = 0;
  private readonly memoryPerThreadMb: number;
  private capacitySignal?: { promise: Promise<void>; resolve: () => void };
  private readonly memoryLimit: MemoryLimit;
  private memoryCheck?: NodeJS.Timeout;
  /** A thread stopped for memory is being torn down: its memory is not free yet, so no other call is blamed meanwhile. */
  private reclaiming = false;
  /** The child processes each call started, ended with it. */
  private readonly children = new CallChildren();

  constructor(
    private readonly size: number,
    /** The runtime's memory (MB): split between the threads, and the bound on extra threads and calls. */
    private readonly runtimeMemoryMb: number,
    /** The stack's key, undefined on a worker that runs unsigned messages (its outputs are then read unchecked, as clients without a key do). */
    private readonly signingKey: string | undefined,
  ) {
    this.memoryPerThreadMb = Math.max(64, Math.floor((runtimeMemoryMb * CALLS_MEMORY_SHARE) / size));
    this.memoryLimit = memoryLimit(runtimeMemoryMb);
    for (let i = 0; i < size; i += 1) this.threads.push(this.spawn());
  }

  /** Calls the pool has room for: its slots, plus one per call waiting on a nested job while memory allows. */
  get capacity(): number {
    const memoryAllows = process.memoryUsage.rss() < this.runtimeMemoryMb * MORE_CALLS_MEMORY_SHARE * MB;
    return this.size + (memoryAllows ? this.waitingCalls : 0);
  }

  /** Resolves when `capacity` may have changed (a call started or stopped waiting, or ended). */
  capacityChanged(): Promise<void> {
    if (!this.capacitySignal) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.capacitySignal = { promise, resolve };
    }
    return this.capacitySignal.promise;
  }

  run(request: CallRequest): Promise<CallResult> {
    return new Promise((resolve) => {
      const call: QueuedCall = { ...request, resolve };
      this.queued.push(call);
      request.signal?.addEventListener("abort", () => this.cancel(call), { once: true });
      if (request.signal?.aborted) this.cancel(call);
      else this.dispatch();
    });
  }

  /** A cancelled call: taken out of the queue, or its thread ended (the thread's other calls are interrupted, as by a timeout). */
  private cancel(call: QueuedCall): void {
    const error = call.cancelledError ?? { name: REMOTE_ERROR_NAMES.cancelled, message: "the call was cancelled" };
    const index = this.queued.indexOf(call);
    if (index >= 0) {
      this.queued.splice(index, 1);
      const now = Date.now();
      call.resolve({ ok: false, error, started: now, finished: now });
      return;
    }
    const running = [...this.running.values()].find((r) => r.call === call);
    if (running) void this.failThread(running.thread, error, running.seq);
  }

  private spawn(): CallThread {
    const worker = new Worker(THREAD_SCRIPT, {
      resourceLimits: { maxOldGenerationSizeMb: this.memoryPerThreadMb },
      stdout: false,
      stderr: false,
    });
    const thread: CallThread = { worker, loaded: new Set(), calls: new Map() };
    worker.on("message", (reply: ThreadReply) => {
      if (reply.type === "memory") thread.memory = { bytes: reply.bytes, at: Date.now() };
      else if (reply.type === "checkOutput") this.post(thread, { type: "outputChecked", id: reply.id, refused: this.outputRefusal(reply.key, reply.bytes) });
      else this.onReply(reply);
    });
    worker.on("error", (error: Error & { code?: string }) => {
      const outOfMemory = error.code === "ERR_WORKER_OUT_OF_MEMORY";
      this.failThread(thread, {
        name: outOfMemory ? REMOTE_ERROR_NAMES.outOfMemory : error.name,
        message: outOfMemory
          ? `the call ran out of memory (limit ${this.memoryPerThreadMb} MB per call; raise runtime_memory or lower worker_processes)`
          : `the call crashed its thread: ${error.message}`,
        stack: error.stack,
      });
    });
    worker.on("exit", (code) => {
      this.failThread(thread, { name: "CallExitedError", message: `the call ended its process with exit code ${code} (process.exit called?)` });
    });
    return thread;
  }

  private dispatch(): void {
    while (this.queued.length > 0 && this.running.size - this.waitingCalls < this.size) {
      this.start(this.threadForNextCall(), this.queued.shift()!);
    }
  }

  /**
   * An idle thread; else a new one while memory allows; else the thread of waiting calls
   * with the fewest calls (one exists: fewer calls are active than slots, and there are at
   * least as many threads as slots).
   */
  private threadForNextCall(): CallThread {
    const idle = this.threads.find((t) => t.calls.size === 0);
    if (idle) return idle;
    if (process.memoryUsage.rss() + THREAD_COST_MB * MB <= this.runtimeMemoryMb * CALLS_MEMORY_SHARE * MB) {
      const thread = this.spawn();
      this.threads.push(thread);
      return thread;
    }
    const allWaiting = this.threads.filter((t) => [...t.calls.values()].every((c) => c.waitingOn !== undefined));
    return allWaiting.reduce((a, b) => (b.calls.size < a.calls.size ? b : a));
  }

  private start(thread: CallThread, call: QueuedCall): void {
    this.seq += 1;
    const seq = this.seq;
    if (!thread.loaded.has(call.funcId)) {
      this.post(thread, { type: "load", funcId: call.funcId, text: call.funcText });
      thread.loaded.add(call.funcId);
    }
    const deadline = Date.now() + call.timeoutSeconds * 1000;
    const timer = setTimeout(() => this.timedOut(seq), call.timeoutSeconds * 1000);
    const running: RunningCall = { seq, call, thread, started: Date.now(), timer, output: [] };
    thread.calls.set(seq, running);
    this.running.set(seq, running);
    this.post(thread, { type: "call", seq, funcId: call.funcId, args: call.args, env: call.env, deadline });
    this.memoryCheck ??= setInterval(() => this.checkMemory(), MEMORY_CHECK_MS).unref();
    call.onStart?.();
  }

  /**
   * Stops the call that took the process over its memory limit (Buffers included, which the
   * thread's heap limit does not see) before the host or the container's kernel ends the
   * whole process: the call fails with OutOfMemoryError, the worker and its other calls go on.
   */
  private checkMemory(): void {
    if (this.running.size === 0) {
      clearInterval(this.memoryCheck);
      this.memoryCheck = undefined;
      return;
    }
    const rss = process.memoryUsage.rss();
    if (this.reclaiming || rss <= this.memoryLimit.bytes) return;
    const thread = this.heaviestThread(rss);
    const active = [...thread.calls.values()].filter((c) => c.waitingOn === undefined);
    this.reclaiming = true;
    this.failThread(
      thread,
      {
        name: REMOTE_ERROR_NAMES.outOfMemory,
        message: `the call took its worker process to ${Math.round(rss / MB)} MB of resident memory, over ${this.memoryLimit.describe} (Buffers and other off-heap memory count); raise runtime_memory, or lower worker_processes so fewer calls share it`,
      },
      active.length === 1 ? active[0].seq : undefined,
    ).finally(() => {
      this.reclaiming = false;
    });
  }

  /**
   * The busy thread that most likely holds the memory: the largest recent report, where a
   * thread that stopped reporting (a synchronous loop) is counted with what no recent report
   * accounts for.
   */
  private heaviestThread(rss: number): CallThread {
    const now = Date.now();
    const busy = this.threads.filter((t) => t.calls.size > 0);
    const recent = (t: CallThread) => t.memory !== undefined && now - t.memory.at <= STALE_REPORT_MS;
    const accounted = busy.filter(recent).reduce((sum, t) => sum + (t.memory?.bytes ?? 0), 0);
    const estimate = (t: CallThread) => (recent(t) ? (t.memory?.bytes ?? 0) : rss - accounted);
    return busy.reduce((a, b) => (estimate(b) > estimate(a) ? b : a));
  }

  /** Why the output stored at `key` must not be read (protocol/output.ts's checks, with the stack's key), or undefined. */
  private outputRefusal(key: string, bytes: Uint8Array): string | undefined {
    try {
      checkedBatchOutput(bytes, this.signingKey, key);
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  }

  private post(thread: CallThread, request: ThreadRequest): void {
    thread.worker.postMessage(request);
  }

  private onReply(reply: Exclude<ThreadReply, { type: "memory" | "checkOutput" }>): void {
    const running = this.running.get(reply.seq);
    if (!running) return;
    switch (reply.type) {
      case "output":
        running.output.push(reply.text);
        return;
      case "waiting":
        if (running.waitingOn !== undefined) return;
        running.waitingOn = reply.on;
        this.waitingCalls += 1;
        this.signalCapacity();
        this.dispatch();
        return;
      case "resumed":
        this.stopWaiting(running);
        this.signalCapacity();
        return;
      case "childStarted":
        this.children.spawned(reply.seq, reply.pid);
        return;
      case "childExited":
        this.children.exited(reply.seq, reply.pid);
        return;
      case "syncChildStarting":
        this.children.blockedIn(reply.seq, reply.task);
        return;
      case "syncChildReturned":
        this.children.returned(reply.seq);
        return;
      case "done": {
        const { type: _type, seq: _seq, ...result } = reply;
        this.settle(running, result);
        const { thread } = running;
        // Threads beyond the slots were started for calls that waited: let them go when idle.
        if (thread.calls.size === 0 && this.threads.length > this.size) this.retire(thread);
        this.dispatch();
      }
    }
  }

  private timedOut(seq: number): void {
    const running = this.running.get(seq);
    if (!running) return;
    const waiting = running.waitingOn === undefined ? "" : ` (it was waiting on ${running.waitingOn}, which made no progress in time)`;
    this.failThread(
      running.thread,
      { name: "TimeoutError", message: `the call did not finish within its timeout of ${running.call.timeoutSeconds} s${waiting}` },
      seq,
    );
  }

  private stopWaiting(running: RunningCall): void {
    if (running.waitingOn === undefined) return;
    running.waitingOn = undefined;
    this.waitingCalls -= 1;
  }

  /** Resolves a call's outcome and forgets it. */
  private settle(running: RunningCall, result: CallResult): void {
    clearTimeout(running.timer);
    this.stopWaiting(running);
    this.running.delete(running.seq);
    running.thread.calls.delete(running.seq);
    this.children.end(running.seq);
    const logs = running.output.length > 0 ? running.output.join("") : undefined;
    running.call.resolve(logs === undefined ? result : { ...result, logs });
    this.signalCapacity();
  }

  /** Resolves once the thread is gone (its memory freed). */
  private retire(thread: CallThread): Promise<unknown> {
    this.threads.splice(this.threads.indexOf(thread), 1);
    thread.worker.removeAllListeners();
    // A retired thread may still report an error (it hit its heap limit as the memory watch ended
    // it): unheard, an 'error' event would throw in this process and take the worker down.
    thread.worker.on("error", () => undefined);
    return thread.worker.terminate();
  }

  /**
   * Ends a thread's calls with `error` and puts a fresh thread in its place. With `culprit`,
   * only that call gets `error`: calls that shared its thread get an error that names it.
   */
  private failThread(thread: CallThread, error: RemoteErrorInfo, culprit?: number): Promise<unknown> {
    if (!this.threads.includes(thread)) return Promise.resolve();
    const gone = this.retire(thread);
    const finished = Date.now();
    for (const running of [...thread.calls.values()]) {
      const own = culprit === undefined || running.seq === culprit;
      this.settle(running, {
        ok: false,
        error: own
          ? error
          : {
              name: "CallInterruptedError",
              message: `the call shared its thread, while it waited on a nested job, with a call that ended it (${error.name}: ${error.message})`,
            },
        started: running.started,
        finished,
      });
    }
    if (this.threads.length < this.size) this.threads.push(this.spawn());
    this.dispatch();
    return gone;
  }

  private signalCapacity(): void {
    const signal = this.capacitySignal;
    this.capacitySignal = undefined;
    signal?.resolve();
  }
}
