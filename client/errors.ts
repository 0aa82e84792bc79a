import { InvalidArgumentError, LithopsError } from "../protocol/errors.ts";

/**
 * The package's base error class, and the client's own errors about waiting. The kinds of a
 * remote call's failure are in client/remote-error.ts.
 */
export { InvalidArgumentError, LithopsError };

/** A wait on a call that nothing in this process can watch: its executor was closed before the call finished. */
export class FutureNotWatchedError extends LithopsError {
  override name = "FutureNotWatchedError";
}

/** A call on an executor after close(). */
export class ExecutorClosedError extends LithopsError {
  override name = "ExecutorClosedError";
}
