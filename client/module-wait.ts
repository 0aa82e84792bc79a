import type { ResultOf, Settled, SettledAll } from "./call-types.ts";
import { checkOptions, getResultOptionsSchema, waitOptionsSchema, type GetResultOptions, type WaitOptions } from "./options.ts";
import type { ResponseFuture } from "./response-future.ts";

/**
 * Lithops's module-level `wait` and `get_result`: they take futures of any executors of
 * this process. Each future's own executor reads its calls' outcomes; a future whose
 * executor was closed before it finished fails the wait at once (FutureNotWatchedError).
 */

/** The executor that drives a wait: the one of the first future still running (any will do). */
function driver(futures: readonly ResponseFuture<unknown>[]) {
  return (futures.find((f) => !f.done) ?? futures[0])?.owner;
}

/** Waits until all (or any) of the futures are done, or the timeout passes: FunctionExecutor.wait over any executors' futures. */
export async function wait<F extends ResponseFuture<unknown>>(fs: F | readonly F[], options?: WaitOptions): Promise<{ done: F[]; notDone: F[] }> {
  const futures: readonly F[] = Array.isArray(fs) ? fs : [fs as F];
  const executor = driver(futures);
  if (!executor) {
    checkOptions("wait", waitOptionsSchema, options);
    return { done: [], notDone: [] };
  }
  return executor.wait(futures, options);
}

/** The futures' results, as FunctionExecutor.getResult gives them, over any executors' futures. */
export function getResult<F extends ResponseFuture<unknown>, O extends GetResultOptions = GetResultOptions>(
  fs: F,
  options?: O,
): Promise<Settled<ResultOf<F>, O>>;
export function getResult<const F extends readonly ResponseFuture<unknown>[], O extends GetResultOptions = GetResultOptions>(
  fs: F,
  options?: O,
): Promise<SettledAll<F, O>>;
export async function getResult(fs: ResponseFuture<unknown> | readonly ResponseFuture<unknown>[], options?: GetResultOptions): Promise<unknown> {
  const futures: readonly ResponseFuture<unknown>[] = Array.isArray(fs) ? fs : [fs as ResponseFuture<unknown>];
  const executor = driver(futures);
  if (!executor) {
    checkOptions("getResult", getResultOptionsSchema, options);
    return [];
  }
  return executor.getResult(fs as readonly ResponseFuture<unknown>[], options);
}
