import { join } from "node:path";
import type { ContainerClient } from "@azure/storage-blob";
import { RequestCounter } from "../../azure/storage-connection.ts";
import type { Backend, JobDocument, JobStorage, RuntimeTarget } from "../../runtime-model/backend.ts";
import { isCallResultsRef, type CallResultsRef } from "../../protocol/call-refs.ts";
import { decodeValue, describeThrown, encodeCompact } from "../../protocol/data-codec.ts";
import { callId } from "../../protocol/keys.ts";
import { callSlices, decodeMessage, type CallBatchMessage, type PayloadRef } from "../../protocol/message.ts";
import type { CallOutcome } from "../../protocol/output.ts";
import { storeBatchOutput } from "../../worker/batch-runner.ts";
import { MapCallError } from "../../worker/errors.ts";
import { functionDir, loadFunction } from "../../worker/load-function.ts";
import { transferableResult } from "../../worker/revive-refs.ts";

/** Job documents in a Map: what a blob container holds, for tests that start no storage. */
export class MemoryJobStorage implements JobStorage {
  readonly documents = new Map<string, { bytes: Buffer; etag: string }>();
  private count = 0;
  private version = 0;

  async put(key: string, bytes: Uint8Array): Promise<void> {
    this.count += 1;
    this.version += 1;
    this.documents.set(key, { bytes: Buffer.from(bytes), etag: String(this.version) });
  }

  async get(key: string): Promise<Buffer | undefined> {
    this.count += 1;
    return this.documents.get(key)?.bytes;
  }

  async *list(prefix: string): AsyncIterable<JobDocument> {
    this.count += 1;
    const names = [...this.documents.keys()].filter((name) => name.startsWith(prefix)).sort();
    for (const name of names) {
      const document = this.documents.get(name);
      if (document) yield { name, etag: document.etag };
    }
  }

  async *listFolders(prefix: string): AsyncIterable<string> {
    this.count += 1;
    const folders = new Set<string>();
    for (const name of this.documents.keys()) {
      if (!name.startsWith(prefix)) continue;
      const slash = name.indexOf("/", prefix.length);
      if (slash !== -1) folders.add(name.slice(0, slash + 1));
    }
    yield* [...folders].sort();
  }

  async delete(key: string): Promise<void> {
    this.count += 1;
    this.documents.delete(key);
  }

  requests(): number {
    return this.count;
  }
}

/**
 * A Backend that runs calls in this process, one batch after another, with job documents in
 * memory: the client's logic (submit, waits, getResult, mapReduce, attach) without Azurite
 * or worker processes. Functions are loaded and their results encoded as a worker does
 * (worker/load-function.ts, worker/revive-refs.ts, protocol/data-codec.ts). Not covered:
 * nested jobs, timeouts enforced on calls, memory limits, redelivery.
 */
export class MemoryBackend implements Backend {
  readonly jobs = new MemoryJobStorage();
  /** Messages taken, in order (tests read what the client sent). */
  readonly received: CallBatchMessage[] = [];
  /** The outcome of every call run so far, by `executorId/jobId/callId`: what a reducer's argument is read from. */
  private readonly outcomes = new Map<string, CallOutcome>();
  private running: Promise<void> = Promise.resolve();
  private paused?: { promise: Promise<void>; resume: () => void };
  private closed = false;
  private readonly counter = new RequestCounter();
  /** The one container call storeBatchOutput makes (getBlockBlobClient(key).uploadData), onto this job storage. */
  private readonly outputs = {
    getBlockBlobClient: (key: string) => ({ uploadData: (bytes: Uint8Array) => this.jobs.put(key, bytes) }),
  } as unknown as ContainerClient;

  async prepareRuntime(name: string, memory: number): Promise<RuntimeTarget> {
    return { name, memory, queue: `memory-${name}-${memory}`, poisonQueue: `memory-${name}-${memory}-poison` };
  }

  async send(_target: RuntimeTarget, messages: readonly string[]): Promise<void> {
    for (const text of messages) {
      const message = decodeMessage(text);
      this.received.push(message);
      // Run after send() returns, as a queue's worker would: the client sees the calls `invoked` first.
      this.running = this.running.then(() => this.runBatch(message));
    }
  }

  /** Holds back the calls not started yet until resume() (to see futures that are not done). */
  pause(): void {
    let resume = (): void => undefined;
    const promise = new Promise<void>((resolve) => {
      resume = resolve;
    });
    this.paused = { promise, resume };
    this.running = this.running.then(() => promise);
  }

  resume(): void {
    this.paused?.resume();
    this.paused = undefined;
  }

  /** Resolves once every batch sent so far has run. */
  idle(): Promise<void> {
    return this.running;
  }

  peakWorkers(): number {
    return 1;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.resume();
  }

  private async payload(ref: PayloadRef): Promise<Buffer> {
    if ("inline" in ref) return Buffer.from(ref.inline, "base64");
    const bytes = await this.jobs.get(ref.key);
    if (!bytes) throw new MapCallError(`payload ${ref.key} is not in job storage`);
    return bytes.subarray(ref.start, ref.end);
  }

  private async runBatch(message: CallBatchMessage): Promise<void> {
    if (this.closed) return;
    const [funcText, data] = await Promise.all([this.payload(message.func), this.payload(message.data)]);
    let handler: (...args: unknown[]) => unknown;
    try {
      handler = loadFunction(funcText.toString("utf8"), "handler", join(functionDir(), ".lithops-memory-function.cjs"));
    } catch (thrown) {
      handler = () => {
        throw thrown;
      };
    }
    const calls: CallOutcome[] = [];
    for (const call of callSlices(message.calls)) {
      const started = Date.now();
      let outcome: CallOutcome;
      try {
        const positional = await Promise.all((decodeValue(data.subarray(call.start, call.end)) as unknown[]).map((arg) => this.revive(arg)));
        const result = encodeCompact(transferableResult(await handler(...positional)), "the call's return value");
        outcome = { callId: call.id, ok: true, result, stats: this.stats(started, result.byteLength) };
      } catch (thrown) {
        outcome = { callId: call.id, ok: false, error: describeThrown(thrown), stats: this.stats(started, 0) };
      }
      this.outcomes.set(`${message.executorId}/${message.jobId}/${call.id}`, outcome);
      calls.push(outcome);
    }
    // Stored by the worker's own code, so the status document has the format a worker writes.
    const context = { container: this.outputs, counter: this.counter, workerId: "memory", signingKey: undefined as string | undefined };
    await storeBatchOutput(message, calls, context);
  }

  private stats(started: number, resultBytes: number): CallOutcome["stats"] {
    return { started, finished: Date.now(), workerId: "memory", attempt: 1, resultBytes };
  }

  /** A reducer's argument: the map results, which ran before it (batches run in order). */
  private async revive(argument: unknown): Promise<unknown> {
    if (!isCallResultsRef(argument)) return argument;
    const ref: CallResultsRef = argument;
    return Array.from({ length: ref.count }, (_, index) => {
      const id = callId(ref.first + index);
      const outcome = this.outcomes.get(`${ref.executorId}/${ref.jobId}/${id}`);
      if (!outcome) throw new MapCallError(`call ${ref.jobId}/${id} has no outcome`);
      if (!outcome.ok)
        throw new MapCallError(`call ${ref.jobId}/${id} failed (${outcome.error.name}: ${outcome.error.message}), so its results cannot be reduced`);
      return decodeValue(outcome.result);
    });
  }
}
