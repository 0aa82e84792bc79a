/**
 * How a call tells its worker that it is waiting on futures of a nested job. The worker's
 * call thread installs the hook on globalThis; the client (a separate module instance: the
 * package's build locally, the bundled client in an image) finds it by this registered
 * symbol, which both see. While a call waits, its worker slot is free for other calls, so
 * nested jobs never deadlock on a bounded number of workers.
 */
export const NESTED_WAIT_HOOK = Symbol.for("lithops-aca.nested-wait");

export interface NestedWaitHook {
  /** The call started waiting on `what` (e.g. "4 calls of job ab12-1/M000"); returns the function that ends that wait. */
  begin(what: string): () => void;
}

/** The hook of the call thread this code runs in, or undefined outside a worker. */
export function nestedWaitHook(): NestedWaitHook | undefined {
  return (globalThis as { [NESTED_WAIT_HOOK]?: NestedWaitHook })[NESTED_WAIT_HOOK];
}

export function installNestedWaitHook(hook: NestedWaitHook): void {
  (globalThis as { [NESTED_WAIT_HOOK]?: NestedWaitHook })[NESTED_WAIT_HOOK] = hook;
}
