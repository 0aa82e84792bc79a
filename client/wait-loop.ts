import { nestedWaitHook } from "../protocol/nested-wait.ts";
import { nextPollDelay, type PollPacing } from "../protocol/polling.ts";
import { ResultTimeoutError } from "./errors.ts";
import type { WaitSettings } from "./future-owner.ts";
import { ALL_COMPLETED, ALWAYS, ANY_COMPLETED, type GetResultOptions, type WaitOptions } from "./options.ts";
import { startProgress } from "./progress.ts";
import type { ResponseFuture } from "./response-future.ts";
import { StorageOutage } from "./storage-outage.ts";

/**
 * How waits run, for the futures of any executors of this process: the poll loop and its
 * pacing, the progress bar, following the futures calls returned, and getResult's rules.
 * Each future's own executor (its FutureOwner) reads its calls' outcomes.
 */

type AnyFuture = ResponseFuture<unknown>;

/** wait() polls every 5 ms while calls complete, backing off to 500 ms as nothing does (protocol/polling.ts). */
const CLIENT_POLLING: PollPacing = { minMs: 5, maxMs: 500, fraction: 0.25 };

/** How many of the futures must be done for a wait to return. */
function enoughFor(returnWhen: WaitOptions["returnWhen"], count: number): number {
  if (returnWhen === ALWAYS) return 0;
  return returnWhen === ANY_COMPLETED ? Math.min(1, count) : count;
}

/**
 * Removes the finished futures from `pending` in place; returns how many of them failed, and
 * how many of those kept already finished on their worker (`ready`: for the progress bar).
 */
function removeDone(pending: AnyFuture[]): { failed: number; ready: number } {
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

/** The futures grouped by the executor that watches them, in first-seen order. */
function byOwner<F extends AnyFuture>(futures: readonly F[]): Map<F["owner"], F[]> {
  const groups = new Map<F["owner"], F[]>();
  for (const future of futures) {
    const group = groups.get(future.owner);
    if (group) group.push(future);
    else groups.set(future.owner, [future]);
  }
  return groups;
}

/**
 * How a wait reads what finished among `pending`: each future's own executor. A future whose
 * executor is closed has nobody to watch it: that fails at once instead of polling until the timeout.
 */
function refresherFor(pending: readonly AnyFuture[]): (pending: AnyFuture[]) => Promise<number> {
  const groups = byOwner(pending);
  for (const [owner, group] of groups) owner.assertWatching(group[0]);
  if (groups.size === 1) {
    const [owner] = groups.keys();
    return (own) => owner.refresh(own);
  }
  return async (mixed) => {
    const counts = await Promise.all([...byOwner(mixed)].map(([owner, group]) => owner.refresh(group)));
    return counts.reduce((a, b) => a + b, 0);
  };
}

/**
 * Polls until `enough` of the futures are done, the deadline passes, or (with throwExcept)
 * one of them failed.
 */
export async function waitForCount(
  futures: readonly AnyFuture[],
  enough: number,
  { throwExcept, deadline, progress: showProgress }: { throwExcept: boolean; deadline: number; progress: boolean },
  settings: WaitSettings,
): Promise<void> {
  const progress = startProgress(futures.length, settings.progress && showProgress);
  // Only the futures still pending are looked at on each poll, compacted in place: a poll
  // costs O(pending) time and no allocation (a 100,000-call map polls every few ms).
  const pending = futures.filter((f) => !f.done);
  const refresh = refresherFor(pending);
  let failed = pending.length < futures.length ? futures.filter((f) => f.failed).length : 0;
  const outage = new StorageOutage(settings.storageRetryTimeout, () => `${pending.length} calls`, settings.warn);
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

/** Follows the futures the calls returned (nested jobs), each call by the executor that watches it. */
async function followReturned<F extends AnyFuture>(futures: readonly F[], deadline: number): Promise<Set<F>> {
  const following = new Set<F>();
  for (const [owner, group] of byOwner(futures)) {
    for (const future of await owner.followReturned(group, deadline)) following.add(future as F);
  }
  return following;
}

/**
 * Waits until all (or any) of the futures are done, or the timeout passes. With throwExcept
 * (the default) it fails at the first failed call it reads, as Lithops's wait does.
 * `options` were checked by the caller's schema.
 */
export async function waitFor<F extends AnyFuture>(futures: F[], options: WaitOptions, settings: WaitSettings): Promise<{ done: F[]; notDone: F[] }> {
  const returnWhen = options.returnWhen ?? ALL_COMPLETED;
  const throwExcept = options.throwExcept ?? true;
  const deadline = options.timeout === undefined ? Infinity : Date.now() + options.timeout * 1000;
  await waitForCount(futures, enoughFor(returnWhen, futures.length), { throwExcept, deadline, progress: returnWhen === ALL_COMPLETED }, settings);
  // A call that returned futures is done when they are (only waits for all completions follow them).
  const following = returnWhen === ALL_COMPLETED ? await followReturned(futures, deadline) : new Set<F>();
  const done = futures.filter((f) => f.done && !following.has(f));
  if (throwExcept) {
    const firstFailed = done.find((f) => f.failed);
    if (firstFailed) throw firstFailed.error();
  }
  return { done, notDone: futures.filter((f) => !f.done || following.has(f)) };
}

/**
 * getResult's rules, as Lithops's: the values in call order, leaving out the maps of a
 * mapReduce (they produce no output of their own). One value alone when `single` (a single
 * future was given), or when the maps were left out or no futures were given and one value
 * not from a map remains. Every future read counts as retrieved. `options` were checked.
 */
export async function collectResults(futures: readonly AnyFuture[], single: boolean, options: GetResultOptions, settings: WaitSettings): Promise<unknown> {
  const outputs = futures.filter((f) => f.producesOutput);
  // A reducer is done only after its maps: waiting for it alone spares reading the maps' status documents.
  const awaited = outputs.length > 0 ? outputs : [...futures];
  const { notDone } = await waitFor(awaited, { throwExcept: false, timeout: options.timeout }, settings);
  if (notDone.length > 0) {
    throw new ResultTimeoutError(
      `getResult: ${notDone.length} of ${awaited.length} calls not done after ${options.timeout} s (first: ${notDone[0].jobId}/${notDone[0].callId})`,
    );
  }
  for (const future of futures) future.retrieved = true;
  const values = outputs.map((f) => f.settledValue(options.throwExcept ?? true));
  const alone = single || (outputs.length < futures.length && outputs.length === 1 && !outputs[0].fromMap);
  return alone ? values[0] : values;
}
