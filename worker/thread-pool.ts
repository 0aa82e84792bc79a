import { Worker } from "node:worker_threads";
import type { RemoteErrorInfo } from "../protocol/data-codec.ts";
import type { ThreadReply, ThreadRequest } from "./thread-messages.ts";

export type CallResult =
  | { ok: true; result: Uint8Array; started: number; finished: number }
  | { ok: false; error: RemoteErrorInfo; started: number; finished: number };

interface PendingCall {
  funcId: string;
  funcText: string;
  args: Uint8Array;
  timeoutMs: number;
  resolve: (result: CallResult) => void;
}

interface CallThread {
  worker: Worker;
  loaded: Set<string>;
  busy?: { seq: number; call: PendingCall; started: number; timer: NodeJS.Timeout };
}

/** The thread entry sits next to the worker in the bundle (tools/build.mjs names it so). */
const THREAD_SCRIPT = new URL("./call-thread.mjs", import.meta.url);

/**
 * `workerProcesses` threads that run calls one at a time each. A thread whose call times
 * out, runs out of memory or exits is replaced; the call gets a failure outcome and the
 * worker process goes on.
 */
export class CallThreadPool {
  private readonly threads: CallThread[] = [];
  private readonly waiting: PendingCall[] = [];
  private seq = 0;
  private closed = false;

  constructor(
    private readonly size: number,
    private readonly memoryPerThreadMb: number,
  ) {
    for (let i = 0; i < size; i += 1) this.threads.push(this.spawn());
  }

  get capacity(): number {
    return this.size;
  }

  run(funcId: string, funcText: string, args: Uint8Array, timeoutSeconds: number): Promise<CallResult> {
    return new Promise((resolve) => {
      this.waiting.push({ funcId, funcText, args, timeoutMs: timeoutSeconds * 1000, resolve });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }

  private spawn(): CallThread {
    const worker = new Worker(THREAD_SCRIPT, {
      resourceLimits: { maxOldGenerationSizeMb: this.memoryPerThreadMb },
      stdout: false,
      stderr: false,
    });
    const thread: CallThread = { worker, loaded: new Set() };
    worker.on("message", (reply: ThreadReply) => this.onReply(thread, reply));
    worker.on("error", (error: Error & { code?: string }) => {
      const outOfMemory = error.code === "ERR_WORKER_OUT_OF_MEMORY";
      this.failThread(thread, {
        name: outOfMemory ? "OutOfMemoryError" : error.name,
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
    for (const thread of this.threads) {
      if (thread.busy) continue;
      const call = this.waiting.shift();
      if (!call) return;
      this.start(thread, call);
    }
  }

  private start(thread: CallThread, call: PendingCall): void {
    const seq = (this.seq += 1);
    if (!thread.loaded.has(call.funcId)) {
      this.post(thread, { type: "load", funcId: call.funcId, text: call.funcText });
      thread.loaded.add(call.funcId);
    }
    const timer = setTimeout(() => {
      this.failThread(thread, {
        name: "TimeoutError",
        message: `the call did not finish within its timeout of ${call.timeoutMs / 1000} s`,
      });
    }, call.timeoutMs);
    thread.busy = { seq, call, started: Date.now(), timer };
    this.post(thread, { type: "call", seq, funcId: call.funcId, args: call.args });
  }

  private post(thread: CallThread, request: ThreadRequest): void {
    thread.worker.postMessage(request);
  }

  private onReply(thread: CallThread, reply: ThreadReply): void {
    const busy = thread.busy;
    if (!busy || busy.seq !== reply.seq) return;
    clearTimeout(busy.timer);
    thread.busy = undefined;
    const { type: _type, seq: _seq, ...result } = reply;
    busy.call.resolve(result);
    this.dispatch();
  }

  /** Ends a thread's call with `error` and puts a fresh thread in its place. */
  private failThread(thread: CallThread, error: RemoteErrorInfo): void {
    const index = this.threads.indexOf(thread);
    if (index === -1) return;
    const busy = thread.busy;
    thread.busy = undefined;
    this.threads.splice(index, 1);
    thread.worker.removeAllListeners();
    void thread.worker.terminate();
    if (busy) {
      clearTimeout(busy.timer);
      busy.call.resolve({ ok: false, error, started: busy.started, finished: Date.now() });
    }
    if (this.closed) return;
    this.threads.push(this.spawn());
    this.dispatch();
  }
}
