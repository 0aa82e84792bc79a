import { AsyncLocalStorage } from "node:async_hooks";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { getHeapStatistics } from "node:v8";
import { parentPort } from "node:worker_threads";
import { decodeValue, describeThrown, encodeCompact } from "../protocol/data-codec.ts";
import { installNestedWaitHook } from "../protocol/nested-wait.ts";
import { MAX_CALL_LOG_BYTES, TRUNCATED_LOG_MARKER } from "../protocol/output.ts";
import { reviveArguments, transferableResult } from "./revive-refs.ts";
import { functionDir, loadFunction } from "./load-function.ts";
import type { ThreadReply, ThreadRequest } from "./thread-messages.ts";
import { limitSyncSpawns, reportSpawns } from "./child-spawns.ts";
import { LithopsError } from "../protocol/errors.ts";

/**
 * Runs inside a worker thread, so that a call that loops forever or runs out of memory can
 * be stopped by terminating this thread alone. A thread runs one call at a time, except
 * that the pool may start another call here while this one waits on a nested job
 * (worker/thread-pool.ts): the async context below tells whose output and waits are whose.
 */
const port = parentPort;
if (!port) throw new LithopsError("call-thread must run in a worker thread");

// Shipped functions resolve packages as a file in this folder would.
const functionFolder = functionDir();
const handlers = new Map<string, (...args: unknown[]) => unknown>();

interface RunningCall {
  seq: number;
  /** The job's extra environment variables, seen by this call alone. */
  env?: Record<string, string>;
  /** When the pool ends the call for its timeout (ms since the epoch). */
  deadline: number;
  /** Nested waits in progress (a call may wait on several things at once). */
  waits: number;
  loggedBytes: number;
  heapAtStart: number;
  heapPeak: number;
}

const currentCall = new AsyncLocalStorage<RunningCall>();
const running = new Set<RunningCall>();

const post = (reply: ThreadReply): void => port.postMessage(reply);

// The pool ends the processes a call started when the call ends (worker/call-children.ts).
reportSpawns((child) => {
  const call = currentCall.getStore();
  const pid = child.pid;
  if (!call || pid === undefined) return;
  post({ type: "childStarted", seq: call.seq, pid });
  child.once("exit", () => post({ type: "childExited", seq: call.seq, pid }));
});
// A synchronous spawn's child, whose pid the blocked thread cannot report, is found through the thread's task.
limitSyncSpawns(() => {
  const call = currentCall.getStore();
  if (!call) return undefined;
  return {
    deadline: call.deadline,
    starting: (task) => post({ type: "syncChildStarting", seq: call.seq, task }),
    returned: () => post({ type: "syncChildReturned", seq: call.seq }),
  };
});

/** V8 heap in use plus memory held by buffers: what a call's data costs this thread. */
function heapInUse(): number {
  const stats = getHeapStatistics();
  return stats.used_heap_size + stats.external_memory;
}

// Between a call's start and end samples, the heap is sampled every 100 ms while calls run
// (when the call lets the event loop turn), so a peak the call frees before it ends is seen too;
// the pool gets each sample, to tell which thread holds the memory when the process has too much.
const SAMPLE_MS = 100;
let sampler: NodeJS.Timeout | undefined;
function sampleHeap(): void {
  const inUse = heapInUse();
  for (const call of running) call.heapPeak = Math.max(call.heapPeak, inUse);
  post({ type: "memory", bytes: inUse });
}

/** Sends the call's console output to the pool as it is written (so a call stopped by its timeout keeps it), up to the cap. */
function capture(call: RunningCall, chunk: unknown): void {
  if (call.loggedBytes >= MAX_CALL_LOG_BYTES) return;
  const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : Buffer.from(chunk as Uint8Array);
  const room = MAX_CALL_LOG_BYTES - call.loggedBytes;
  if (bytes.length <= room) {
    call.loggedBytes += bytes.length;
    post({ type: "output", seq: call.seq, text: bytes.toString("utf8") });
  } else {
    call.loggedBytes = MAX_CALL_LOG_BYTES;
    post({ type: "output", seq: call.seq, text: `${bytes.subarray(0, room).toString("utf8")}${TRUNCATED_LOG_MARKER}` });
  }
}

// console.log and direct writes alike go through these. The worker's log gets a call's output
// too, capped as the stored output is, and on stdout only: stderr carries the worker's own
// lines, whose alert markers a function's printout cannot fake (protocol/log-markers.ts).
const passThrough = process.stdout.write.bind(process.stdout) as (...args: unknown[]) => boolean;
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = ((...args: unknown[]) => {
    const call = currentCall.getStore();
    if (!call) return write(...args);
    const underCap = call.loggedBytes < MAX_CALL_LOG_BYTES;
    capture(call, args[0]);
    if (underCap) return passThrough(...args);
    const done = args.findLast((arg) => typeof arg === "function") as (() => void) | undefined;
    if (done) queueMicrotask(done);
    return true;
  }) as typeof stream.write;
}

installNestedWaitHook({
  begin(on) {
    const call = currentCall.getStore();
    if (!call) return () => undefined;
    call.waits += 1;
    if (call.waits === 1) post({ type: "waiting", seq: call.seq, on });
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      call.waits -= 1;
      if (call.waits === 0 && running.has(call)) post({ type: "resumed", seq: call.seq });
    };
  },
});

// Map output checks asked of the worker's main thread (worker/call-results.ts), by id, until it answers.
const outputChecks = new Map<number, (refused: string | undefined) => void>();
let lastOutputCheck = 0;

/** Has the worker's main thread, which alone holds the stack's key, check a map output's MAC. */
function checkOutputMac(key: string, bytes: Uint8Array): Promise<string | undefined> {
  lastOutputCheck += 1;
  const id = lastOutputCheck;
  return new Promise((resolve) => {
    outputChecks.set(id, resolve);
    post({ type: "checkOutput", id, key, bytes });
  });
}

async function runCall(
  funcId: string,
  argBytes: Uint8Array,
): Promise<{ ok: true; result: Uint8Array } | { ok: false; error: ReturnType<typeof describeThrown> }> {
  try {
    const handler = handlers.get(funcId);
    if (!handler) throw new LithopsError(`function ${funcId} was not loaded in this thread`);
    const positional = await reviveArguments(decodeValue(argBytes) as unknown[], checkOutputMac);
    const value = await handler(...positional);
    return { ok: true, result: encodeCompact(transferableResult(value), "the call's return value") };
  } catch (thrown) {
    return { ok: false, error: describeThrown(thrown) };
  }
}

/** The running call's extra environment variable `name` (its job's `extraEnv`), if it has one. */
function callEnv(name: string | symbol): string | undefined {
  return typeof name === "string" ? currentCall.getStore()?.env?.[name] : undefined;
}

// The thread's process.env, seen through the running call's extraEnv: calls sharing this
// thread (while one waits on a nested job) each see their own variables, and nothing has to
// be put back when a call ends.
const threadEnv = process.env;
process.env = new Proxy(threadEnv, {
  get: (target, name) => callEnv(name) ?? Reflect.get(target, name),
  has: (target, name) => callEnv(name) !== undefined || Reflect.has(target, name),
  ownKeys: (target) => [...new Set([...Reflect.ownKeys(target), ...Object.keys(currentCall.getStore()?.env ?? {})])],
  getOwnPropertyDescriptor: (target, name) => {
    const value = callEnv(name);
    return value === undefined ? Reflect.getOwnPropertyDescriptor(target, name) : { value, writable: true, enumerable: true, configurable: true };
  },
});

async function measuredCall(request: Extract<ThreadRequest, { type: "call" }>): Promise<void> {
  const heap = heapInUse();
  const call: RunningCall = { seq: request.seq, env: request.env, deadline: request.deadline, waits: 0, loggedBytes: 0, heapAtStart: heap, heapPeak: heap };
  running.add(call);
  sampler ??= setInterval(sampleHeap, SAMPLE_MS).unref();
  const started = Date.now();
  const busyAtStart = performance.eventLoopUtilization();
  const outcome = await currentCall.run(call, () => runCall(request.funcId, request.args));
  const cpuMs = performance.eventLoopUtilization(busyAtStart).active;
  call.heapPeak = Math.max(call.heapPeak, heapInUse());
  running.delete(call);
  if (running.size === 0) {
    clearInterval(sampler);
    sampler = undefined;
  }
  post({ type: "done", seq: request.seq, started, finished: Date.now(), cpuMs, peakMemoryBytes: call.heapPeak - call.heapAtStart, ...outcome });
}

port.on("message", (request: ThreadRequest) => {
  if (request.type === "outputChecked") {
    outputChecks.get(request.id)?.(request.refused);
    outputChecks.delete(request.id);
    return;
  }
  if (request.type === "load") {
    try {
      handlers.set(request.funcId, loadFunction(request.text, "handler", join(functionFolder, `.lithops-function-${request.funcId}.cjs`)));
    } catch (thrown) {
      // Remembered as a function that throws, so every call of the job reports why it could not load.
      const error = thrown;
      handlers.set(request.funcId, () => {
        throw error;
      });
    }
    return;
  }
  void measuredCall(request);
});
