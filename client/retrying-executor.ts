import { RetriesExhaustedError } from "./errors.ts";
import type { Elements, OneArgumentFunction, SpreadArguments } from "./call-types.ts";
import type { FunctionExecutor } from "./executor.ts";
import { collectMapInput, type Iterdata } from "./object-input.ts";
import {
  ALL_COMPLETED,
  ALWAYS,
  ANY_COMPLETED,
  checkOptions,
  getResultOptionsSchema,
  retryingMapOptionsSchema,
  waitOptionsSchema,
  type GetResultOptions,
  type MapOptions,
  type RetryingMapOptions,
  type WaitOptions,
} from "./options.ts";
import { ResultTimeoutError } from "./errors.ts";
import type { ResponseFuture } from "./response-future.ts";
import { Storage } from "./storage.ts";

/** A retrying call's value as getResult and result() give it: with `throwExcept: false`, the error takes its place. */
type RetriedValue<T, O> = O extends { throwExcept: false } ? T | RetriesExhaustedError : T;

/** What a retry needs to run a call again. */
interface MapJob {
  fn: unknown;
  options: MapOptions;
  executor: RetryingFunctionExecutor;
}

/** One call of a retrying map: the future of its latest run, and how many runs it had. */
export class RetryingFuture<T = unknown> {
  /** Runs so far, the first included. */
  attempts = 1;
  /** Reported by getResult() or result(), returned or thrown: getResult() with no futures skips it. */
  retrieved = false;

  constructor(
    /** The call's position in its map. */
    readonly index: number,
    readonly element: unknown,
    /** The latest run. */
    public future: ResponseFuture<T>,
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

  /** Counts the call as reported, here and in the underlying executor (its latest run). */
  markRetrieved(): void {
    this.retrieved = true;
    this.future.retrieved = true;
  }

  error(): RetriesExhaustedError | undefined {
    const cause = this.failed ? this.future.error() : undefined;
    return cause && new RetriesExhaustedError(this.index, this.attempts, cause, this.element);
  }

  /** The value of a done call, or its RetriesExhaustedError (thrown with throwExcept). */
  settledValue(throwExcept: boolean): unknown {
    const error = this.error();
    if (error && throwExcept) throw error;
    return error ?? this.future.settledValue(false);
  }

  /** Waits for the call, running it again while it fails and has retries left; returns its value (Lithops's RetryingFuture.result). */
  async result<O extends GetResultOptions = GetResultOptions>(options?: O): Promise<RetriedValue<T, O>> {
    checkOptions("result", getResultOptionsSchema, options);
    const { notDone } = await this.job.executor.wait([this], { throwExcept: false, timeout: options?.timeout });
    if (notDone.length > 0) throw new ResultTimeoutError(`call ${this.index} of the map not done after ${options?.timeout} s`);
    this.markRetrieved();
    return this.settledValue(options?.throwExcept ?? true) as RetriedValue<T, O>;
  }
}

/**
 * Lithops's RetryingFunctionExecutor: map() like FunctionExecutor's, and wait()/getResult()
 * run failed calls again (all of a round's failures as one new job) until they succeed or
 * have failed `retries` + 1 times.
 */
export class RetryingFunctionExecutor implements AsyncDisposable {
  private readonly futures: RetryingFuture[] = [];

  constructor(readonly fexec: FunctionExecutor) {}

  map<P extends unknown[], R>(
    fn: (...args: P) => R,
    iterdata: Elements<SpreadArguments<P>>,
    options?: RetryingMapOptions,
  ): Promise<RetryingFuture<Awaited<R>>[]>;
  map<A, R>(fn: OneArgumentFunction<A, R>, iterdata: Elements<A>, options?: RetryingMapOptions): Promise<RetryingFuture<Awaited<R>>[]>;
  async map(fn: unknown, iterdata: Iterdata, options?: RetryingMapOptions): Promise<RetryingFuture[]> {
    const checked = checkOptions("RetryingFunctionExecutor.map", retryingMapOptionsSchema, options);
    const { retries = this.fexec.config.retries, objChunkSize, objChunkNumber, ...callOptions } = checked;
    // Collected once, so a retry runs the very same element (or object part) again.
    const { elements } = await collectMapInput(iterdata, { objChunkSize, objChunkNumber }, () => new Storage(this.fexec));
    const job: MapJob = { fn, options: callOptions, executor: this };
    const futures = await this.submit(job, elements);
    const retrying = futures.map((future, index) => new RetryingFuture(index, elements[index], future, retries, job));
    this.futures.push(...retrying);
    return retrying;
  }

  /** Waits like FunctionExecutor.wait, running failed calls again meanwhile; a call out of retries counts as done. */
  async wait<F extends RetryingFuture<unknown> = RetryingFuture>(fs?: readonly F[], options?: WaitOptions): Promise<{ done: F[]; notDone: F[] }> {
    const checked = checkOptions("wait", waitOptionsSchema, options);
    const futures = [...(fs ?? (this.futures as F[]))];
    const returnWhen = checked.returnWhen ?? ALL_COMPLETED;
    const throwExcept = checked.throwExcept ?? true;
    const deadline = checked.timeout === undefined ? Infinity : Date.now() + checked.timeout * 1000;
    for (;;) {
      const running = futures.filter((f) => !f.future.done).map((f) => f.future);
      if (running.length > 0) {
        const timeout = deadline === Infinity ? undefined : Math.max(0, (deadline - Date.now()) / 1000);
        await this.fexec.wait(running, { returnWhen: returnWhen === ALWAYS ? ALWAYS : ANY_COMPLETED, throwExcept: false, timeout });
      }
      await this.retryFailed(futures);
      const doneCount = futures.filter((f) => f.done).length;
      if (returnWhen === ALWAYS || doneCount === futures.length || (returnWhen === ANY_COMPLETED && doneCount > 0)) break;
      if (throwExcept && futures.some((f) => f.failed)) break;
      if (Date.now() >= deadline) break;
    }
    const done = futures.filter((f) => f.done);
    if (throwExcept) {
      const failed = done.find((f) => f.failed);
      if (failed) throw failed.error();
    }
    return { done, notDone: futures.filter((f) => !f.done) };
  }

  /**
   * Results in call order (with no futures: those of this executor not retrieved yet).
   * Rejects with a RetriesExhaustedError naming a call that failed every run; with
   * throwExcept false that error takes the call's place instead. A call counts as
   * retrieved once reported, returned or thrown.
   */
  async getResult<T, O extends GetResultOptions = GetResultOptions>(fs?: readonly RetryingFuture<T>[], options?: O): Promise<RetriedValue<T, O>[]> {
    const checked = checkOptions("getResult", getResultOptionsSchema, options);
    const futures = [...(fs ?? (this.futures.filter((f) => !f.retrieved) as RetryingFuture<T>[]))];
    const { notDone } = await this.wait(futures, { throwExcept: false, timeout: checked.timeout });
    if (notDone.length > 0) {
      throw new ResultTimeoutError(
        `getResult: ${notDone.length} of ${futures.length} calls not done after ${checked.timeout} s (first: call ${notDone[0].index})`,
      );
    }
    for (const future of futures) future.markRetrieved();
    return futures.map((f) => f.settledValue(checked.throwExcept ?? true) as RetriedValue<T, O>);
  }

  async close(): Promise<void> {
    await this.fexec.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Runs a map job's elements (the first run, or the failed ones again) on the underlying executor. */
  private submit(job: MapJob, elements: unknown[]): Promise<ResponseFuture[]> {
    return this.fexec.map(job.fn as (arg: unknown) => unknown, elements, job.options);
  }

  /**
   * Runs every call that failed and has retries left again: one new job per original map.
   * The failed run counts as retrieved: the underlying executor's getResult() does not report it.
   */
  private async retryFailed(futures: readonly RetryingFuture<unknown>[]): Promise<void> {
    const byJob = new Map<MapJob, RetryingFuture<unknown>[]>();
    for (const future of futures) {
      if (!future.canRetry) continue;
      const group = byJob.get(future.job);
      if (group) group.push(future);
      else byJob.set(future.job, [future]);
    }
    for (const [job, failed] of byJob) {
      const rerun = await this.submit(
        job,
        failed.map((f) => f.element),
      );
      failed.forEach((future, i) => {
        future.future.retrieved = true;
        future.future = rerun[i];
        future.attempts += 1;
      });
    }
  }
}
