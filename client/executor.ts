import { randomBytes } from "node:crypto";
import type { Backend, ExecutionBackend } from "../runtime-model/backend.ts";
import { LithopsError } from "../protocol/errors.ts";
import { executorPrefix } from "../protocol/keys.ts";
import type { FutureRef, StorageObject } from "../protocol/call-refs.ts";
import { BackendSession } from "./backend-session.ts";
import type { Elements, MapReduceFutures, ObjectElement, OneArgumentFunction, ResultOf, Settled, SettledAll, SpreadArguments } from "./call-types.ts";
import type { ExecutorConfig, ExecutorOptions } from "./config.ts";
import { ConfigError, ExecutorClosedError, FutureNotWatchedError } from "./errors.ts";
import type { FutureOwner, WaitSettings } from "./future-owner.ts";
import { attachJobs } from "./job-attach.ts";
import { cancelFutures } from "./job-cancel.ts";
import { collectMapInput, type Iterdata } from "./object-input.ts";
import { createLogger, type Logger } from "./logger.ts";
import { jobSummary, type JobSummaryOptions, type JobSummaryRow } from "./job-summary.ts";
import { plotCalls, type PlotPaths } from "./plot.ts";
import type { CostReport } from "./cost.ts";
import { liveSource } from "./dashboard/live-source.ts";
import { type Dashboard, serveDashboard } from "./dashboard/server.ts";
import { JobCosts } from "./job-costs.ts";
import {
  callOptionsSchema,
  checkOptions,
  DEFAULT_SPAWN_REDUCER,
  getResultOptionsSchema,
  mapOptionsSchema,
  mapReduceOptionsSchema,
  waitOptionsSchema,
  type CallOptions,
  type GetResultOptions,
  type MapOptions,
  type MapReduceOptions,
  type WaitOptions,
} from "./options.ts";
import { reducerInputs } from "./reduce-input.ts";
import { newStats, ResponseFuture, type FutureStats } from "./response-future.ts";
import { ReturnedFutures } from "./returned-futures.ts";
import { shipFunction } from "./ship-function.ts";
import { Speculation } from "./speculation.ts";
import { type SubmissionContext, submitJob } from "./job-submission.ts";
import { Storage } from "./storage.ts";
import { collectResults, waitFor, waitForCount } from "./wait-loop.ts";

type Futures = ResponseFuture | readonly ResponseFuture[];

let executorCount = 0;

/** What a FunctionExecutor can be given besides its options: for tests and embedders, not configuration. */
export interface ExecutorHooks {
  /** Run on this backend instead of the configured one (for example client/testing/memory-backend.ts); the caller closes it. */
  backend?: Backend;
}

/**
 * Runs functions on a runtime, like Lithops's FunctionExecutor: callAsync and map queue
 * the calls, wait and getResult collect them. The backend (Azurite + local workers, or
 * Azure) starts on first use and stops on close(). This class is the API; waits run in
 * client/wait-loop.ts, the backend's start and runtimes in client/backend-session.ts.
 */
export class FunctionExecutor implements AsyncDisposable, FutureOwner<ResponseFuture> {
  readonly executorId: string;
  /** The settings; for a client bound to a stack, completed from the stack's clientConfig output when the backend starts. */
  get config(): ExecutorConfig {
    return this.session.config;
  }
  protected readonly log: Logger;
  private readonly session: BackendSession;
  private readonly futures: ResponseFuture[] = [];
  /** Job memory sizes for cost estimates, read from the job manifests once. */
  private readonly costs = new JobCosts(async () => (await this.session.running()).backend.jobs);
  private readonly dashboards: Dashboard[] = [];
  private readonly speculation = new Speculation();
  private readonly submission: SubmissionContext;
  private jobCount = 0;
  private closed = false;
  private objectStorage?: Storage;
  private readonly returnedFutures = new ReturnedFutures(
    (refs) => this.futuresForRefs(refs),
    (futures, timeout) => this.wait(futures, { throwExcept: false, timeout }),
  );

  constructor(options: ExecutorOptions = {}, hooks: ExecutorHooks = {}) {
    executorCount += 1;
    this.executorId = `${randomBytes(3).toString("hex")}-${executorCount}`;
    let log: Logger | undefined;
    this.session = new BackendSession(options, { debug: (l) => log?.debug(l), info: (l) => log?.info(l), warn: (l) => log?.warn(l) }, hooks.backend, () =>
      this.cancel(),
    );
    log = createLogger(this.config.logLevel, this.executorId);
    this.log = log;
    this.submission = {
      executorId: this.executorId,
      config: () => this.config,
      session: this.session,
      speculation: this.speculation,
      log: this.log,
      newFuture: (jobId, callId, fromMap, stats) => this.futureFor(this.executorId, jobId, callId, fromMap, stats),
    };
  }

  /** Runs fn(data) once; with `data = args(a, b)`, fn(a, b). */
  callAsync<P extends unknown[], R>(fn: (...args: P) => R, data: SpreadArguments<P>, options?: CallOptions): Promise<ResponseFuture<Awaited<R>>>;
  callAsync<A, R>(fn: OneArgumentFunction<A, R>, data: A, options?: CallOptions): Promise<ResponseFuture<Awaited<R>>>;
  async callAsync(fn: unknown, data: unknown, options?: CallOptions): Promise<ResponseFuture> {
    const [future] = await this.submit("A", fn, [data], checkOptions("callAsync", callOptionsSchema, options), false);
    return future;
  }

  /**
   * Runs fn on every element of iterdata (an array, Set, generator or async iterable), or on
   * every part of the storage objects it names (`az://container/prefix/`, object URIs,
   * `{ obj: uri }` elements): fn then receives a StorageObject.
   */
  map<R>(fn: OneArgumentFunction<StorageObject, R>, iterdata: string | Elements<string>, options?: MapOptions): Promise<ResponseFuture<Awaited<R>>[]>;
  map<N extends { obj: string }, R>(
    fn: OneArgumentFunction<ObjectElement<N>, R>,
    iterdata: Elements<N>,
    options?: MapOptions,
  ): Promise<ResponseFuture<Awaited<R>>[]>;
  map<P extends unknown[], R>(fn: (...args: P) => R, iterdata: Elements<SpreadArguments<P>>, options?: MapOptions): Promise<ResponseFuture<Awaited<R>>[]>;
  map<A, R>(fn: OneArgumentFunction<A, R>, iterdata: Elements<A>, options?: MapOptions): Promise<ResponseFuture<Awaited<R>>[]>;
  async map(fn: unknown, iterdata: Iterdata, options?: MapOptions): Promise<ResponseFuture[]> {
    const checked = checkOptions("map", mapOptionsSchema, options);
    const { elements } = await collectMapInput(iterdata, checked, () => this.storageOfObjects());
    return this.submit("M", fn, elements, checked, true);
  }

  /**
   * map, then reduceFn(results) in a worker, with the map results in call order; with
   * objReduceByKey, one reducer per object. The reducers are queued once spawnReducer
   * percent of the maps are done (default 20, as in Lithops; 0 queues them at once) and
   * read the map results from storage themselves: the client downloads none of them.
   * Returns the map futures then the reducers'; getResult() of them (or with no futures) gives
   * the reducer's value alone, or with objReduceByKey the reducers' values, as in Lithops.
   */
  mapReduce<M, R>(
    mapFn: OneArgumentFunction<StorageObject, M>,
    iterdata: string | Elements<string>,
    reduceFn: OneArgumentFunction<Awaited<M>[], R>,
    options?: MapReduceOptions,
  ): Promise<ResponseFuture<Awaited<M> | Awaited<R>>[]>;
  mapReduce<N extends { obj: string }, M, R>(
    mapFn: OneArgumentFunction<ObjectElement<N>, M>,
    iterdata: Elements<N>,
    reduceFn: OneArgumentFunction<Awaited<M>[], R>,
    options?: MapReduceOptions,
  ): Promise<ResponseFuture<Awaited<M> | Awaited<R>>[]>;
  mapReduce<A, M, R>(
    mapFn: OneArgumentFunction<A, M>,
    iterdata: Elements<A>,
    reduceFn: OneArgumentFunction<Awaited<M>[], R>,
    options?: MapReduceOptions & { objReduceByKey?: false },
  ): Promise<MapReduceFutures<Awaited<M>, Awaited<R>>>;
  async mapReduce(mapFn: unknown, iterdata: Iterdata, reduceFn: unknown, options?: MapReduceOptions): Promise<ResponseFuture[]> {
    const checked = checkOptions("mapReduce", mapReduceOptionsSchema, options);
    const { objReduceByKey, reduceRuntimeMemory, spawnReducer = DEFAULT_SPAWN_REDUCER, ...mapOptions } = checked;
    const input = await collectMapInput(iterdata, mapOptions, () => this.storageOfObjects());
    if (objReduceByKey && !input.partsPerObject) {
      throw new ConfigError(
        "objReduceByKey: true reduces per storage object, but iterdata names none: give az://container/prefix/, az://container/key URIs or { obj: uri } elements",
      );
    }
    await shipFunction(reduceFn); // fails before any map is queued if the reducer cannot be shipped
    const maps = await this.submit("M", mapFn, input.elements, mapOptions, true);
    // As in Lithops, the maps of a mapReduce produce no output of their own for getResult().
    for (const future of maps) future.producesOutput = false;
    if (spawnReducer > 0)
      await waitForCount(maps, Math.ceil((maps.length * spawnReducer) / 100), { throwExcept: false, deadline: Infinity, progress: false }, this.waitSettings);
    const groups = objReduceByKey && input.partsPerObject ? input.partsPerObject : [maps.length];
    const reducers = await this.submit(
      "R",
      reduceFn,
      reducerInputs(maps, groups),
      { runtimeMemory: reduceRuntimeMemory ?? mapOptions.runtimeMemory, extraEnv: mapOptions.extraEnv, timeout: mapOptions.timeout },
      objReduceByKey === true,
    );
    return [...maps, ...reducers];
  }

  /**
   * Waits until all (or any) of the futures are done, or the timeout passes. The futures may
   * come from any executors of this process. With throwExcept (the default) it fails at the
   * first failed call it reads, as Lithops's wait does.
   */
  async wait<F extends ResponseFuture<unknown> = ResponseFuture>(fs?: F | readonly F[], options?: WaitOptions): Promise<{ done: F[]; notDone: F[] }> {
    const checked = checkOptions("wait", waitOptionsSchema, options);
    return waitFor(this.selectFutures(fs) as F[], checked, this.waitSettings);
  }

  /**
   * Results in call order. With no futures: those not retrieved yet, and a single result
   * not from a map is returned as the value itself (Lithops's rule); the maps of a mapReduce
   * give no values of their own (the reducers' are its result). A call counts as retrieved
   * once reported, returned or thrown: getResult() never reports it again.
   */
  getResult<R, O extends GetResultOptions = GetResultOptions>(fs: MapReduceFutures<unknown, R>, options?: O): Promise<Settled<R, O>>;
  getResult<F extends ResponseFuture<unknown>, O extends GetResultOptions = GetResultOptions>(fs: F, options?: O): Promise<Settled<ResultOf<F>, O>>;
  getResult<const F extends readonly ResponseFuture<unknown>[], O extends GetResultOptions = GetResultOptions>(fs: F, options?: O): Promise<SettledAll<F, O>>;
  /**
   * With no futures, what depends on the calls made so far (a value for one callAsync, an array
   * for a map): `any` unless named, as `const total: number = await fexec.getResult()`.
   */
  // biome-ignore lint/suspicious/noExplicitAny: the documented `const total = await fexec.getResult()` compiles under strict without a cast
  getResult<R = any>(fs?: undefined, options?: GetResultOptions): Promise<R>;
  async getResult(fs?: Futures, options?: GetResultOptions): Promise<unknown> {
    const checked = checkOptions("getResult", getResultOptionsSchema, options);
    if (fs !== undefined) return collectResults(this.selectFutures(fs), !Array.isArray(fs), checked, this.waitSettings);
    const unretrieved = this.futures.filter((f) => !f.retrieved);
    return collectResults(unretrieved, unretrieved.length === 1 && !unretrieved[0].fromMap, checked, this.waitSettings);
  }

  /**
   * Re-attaches to jobs another client submitted (for example one that was killed after
   * submitting): reads each job's manifest (`lithops.jobs/<executorId>/<jobId>/job.json`),
   * makes its futures, adds them to this executor (so `getResult()` with no arguments
   * collects them) and starts the runtime's workers if the backend runs them. Without
   * jobIds, every job of that executor. Needs the same storage (and, for workers to run
   * what is still queued, the same signing key) as the submitting client.
   */
  async attach(executorId: string, jobIds?: readonly string[]): Promise<ResponseFuture[]> {
    this.assertOpen();
    const makeFuture = (jobId: string, id: string, fromMap: boolean, stats: FutureStats) => this.futureFor(executorId, jobId, id, fromMap, stats);
    const attached = await attachJobs(await this.session.running(), executorId, jobIds, makeFuture);
    this.futures.push(...attached);
    return attached;
  }

  /** Every future this executor created, in call order. */
  allFutures(): readonly ResponseFuture[] {
    return this.futures;
  }

  /** Storage requests so far: the client's own and those the workers reported for collected batches. */
  storageOperations(): { client: number; workers: number } {
    const started = this.session.started;
    return { client: started?.backend.jobs.requests() ?? 0, workers: started?.monitor.workerStorageOps ?? 0 };
  }

  /** Most workers that ran at once (local backend). */
  async peakWorkers(): Promise<number | undefined> {
    return this.session.begun ? (await this.session.running()).backend.peakWorkers() : undefined;
  }

  /**
   * Draws the finished calls among fs (default: all) as `<dir>/<executorId>-timeline.svg` and
   * `-histogram.svg` (dir default `plots`); returns `[timeline, histogram]`. See client/plot.ts.
   */
  async plot(fs?: Futures | string, dir?: string): Promise<PlotPaths> {
    return plotCalls(this.futures, this.executorId, fs, dir, (futures) => this.cost(futures));
  }

  /** A live web page of this executor's jobs, on loopback, until close() (or fexec.close()). See client/dashboard/. */
  async dashboard(): Promise<Dashboard> {
    this.assertOpen();
    const dashboard = await serveDashboard(liveSource(this));
    this.dashboards.push(dashboard);
    return dashboard;
  }

  /** What the calls among fs (default: all) cost so far on Azure Container Apps, estimated. See client/cost.ts. */
  async cost(fs?: Futures): Promise<CostReport> {
    const account = this.session.begun ? (await this.session.running()).backend.account : undefined;
    return this.costs.report(this, this.selectFutures(fs), fs === undefined, account);
  }

  /** One row per call (default: all), and with `csv` the same rows written as CSV. See client/job-summary.ts. */
  async jobSummary(options: JobSummaryOptions = {}): Promise<JobSummaryRow[]> {
    const futures = options.fs === undefined ? this.futures : this.selectFutures(options.fs);
    return jobSummary(futures, options.csv, await this.costs.pricing(futures, this.config));
  }

  /** The storage-account backend (local or Azure) this executor runs on, started if needed. */
  async backend(): Promise<ExecutionBackend> {
    const { account } = (await this.session.running()).backend;
    if (!account) throw new LithopsError(`executor ${this.executorId} runs on a backend without a storage account (one handed to it for tests)`);
    return account;
  }

  /** Removes this executor's job data from storage. */
  async clean(): Promise<void> {
    if (!this.session.begun) return;
    const { jobs } = (await this.session.running()).backend;
    const keys: string[] = [];
    for await (const { name } of jobs.list(executorPrefix(this.executorId))) keys.push(name);
    await Promise.all(keys.map((key) => jobs.delete(key).catch(() => undefined)));
  }

  /**
   * Cancels the unfinished calls among fs (default: every unfinished call of this executor):
   * queued ones never start, running ones are stopped by their workers, and their futures
   * reject with CallCancelledError at once. See client/job-cancel.ts.
   */
  async cancel(fs?: Futures): Promise<void> {
    const unfinished = this.selectFutures(fs).filter((f) => !f.done);
    if (unfinished.length === 0 || !this.session.begun) return;
    await cancelFutures((await this.session.running()).backend.jobs, unfinished);
  }

  /**
   * Stops everything this executor started (local workers, Azurite). On the local backend the
   * unfinished calls are cancelled first (no other program's workers run them; a nested job's
   * executor inside a worker excepted); on Azure they keep
   * running, as in Lithops: cancel() stops them. Safe to call twice.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    // Inside a worker (a nested job) the calls may outlive this executor: the outer program's workers run them, its client may follow them.
    if (this.session.started?.backend.account?.kind === "local" && this.config.local.startWorkers)
      await this.cancel().catch((error: Error) => this.log.warn(`close: unfinished calls not cancelled: ${error.message}`));
    this.closed = true;
    await Promise.all(this.dashboards.map((dashboard) => dashboard.close()));
    if (this.config.dataCleaner) await this.clean().catch((error: Error) => this.log.warn(`data_cleaner: job data not removed: ${error.message}`));
    await this.session.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** FutureOwner: how waits this executor drives show progress and ride out storage outages. */
  get waitSettings(): WaitSettings {
    return { progress: this.config.progress, storageRetryTimeout: this.config.storageRetryTimeout, warn: this.log.warn };
  }

  /** FutureOwner: waits for futures this executor watches, for their result() and logs(). */
  async waitFor(futures: readonly ResponseFuture[], timeout?: number): Promise<void> {
    await this.wait(futures, { throwExcept: false, timeout });
  }

  /** FutureOwner: a closed executor reads no outcomes, so a wait on its unfinished futures could only time out. */
  assertWatching(future: ResponseFuture): void {
    if (!this.closed) return;
    throw new FutureNotWatchedError(
      `call ${future.jobId}/${future.callId} is not done and its executor ${this.executorId} is closed: nothing in this process watches it any more; ` +
        `to collect it, attach to its job from an open executor on the same storage: fexec.attach("${future.executorId}", ["${future.jobId}"])`,
    );
  }

  /** FutureOwner: reads what finished among futures this executor created, then backs up stragglers (client/speculation.ts). */
  async refresh(futures: ResponseFuture[]): Promise<number> {
    if (!this.session.begun) return 0;
    const { backend, monitor } = await this.session.running();
    const completed = await monitor.refresh(futures);
    // Nothing would ever run them: say why now rather than wait out a timeout.
    const startFailure = completed === 0 ? backend.workerStartFailure?.() : undefined;
    if (startFailure) throw startFailure;
    await this.speculation.backUpStragglers(futures);
    return completed;
  }

  /** FutureOwner: follows the futures this executor's calls returned (nested jobs). */
  followReturned(futures: readonly ResponseFuture[], deadline: number): Promise<Set<ResponseFuture>> {
    return this.returnedFutures.follow(futures, deadline);
  }

  /** Queues the calls; `options` were checked by the public method's schema. */
  protected async submit(kind: "A" | "M" | "R", fn: unknown, elements: unknown[], options: MapOptions, fromMap: boolean): Promise<ResponseFuture[]> {
    this.assertOpen();
    const jobId = `${kind}${String(this.jobCount).padStart(3, "0")}`;
    this.jobCount += 1;
    const futures = await submitJob(this.submission, { jobId, fn, elements, options, fromMap });
    for (const future of futures) this.futures.push(future); // not push(...futures): a huge map would overflow the stack
    return futures;
  }

  private futureFor(executorId: string, jobId: string, callId: string, fromMap: boolean, stats: FutureStats): ResponseFuture {
    return new ResponseFuture(executorId, jobId, callId, fromMap, stats, this);
  }

  /** Futures for calls a function returned (nested jobs), watched like this executor's own. */
  private async futuresForRefs(refs: FutureRef[]): Promise<ResponseFuture[]> {
    const { monitor } = await this.session.running();
    const futures = refs.map((ref) => this.futureFor(ref.executorId, ref.jobId, ref.callId, false, newStats(Date.now(), ref.batch, 0)));
    for (const future of futures) monitor.watch(future.executorId, future.jobId, new Map([[future.stats.batch, [future]]]));
    return futures;
  }

  /** The Storage that lists and sizes the objects a map processes. */
  private storageOfObjects(): Storage {
    this.objectStorage ??= new Storage(this);
    return this.objectStorage;
  }

  private assertOpen(): void {
    if (this.closed) throw new ExecutorClosedError(`executor ${this.executorId} is closed: create a new FunctionExecutor`);
  }

  private selectFutures(fs?: Futures): ResponseFuture[] {
    if (fs === undefined) return [...this.futures];
    return Array.isArray(fs) ? [...fs] : [fs as ResponseFuture];
  }
}
