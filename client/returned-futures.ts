import { isFutureRef, type FutureRef } from "../protocol/call-refs.ts";
import type { ResponseFuture } from "./response-future.ts";

/** Shared by every call that returned no futures (a map of 100,000 calls need not hold 100,000 empty arrays). */
const NONE: ResponseFuture[] = [];

/** The futures a call returned: one (the value is a reference) or several (an array holding references). */
function returnedRefs(value: unknown): FutureRef[] {
  if (isFutureRef(value)) return [value];
  return Array.isArray(value) ? value.filter(isFutureRef) : [];
}

/**
 * A function may return futures of a nested job (Lithops allows it): the call's value is
 * then the value of those calls, in the same shape (one value, or the array with each
 * reference replaced by its call's value). A failed nested call fails the call.
 */
export class ReturnedFutures {
  /** Futures of the nested calls each followed call waits for; empty once resolved (or when it returned none). */
  private readonly followed = new WeakMap<ResponseFuture, ResponseFuture[]>();

  constructor(
    private readonly futuresFor: (refs: FutureRef[]) => Promise<ResponseFuture[]>,
    private readonly wait: (futures: ResponseFuture[], timeout?: number) => Promise<{ notDone: ResponseFuture[] }>,
  ) {}

  /** Resolves the successful calls among `futures` that returned futures; returns those whose nested calls are not done by the deadline. */
  async follow(futures: readonly ResponseFuture[], deadline: number): Promise<Set<ResponseFuture>> {
    const unresolved = new Set<ResponseFuture>();
    for (const future of futures) {
      if (future.status !== "success") continue;
      let nested = this.followed.get(future);
      if (!nested) {
        const refs = returnedRefs(future.settledValue(true));
        nested = refs.length > 0 ? await this.futuresFor(refs) : NONE;
        this.followed.set(future, nested);
      }
      if (nested.length === 0) continue;
      const timeout = deadline === Infinity ? undefined : Math.max(0, (deadline - Date.now()) / 1000);
      if ((await this.wait(nested, timeout)).notDone.length > 0) {
        unresolved.add(future);
        continue;
      }
      this.resolve(future, nested);
      this.followed.set(future, NONE);
    }
    return unresolved;
  }

  private resolve(future: ResponseFuture, nested: ResponseFuture[]): void {
    const failed = nested.find((f) => f.failed);
    const error = failed?.error();
    if (error) {
      future.resolveNested({ error });
      return;
    }
    const returned = future.settledValue(true);
    const values = nested.map((f) => f.settledValue(true));
    let next = 0;
    const value = isFutureRef(returned) ? values[0] : (returned as unknown[]).map((element) => (isFutureRef(element) ? values[next++] : element));
    future.resolveNested({ value });
  }
}
