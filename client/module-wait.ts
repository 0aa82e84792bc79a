import type { MapReduceFutures, ResultOf, Settled, SettledAll } from "./call-types.ts";
import { checkOptions, getResultOptionsSchema, waitOptionsSchema, type GetResultOptions, type WaitOptions } from "./options.ts";
import type { ResponseFuture } from "./response-future.ts";
import { collectResults, waitFor } from "./wait-loop.ts";

/**
 * Lithops's module-level `wait` and `get_result`: they take futures of any executors of
 * this process. Each future's own executor reads its calls' outcomes; a future whose
 * executor was closed before it finished fails the wait at once (FutureNotWatchedError).
 */

/** The settings of the executor that drives a wait: the one of the first future still running (any will do). */
function driverSettings(futures: readonly ResponseFuture<unknown>[]) {
  return (futures.find((f) => !f.done) ?? futures[0])?.owner.waitSettings;
}

/** Waits until all (or any) of the futures are done, or the timeout passes: FunctionExecutor.wait over any executors' futures. */
export async function wait<F extends ResponseFuture<unknown>>(fs: F | readonly F[], options?: WaitOptions): Promise<{ done: F[]; notDone: F[] }> {
  const checked = checkOptions("wait", waitOptionsSchema, options);
  const futures: F[] = Array.isArray(fs) ? [...fs] : [fs as F];
  const settings = driverSettings(futures);
  return settings ? waitFor(futures, checked, settings) : { done: [], notDone: [] };
}

/** The futures' results, as FunctionExecutor.getResult gives them, over any executors' futures. */
export function getResult<R, O extends GetResultOptions = GetResultOptions>(fs: MapReduceFutures<unknown, R>, options?: O): Promise<Settled<R, O>>;
export function getResult<F extends ResponseFuture<unknown>, O extends GetResultOptions = GetResultOptions>(
  fs: F,
  options?: O,
): Promise<Settled<ResultOf<F>, O>>;
export function getResult<const F extends readonly ResponseFuture<unknown>[], O extends GetResultOptions = GetResultOptions>(
  fs: F,
  options?: O,
): Promise<SettledAll<F, O>>;
export async function getResult(fs: ResponseFuture<unknown> | readonly ResponseFuture<unknown>[], options?: GetResultOptions): Promise<unknown> {
  const checked = checkOptions("getResult", getResultOptionsSchema, options);
  const futures: readonly ResponseFuture<unknown>[] = Array.isArray(fs) ? fs : [fs as ResponseFuture<unknown>];
  const settings = driverSettings(futures);
  return settings ? collectResults(futures, !Array.isArray(fs), checked, settings) : [];
}
