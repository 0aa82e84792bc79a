import { randomBytes } from "node:crypto";
import type { ExecutionBackend, RuntimeTarget } from "../runtime-model/backend.ts";
import { encodeCompact } from "../protocol/data-codec.ts";
import { callId, executorPrefix } from "../protocol/keys.ts";
import { nestedWaitHook } from "../protocol/nested-wait.ts";
import { nextPollDelay, type PollPacing } from "../protocol/polling.ts";
import type { FutureRef } from "../protocol/call-refs.ts";
import { connectStorage, type StorageClients } from "../azure/storage-connection.ts";
import { callArguments } from "./args.ts";
import type { Elements, MapReduceFutures, ObjectElement, OneArgumentFunction, ResultOf, Settled, SettledAll, SpreadArguments } from "./call-types.ts";
import { AzureContainersBackend } from "./azure-backend.ts";
import { RuntimeNotDeployedError } from "./errors.ts";
import { resolveConfig, type ExecutorConfig, type ExecutorOptions } from "./config.ts";
import { ConfigError } from "./errors.ts";
import { buildManifest, listJobIds, manifestUpload, readManifest } from "./job-manifest.ts";
import { JobMonitor } from "./job-monitor.ts";
import { collectMapInput, type Iterdata } from "./object-input.ts";
import { batchCalls } from "./call-batches.ts";
import { createLogger, type Logger } from "./logger.ts";
import { jobSummary, type JobSummaryOptions, type JobSummaryRow } from "./job-summary.ts";
import { plotCalls, type PlotPaths } from "./plot.ts";
import { startProgress } from "./progress.ts";
import {
  ALL_COMPLETED,
  ALWAYS,
  ANY_COMPLETED,
  callOptionsSchema,
  checkExecutorOptionNames,
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
import { ExecutorClosedError, FutureNotWatchedError } from "./errors.ts";
import { ResultTimeoutError } from "./errors.ts";
import { reducerInputs } from "./reduce-input.ts";
import { newStats, ResponseFuture, type FutureStats } from "./response-future.ts";
import { ReturnedFutures } from "./returned-futures.ts";
import type { StorageObject } from "../protocol/call-refs.ts";
import { shipFunction } from "./ship-function.ts";
import { Storage } from "./storage.ts";
import { StorageOutage } from "./storage-outage.ts";
import { loadPulumiPart } from "./optional-packages.ts";

type Futures = ResponseFuture | readonly ResponseFuture[];

/** How many of the futures must be done for a wait to return. */
function enoughFor(returnWhen: WaitOptions["returnWhen"], count: number): number {
  if (returnWhen === ALWAYS) return 0;
  return returnWhen === ANY_COMPLETED ? Math.min(1, count) : count;
}

/** wait() polls every 5 ms while calls complete, backing off to 500 ms as nothing does (protocol/polling.ts). */
const CLIENT_POLLING: PollPacing = { minMs: 5, maxMs: 500, fraction: 0.25 };

let executorCount = 0;

/**
 * Removes the finished futures from `pending` in place; returns how many of them failed, and
 * how many of those kept already finished on their worker (`ready`: for the progress bar).
 */
function removeDone(pending: ResponseFuture[]): { failed: number; ready: number } {
  let kept = 0;
  let failed = 0;
  let ready = 0;
  for (const future of pending) {
    if (!future.done) {
      pending[kept++] = future;
      if (future.status === "ready") ready += 1;
    } else if (future.failed) failed += 1;
  }
  pending.length = kept;
  return { failed, ready };
}

/**
 * Runs functions on a runtime, like Lithops's FunctionExecutor: callAsync and map queue
 * the calls, wait and getResult collect them. The backend (Azurite + local workers, or
 * Azure) starts on first use and stops on close().
 */
export class FunctionExecutor implements AsyncDisposable {
  readonly executorId: string;
  /** The settings; for a client bound to a stack, completed from the stack's clientConfig output when the backend starts. */
  get config(): ExecutorConfig {
    return this.resolved;
  }
  private resolved: ExecutorConfig;
  private readonly options: ExecutorOptions;
  /** autoDeploy runs, one per runtime and memory. */
  private readonly deploys = new Map<string, Promise<void>>();
  protected readonly log: Logger;
  private backendStart?: Promise<{ backend: ExecutionBackend; clients: StorageClients; monitor: JobMonitor }>;
  private readonly futures: ResponseFuture[] = [];
  private jobCount = 0;
  private closed = false;
  private objectStorage?: Storage;
  private readonly returnedFutures = new ReturnedFutures(
    (refs) => this.futuresForRefs(refs),
    (futures, timeout) => this.wait(futures, { throwExcept: false, timeout }),
  );

  constructor(options: ExecutorOptions = {}) {
    checkExecutorOptionNames(options);
    this.options = options;
    this.resolved = resolveConfig(options);
    executorCount += 1;
    this.executorId = `${randomBytes(3).toString("hex")}-${executorCount}`;
    this.log = createLogger(this.config.logLevel, this.executorId);
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
   * Returns the map futures then the reducers'; getResult() after it gives the reducers' values.
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
    for (const future of maps) future.retrieved = true;
    if (spawnReducer > 0)
      await this.waitForCount(maps, Math.ceil((maps.length * spawnReducer) / 100), { throwExcept: false, deadline: Infinity, progress: false });
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
    const futures = this.selectFutures(fs) as F[];
    const returnWhen = checked.returnWhen ?? ALL_COMPLETED;
    const throwExcept = checked.throwExcept ?? true;
    const deadline = checked.timeout === undefined ? Infinity : Date.now() + checked.timeout * 1000;
    await this.waitForCount(futures, enoughFor(returnWhen, futures.length), { throwExcept, deadline, progress: returnWhen === ALL_COMPLETED });
    // A call that returned futures is done when they are (only waits for all completions follow them).
    const following = returnWhen === ALL_COMPLETED ? await this.followReturned(futures, deadline) : new Set<ResponseFuture>();
    const done = futures.filter((f) => f.done && !following.has(f));
    if (throwExcept) {
      const firstFailed = done.find((f) => f.failed);
      if (firstFailed) throw firstFailed.error();
    }
    return { done, notDone: futures.filter((f) => !f.done || following.has(f)) };
  }

  /**
   * Polls until `enough` of the futures are done, the deadline passes, or (with throwExcept)
   * one of them failed. Futures of other executors are refreshed by their own executor.
   */
  private async waitForCount(
    futures: readonly ResponseFuture<unknown>[],
    enough: number,
    { throwExcept, deadline, progress: showProgress }: { throwExcept: boolean; deadline: number; progress: boolean },
  ): Promise<void> {
    const progress = startProgress(futures.length, this.config.progress && showProgress);
    // Only the futures still pending are looked at on each poll, compacted in place: a poll
    // costs O(pending) time and no allocation (a 100,000-call map polls every few ms).
    const pending = futures.filter((f) => !f.done);
    const refresh = this.refresherFor(pending);
    let failed = pending.length < futures.length ? futures.filter((f) => f.failed).length : 0;
    const outage = new StorageOutage(this.config.storageRetryTimeout, () => `${pending.length} calls`, this.log.warn);
    // Inside a worker (a nested job): while this waits, the call's worker slot is free for other calls.
    let endNestedWait: (() => void) | undefined;
    try {
      const waitStarted = Date.now();
      let lastProgress = waitStarted;
      let progressEvents = 0;
      while (futures.length > 0) {
        let completed = 0;
        if (pending.length > 0) {
          const attempted = Date.now();
          try {
            completed = await refresh(pending);
            outage.ok();
          } catch (error) {
            outage.failed(error, attempted); // storage unreachable: retry, up to lithops.storage_retry_timeout
          }
        }
        const removed = removeDone(pending);
        failed += removed.failed;
        progress.update(futures.length - pending.length + removed.ready, failed);
        if (futures.length - pending.length >= enough || (throwExcept && failed > 0)) break;
        const now = Date.now();
        const remaining = deadline - now;
        if (remaining <= 0) break;
        if (completed > 0) {
          lastProgress = now;
          progressEvents += 1;
        }
        // Calls completing at a steady pace (long calls, say every 200 ms): polling much faster
        // than that pace finds nothing new, and each poll is a billed request and client CPU. Only
        // the last completions decide when the wait ends: half the pace until the last quarter,
        // then a tenth of it.
        const pace = progressEvents > 0 ? (lastProgress - waitStarted) / progressEvents : 0;
        const paceFraction = pending.length > futures.length / 4 ? 0.5 : 0.1;
        const delay = Math.max(nextPollDelay(now - lastProgress, CLIENT_POLLING), Math.min(pace * paceFraction, CLIENT_POLLING.maxMs));
        endNestedWait ??= nestedWaitHook()?.begin(`${pending.length} calls of job ${pending[0].executorId}/${pending[0].jobId}`);
        await new Promise((resolve) => setTimeout(resolve, Math.min(delay, remaining)));
      }
    } finally {
      endNestedWait?.();
      progress.stop();
    }
  }

  /**
   * How a wait reads what finished among `pending`: this executor's monitor, or, for futures
   * of several executors, each future's own executor. A future whose executor is closed has
   * nobody to watch it: that fails at once instead of polling until the timeout.
   */
  private refresherFor(pending: readonly ResponseFuture<unknown>[]): (pending: ResponseFuture<unknown>[]) => Promise<number> {
    const owners = new Set(pending.map((f) => f.owner));
    for (const owner of owners) {
      if (owner.closed) {
        const future = pending.find((f) => f.owner === owner) as ResponseFuture<unknown>;
        throw new FutureNotWatchedError(
          `call ${future.jobId}/${future.callId} is not done and its executor ${owner.executorId} is closed: nothing in this process watches it any more; ` +
            `to collect it, attach to its job from an open executor on the same storage: fexec.attach("${future.executorId}", ["${future.jobId}"])`,
        );
      }
    }
    if (owners.size === 1 && owners.has(this)) return (own) => this.refreshOwn(own);
    return async (mixed) => {
      const byOwner = new Map<FunctionExecutor, ResponseFuture<unknown>[]>();
      for (const future of mixed) {
        const group = byOwner.get(future.owner);
        if (group) group.push(future);
        else byOwner.set(future.owner, [future]);
      }
      const counts = await Promise.all([...byOwner].map(([owner, group]) => owner.refreshOwn(group)));
      return counts.reduce((a, b) => a + b, 0);
    };
  }

  /** Reads what finished among futures this executor created. */
  private async refreshOwn(futures: ResponseFuture<unknown>[]): Promise<number> {
    return this.backendStart ? (await this.running()).monitor.refresh(futures) : 0;
  }

  /** Follows the futures the calls returned (nested jobs), each call by the executor that watches it. */
  private async followReturned(futures: readonly ResponseFuture<unknown>[], deadline: number): Promise<Set<ResponseFuture<unknown>>> {
    const owners = new Set(futures.map((f) => f.owner));
    if (owners.size <= 1) return ([...owners][0] ?? this).returnedFutures.follow(futures, deadline);
    const following = new Set<ResponseFuture<unknown>>();
    for (const owner of owners) {
      for (const future of await owner.returnedFutures.follow(
        futures.filter((f) => f.owner === owner),
        deadline,
      ))
        following.add(future);
    }
    return following;
  }

  /**
   * Results in call order. With no futures: those not retrieved yet, and a single result
   * not from a map is returned as the value itself (Lithops's rule). A call counts as
   * retrieved once reported, returned or thrown: getResult() never reports it again.
   */
  getResult<F extends ResponseFuture<unknown>, O extends GetResultOptions = GetResultOptions>(fs: F, options?: O): Promise<Settled<ResultOf<F>, O>>;
  getResult<const F extends readonly ResponseFuture<unknown>[], O extends GetResultOptions = GetResultOptions>(fs: F, options?: O): Promise<SettledAll<F, O>>;
  getResult(fs?: undefined, options?: GetResultOptions): Promise<unknown>;
  async getResult(fs?: Futures, options?: GetResultOptions): Promise<unknown> {
    const checked = checkOptions("getResult", getResultOptionsSchema, options);
    const futures = fs === undefined ? this.futures.filter((f) => !f.retrieved) : this.selectFutures(fs);
    const { notDone } = await this.wait(futures, { throwExcept: false, timeout: checked.timeout });
    if (notDone.length > 0) {
      throw new ResultTimeoutError(
        `getResult: ${notDone.length} of ${futures.length} calls not done after ${checked.timeout} s (first: ${notDone[0].jobId}/${notDone[0].callId})`,
      );
    }
    for (const future of futures) future.retrieved = true;
    const values = futures.map((f) => f.settledValue(checked.throwExcept ?? true));
    const single = fs === undefined ? futures.length === 1 && !futures[0].fromMap : !Array.isArray(fs);
    return single ? values[0] : values;
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
    const { backend, clients, monitor } = await this.running();
    const ids = jobIds ?? (await listJobIds(clients.container, executorId));
    const manifests = await Promise.all(ids.map((jobId) => readManifest(clients.container, executorId, jobId)));
    const attached: ResponseFuture[] = [];
    for (const manifest of manifests) {
      const batches = new Map<number, ResponseFuture[]>();
      for (const [batch, first, count] of manifest.batches) {
        const batchFutures = Array.from({ length: count }, (_, i) =>
          this.futureFor(executorId, manifest.jobId, callId(first + i), manifest.fromMap, newStats(manifest.submitted, batch, 0)),
        );
        batches.set(batch, batchFutures);
        attached.push(...batchFutures);
      }
      monitor.watch(executorId, manifest.jobId, batches);
      // Workers for what is still queued: a poke of 0 makes the local scaler look at the queue now.
      backend.submitted(await backend.prepareRuntime(manifest.runtime, manifest.memory), 0);
    }
    this.futures.push(...attached);
    return attached;
  }

  /** Every future this executor created, in call order. */
  allFutures(): readonly ResponseFuture[] {
    return this.futures;
  }

  /** Storage requests so far: the client's own and those the workers reported for collected batches. */
  storageOperations(): { client: number; workers: number } {
    return { client: this.clientsIfStarted?.counter.count ?? 0, workers: this.monitorIfStarted?.workerStorageOps ?? 0 };
  }

  /** Most workers that ran at once (local backend). */
  async peakWorkers(): Promise<number | undefined> {
    return this.backendStart ? (await this.backendStart).backend.peakWorkers() : undefined;
  }

  /**
   * Draws the finished calls among fs (default: all) as `<dir>/<executorId>-timeline.svg` and
   * `-histogram.svg` (dir default `plots`); returns `[timeline, histogram]`. See client/plot.ts.
   */
  async plot(fs?: Futures | string, dir?: string): Promise<PlotPaths> {
    return plotCalls(this.futures, this.executorId, fs, dir);
  }

  /** One row per call (default: all), and with `csv` the same rows written as CSV. See client/job-summary.ts. */
  async jobSummary(options: JobSummaryOptions = {}): Promise<JobSummaryRow[]> {
    return jobSummary(options.fs === undefined ? this.futures : this.selectFutures(options.fs), options.csv);
  }

  /** The backend this executor runs on, started if needed. */
  async backend(): Promise<ExecutionBackend> {
    return (await this.running()).backend;
  }

  /** Removes this executor's job data from storage. */
  async clean(): Promise<void> {
    if (!this.backendStart) return;
    const { clients } = await this.backendStart;
    const keys: string[] = [];
    for await (const blob of clients.container.listBlobsFlat({ prefix: executorPrefix(this.executorId) })) keys.push(blob.name);
    await Promise.all(keys.map((key) => clients.container.deleteBlob(key).catch(() => undefined)));
  }

  /** Stops everything this executor started (local workers, Azurite). Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.config.dataCleaner) await this.clean().catch((error: Error) => this.log.warn(`data_cleaner: job data not removed: ${error.message}`));
    if (this.backendStart) await (await this.backendStart.catch(() => undefined))?.backend.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Queues the calls; `options` were checked by the public method's schema. */
  protected async submit(kind: "A" | "M" | "R", fn: unknown, elements: unknown[], options: MapOptions, fromMap: boolean): Promise<ResponseFuture[]> {
    this.assertOpen();
    // Bound to a stack: the stack's config (default runtime, memory) applies from the first call on.
    if (this.config.stack) await this.running();
    const memory = options.runtimeMemory ?? this.config.runtimeMemory;
    const jobId = `${kind}${String(this.jobCount).padStart(3, "0")}`;
    this.jobCount += 1;
    const extraArgs = options.extraArgs ?? [];
    const calls = elements.map((element, index) => encodeCompact(callArguments(element, extraArgs), `the argument of call ${index}`));
    // The backend (Azurite and the workers, on first use) starts while the function is serialized.
    const running = this.running();
    running.catch(() => undefined); // a failed start is reported by the await below, after any shipping error
    const functionText = await shipFunction(fn);
    const { backend, clients, monitor } = await running;
    const target = await this.prepareRuntime(backend, memory);
    const plan = batchCalls({
      executorId: this.executorId,
      jobId,
      functionText,
      calls,
      parallelism: this.config.maxWorkers * this.config.workerProcesses,
      timeout: Math.min(options.timeout ?? this.config.executionTimeout, this.config.runtimeTimeout),
      signingKey: this.config.signingKey ?? backend.signingKey,
      callsPerMessage: options.chunksize ?? this.config.chunksize,
      env: options.extraEnv,
    });
    // The job manifest goes with the payloads, before any message: another client can re-attach by the job's ids.
    const manifest = manifestUpload(
      buildManifest({ executorId: this.executorId, jobId, fromMap, submitted: Date.now(), runtime: target.name, memory, batches: plan.batches }),
    );
    await Promise.all([...plan.uploads, manifest].map(({ key, bytes }) => clients.container.getBlockBlobClient(key).uploadData(bytes)));
    const submitted = Date.now();
    const batches = new Map<number, ResponseFuture[]>();
    const futures: ResponseFuture[] = [];
    for (const { batch, callIds } of plan.batches) {
      const batchFutures = callIds.map((callId) =>
        this.futureFor(this.executorId, jobId, callId, fromMap, newStats(submitted, batch, calls[Number(callId)].length)),
      );
      batches.set(batch, batchFutures);
      futures.push(...batchFutures);
    }
    monitor.watch(this.executorId, jobId, batches);
    await this.sendMessages(clients, target, plan.messages);
    backend.submitted(target, plan.messages.length);
    for (const future of futures) this.futures.push(future); // not push(...futures): a huge map would overflow the stack
    this.log.debug(`${jobId}: ${calls.length} calls in ${plan.messages.length} messages to ${target.queue}`);
    // The inspector session Pulumi's serializer leaves open can keep the latest async call's
    // variables alive after it returns: let go of the encoded arguments (a Buffer per call).
    calls.length = 0;
    return futures;
  }

  private async sendMessages(clients: StorageClients, target: RuntimeTarget, messages: string[]): Promise<void> {
    const queue = clients.queueService.getQueueClient(target.queue);
    const concurrency = 16;
    for (let i = 0; i < messages.length; i += concurrency) {
      await Promise.all(messages.slice(i, i + concurrency).map((text) => queue.sendMessage(text)));
    }
  }

  private futureFor(executorId: string, jobId: string, callId: string, fromMap: boolean, stats: FutureStats): ResponseFuture {
    return new ResponseFuture(executorId, jobId, callId, fromMap, stats, this);
  }

  /** Futures for calls a function returned (nested jobs), watched like this executor's own. */
  private async futuresForRefs(refs: FutureRef[]): Promise<ResponseFuture[]> {
    const { monitor } = await this.running();
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

  private clientsIfStarted?: StorageClients;
  private monitorIfStarted?: JobMonitor;

  private running(): Promise<{ backend: ExecutionBackend; clients: StorageClients; monitor: JobMonitor }> {
    this.backendStart ??= this.startBackend().then((started) => {
      this.clientsIfStarted = started.clients;
      this.monitorIfStarted = started.monitor;
      return started;
    });
    return this.backendStart;
  }

  /**
   * The runtime's queue. A runtime the bound stack has not deployed is deployed first with
   * autoDeploy (as Lithops deploys the default runtime on first use); otherwise the error
   * names the stack and the command that deploys it.
   */
  private async prepareRuntime(backend: ExecutionBackend, memory: number): Promise<RuntimeTarget> {
    const { runtime, stack } = this.config;
    try {
      return await backend.prepareRuntime(runtime, memory);
    } catch (error) {
      if (!(error instanceof RuntimeNotDeployedError) || !stack) throw error;
      if (!this.config.autoDeploy) {
        throw new RuntimeNotDeployedError(
          `runtime '${runtime}' with ${memory} MB is not deployed in stack '${stack}': deploy it with ` +
            `\`npx lithops-aca runtime deploy ${runtime} --memory ${memory} --stack ${stack}\`, or create the executor with autoDeploy: true`,
        );
      }
      const key = `${runtime}|${memory}`;
      let deploy = this.deploys.get(key);
      if (!deploy) {
        this.log.info(`runtime '${runtime}' (${memory} MB) is not deployed in stack '${stack}': deploying it (autoDeploy)`);
        deploy = loadPulumiPart("autoDeploy", () => import("../deploy/runtime-changes.ts")).then(({ deployRuntime }) =>
          deployRuntime(stack, runtime, memory, this.log.info),
        );
        this.deploys.set(key, deploy);
      }
      await deploy;
      return await backend.prepareRuntime(runtime, memory);
    }
  }

  private async startBackend(): Promise<{ backend: ExecutionBackend; clients: StorageClients; monitor: JobMonitor }> {
    if (this.config.stack) {
      // Bound to a stack: its clientConfig output takes the place of the config file; options still win.
      const { readStackClientConfig } = await loadPulumiPart(`binding an executor to stack '${this.config.stack}'`, () => import("../deploy/stack-session.ts"));
      const stackConfig = await readStackClientConfig(this.config.stack);
      this.resolved = resolveConfig({ ...this.options, backend: "azure_containers", stack: this.config.stack, config: stackConfig });
    }
    const config = this.config;
    let backend: ExecutionBackend;
    if (config.backend === "local") {
      const { LocalBackend } = await import("../local/local-backend.ts");
      backend = await LocalBackend.start({
        container: config.storage.container,
        maxWorkers: config.maxWorkers,
        workerProcesses: config.workerProcesses,
        runtimeTimeout: config.runtimeTimeout,
        cooldown: config.local.cooldown,
        visibilityTimeout: config.local.visibilityTimeout,
        maxDeliveries: config.local.maxDeliveries,
        signingKey: config.signingKey,
        dataDir: config.local.dataDir,
        connectionString: config.local.connectionString,
        startWorkers: config.local.startWorkers,
        log: this.log.info,
      });
    } else {
      backend = new AzureContainersBackend(config.storage, config.deployedRuntimes, this.log.warn);
    }
    const clients = connectStorage(backend.storage);
    return { backend, clients, monitor: new JobMonitor(clients.container) };
  }
}
