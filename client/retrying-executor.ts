import { inspect } from "node:util";
import {
  ALL_COMPLETED,
  ALWAYS,
  ANY_COMPLETED,
  type FunctionExecutor,
  type GetResultOptions,
  type MapOptions,
  type WaitOptions,
} from "./executor.ts";
import { collectMapInput, type Iterdata } from "./object-input.ts";
import { ResultTimeoutError, type RemoteCallError } from "./remote-error.ts";
import type { ResponseFuture } from "./response-future.ts";
import { Storage } from "./storage.ts";
import { LithopsError } from "./errors.ts";

export interface RetryingMapOptions extends MapOptions {
  /** Times a failed call is run again; default lithops.retries from the config, else 0, as in Lithops. */
  retries?: number;
}

/** A call that failed on its first run and on every retry. */
export class RetriesExhaustedError extends LithopsError {
  override name = "RetriesExhaustedError";

  constructor(
    readonly index: number,
    readonly attempts: number,
    override readonly cause: RemoteCallError,
    element: unknown,
  ) {
    super(
      `call ${index} of the map (element ${inspect(element, { depth: 1, breakLength: Infinity, maxStringLength: 60 })}) failed ${attempts} time(s), ` +
        `last as ${cause.jobId}/${cause.callId}: ${cause.name}: ${cause.message}`,
    );
  }
}

/** What a retry needs to run a call again. */
interface MapJob {
  fn: unknown;
  options: MapOptions;
}

/** One call of a retrying map: the future of its latest run, and how many runs it had. */
export class RetryingFuture {
  /** Runs so far, the first included. */
  attempts = 1;

  constructor(
    /** The call's position in its map. */
    readonly index: number,
    readonly element: unknown,
    /** The latest run. */
    public future: ResponseFuture,
    readonly retries: number,
    readonly job: MapJob,
  ) {}

  get canRetry(): boolean {
    return this.future.failed && this.attempts <= this.retries;
  }

  /** Succeeded, or failed with no retries left. */
  get done(): boolean {
    return this.future.done && !this.canRetry;
  }

  get failed(): boolean {
    return this.future.failed && !this.canRetry;
  }

  error(): RetriesExhaustedError | undefined {
    const cause = this.failed ? this.future.error() : undefined;
    return cause && new RetriesExhaustedError(this.index, this.attempts, cause, this.element);
  }
}

/**
 * Lithops's RetryingFunctionExecutor: map() like FunctionExecutor's, and wait()/getResult()
 * run failed calls again (all of a round's failures as one new job) until they succeed or
 * have failed `retries` + 1 times.
 */
export class RetryingFunctionExecutor implements AsyncDisposable {
  private readonly futures: RetryingFuture[] = [];
  private readonly retrieved = new WeakSet<RetryingFuture>();

  constructor(readonly fexec: FunctionExecutor) {}

  async map(fn: unknown, iterdata: Iterdata, options: RetryingMapOptions = {}): Promise<RetryingFuture[]> {
    const { retries = this.fexec.config.retries, objChunkSize, objChunkNumber, ...callOptions } = options;
    if (!Number.isInteger(retries) || retries < 0) {
      throw new RangeError(`retries: ${JSON.stringify(retries)} is not valid; use a whole number of 0 or more`);
    }
    // Collected once, so a retry runs the very same element (or object part) again.
    const { elements } = await collectMapInput(iterdata, { objChunkSize, objChunkNumber }, () => new Storage(this.fexec));
    const job: MapJob = { fn, options: callOptions };
    const futures = await this.fexec.map(fn, elements, callOptions);
    const retrying = futures.map((future, index) => new RetryingFuture(index, elements[index], future, retries, job));
    this.futures.push(...retrying);
    return retrying;
  }

  /** Waits like FunctionExecutor.wait, running failed calls again meanwhile; a call out of retries counts as done. */
  async wait(fs?: readonly RetryingFuture[], options: WaitOptions = {}): Promise<{ done: RetryingFuture[]; notDone: RetryingFuture[] }> {
    const futures = [...(fs ?? this.futures)];
    const returnWhen = options.returnWhen ?? ALL_COMPLETED;
    const deadline = options.timeout === undefined ? Infinity : Date.now() + options.timeout * 1000;
    for (;;) {
      const running = futures.filter((f) => !f.future.done).map((f) => f.future);
      if (running.length > 0) {
        const timeout = deadline === Infinity ? undefined : Math.max(0, (deadline - Date.now()) / 1000);
        await this.fexec.wait(running, { returnWhen: returnWhen === ALWAYS ? ALWAYS : ANY_COMPLETED, throwExcept: false, timeout });
      }
      await this.retryFailed(futures);
      const doneCount = futures.filter((f) => f.done).length;
      if (returnWhen === ALWAYS || doneCount === futures.length || (returnWhen === ANY_COMPLETED && doneCount > 0)) break;
      if (Date.now() >= deadline) break;
    }
    const done = futures.filter((f) => f.done);
    if (options.throwExcept ?? true) {
      const failed = done.find((f) => f.failed);
      if (failed) throw failed.error();
    }
    return { done, notDone: futures.filter((f) => !f.done) };
  }

  /**
   * Results in call order (with no futures: those of this executor not retrieved yet).
   * Rejects with a RetriesExhaustedError naming a call that failed every run; with
   * throwExcept false that error takes the call's place instead.
   */
  async getResult(fs?: readonly RetryingFuture[], options: GetResultOptions = {}): Promise<unknown[]> {
    const futures = [...(fs ?? this.futures.filter((f) => !this.retrieved.has(f)))];
    const { notDone } = await this.wait(futures, { throwExcept: false, timeout: options.timeout });
    if (notDone.length > 0) {
      throw new ResultTimeoutError(`getResult: ${notDone.length} of ${futures.length} calls not done after ${options.timeout} s (first: call ${notDone[0].index})`);
    }
    const throwExcept = options.throwExcept ?? true;
    const failed = futures.find((f) => f.failed);
    if (failed && throwExcept) throw failed.error();
    const values = (await this.fexec.getResult(
      futures.map((f) => f.future),
      { throwExcept: false },
    )) as unknown[];
    for (const future of futures) this.retrieved.add(future);
    return futures.map((f, i) => f.error() ?? values[i]);
  }

  async close(): Promise<void> {
    await this.fexec.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Runs every call that failed and has retries left again: one new job per original map. */
  private async retryFailed(futures: readonly RetryingFuture[]): Promise<void> {
    const byJob = new Map<MapJob, RetryingFuture[]>();
    for (const future of futures) {
      if (!future.canRetry) continue;
      const group = byJob.get(future.job);
      if (group) group.push(future);
      else byJob.set(future.job, [future]);
    }
    for (const [job, failed] of byJob) {
      const rerun = await this.fexec.map(job.fn, failed.map((f) => f.element), job.options);
      failed.forEach((future, i) => {
        future.future = rerun[i];
        future.attempts += 1;
      });
    }
  }
}
