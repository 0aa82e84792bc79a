import { callResultsRef } from "../protocol/call-refs.ts";
import type { ResponseFuture } from "./response-future.ts";

/**
 * The argument of each reducer of a mapReduce: a reference to the results of a group of
 * consecutive map calls (all of them, or one object's parts with objReduceByKey). The
 * worker running the reducer reads those results from the map job's status documents;
 * an empty group is simply an empty list.
 */
export function reducerInputs(maps: readonly ResponseFuture[], groupSizes: readonly number[]): unknown[] {
  let first = 0;
  return groupSizes.map((count) => {
    const group = maps.slice(first, first + count);
    first += count;
    if (group.length === 0) return [];
    return callResultsRef({
      executorId: group[0].executorId,
      jobId: group[0].jobId,
      first: Number(group[0].callId),
      count,
      batches: [...new Set(group.map((future) => future.stats.batch))],
    });
  });
}
