/**
 * What a future needs from the executor that watches its call (FunctionExecutor implements
 * it): waits and result reads go through it, and the wait loop (client/wait-loop.ts) asks
 * it to read its futures' outcomes. Generic over the future type so that this file and
 * response-future.ts do not import each other.
 */
export interface FutureOwner<F> {
  readonly executorId: string;
  /** How waits driven by this executor show progress and ride out storage outages. */
  readonly waitSettings: WaitSettings;
  /** Waits (up to `timeout` seconds) for the futures, without throwing their errors. */
  waitFor(futures: readonly F[], timeout?: number): Promise<void>;
  /** Fails with FutureNotWatchedError when nothing reads the future's outcome any more (this executor is closed). */
  assertWatching(future: F): void;
  /** Reads what finished among these futures (all watched by this executor); returns how many completed. */
  refresh(futures: F[]): Promise<number>;
  /** Follows the futures the successful calls among these returned (nested jobs); returns those not resolved by the deadline. */
  followReturned(futures: readonly F[], deadline: number): Promise<Set<F>>;
}

export interface WaitSettings {
  /** Show a progress bar for waits on all calls. */
  progress: boolean;
  /** Seconds a wait keeps polling through storage errors (lithops.storage_retry_timeout). */
  storageRetryTimeout: number;
  warn: (line: string) => void;
}
