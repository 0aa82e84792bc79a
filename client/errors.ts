import { inspect } from "node:util";
import type { RemoteErrorInfo } from "../protocol/data-codec.ts";
import { InvalidArgumentError, LithopsError } from "../protocol/errors.ts";

/**
 * Every error the client throws, on the package's base class LithopsError: its own, and the
 * kinds of a remote call's failure (client/remote-error.ts rebuilds those from a call's outcome).
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

/**
 * The client rides over a storage outage (an emulator restart, throttling, a network blip)
 * while it waits for results: the SDK retries each request with backoff, and the wait loop
 * retries refreshes on top of that, until storage has been unreachable for
 * `lithops.storage_retry_timeout` seconds; then it fails with StorageUnavailableError
 * instead of waiting forever.
 */
export class StorageUnavailableError extends LithopsError {
  override name = "StorageUnavailableError";
}

/** A function that cannot be shipped to a worker; the message names the captured value and what to change. */
export class UnshippableFunctionError extends LithopsError {
  override name = "UnshippableFunctionError";
}

/** A part of lithops-aca was used whose optional peer dependency is not installed; the message says what to install. */
export class MissingPackageError extends LithopsError {
  override name = "MissingPackageError";
}

/** plot() needs Vega, which the package lists as optional peer dependencies so that the client does not carry it. */
export class PlotPackagesMissingError extends MissingPackageError {
  override name = "PlotPackagesMissingError";
}

export class RuntimeNotDeployedError extends LithopsError {
  override name = "RuntimeNotDeployedError";
}

export class JobNotFoundError extends LithopsError {
  override name = "JobNotFoundError";
}

/** A call that failed on its first run and on every retry. */
export class RetriesExhaustedError extends LithopsError {
  override name = "RetriesExhaustedError";

  constructor(
    readonly index: number,
    readonly attempts: number,
    override readonly cause: RemoteCallError,
    element: unknown,
  ) {
    super(
      `call ${index} of the map (element ${inspect(element, { depth: 1, breakLength: Infinity, maxStringLength: 60 })}) failed ${attempts} time(s), ` +
        `last as ${cause.jobId}/${cause.callId}: ${cause.name}: ${cause.message}`,
    );
  }
}

export class StorageNoSuchKeyError extends LithopsError {
  override name = "StorageNoSuchKeyError";
}

export class ConfigError extends LithopsError {
  override name = "ConfigError";
}

/**
 * A call's failure, rethrown on the client: the remote error's name, message and stack,
 * plus which call it was. Failures the worker detects itself come as the subclasses
 * below (`error instanceof CallTimeoutError`); errors the call threw as this class.
 */
export class RemoteCallError extends LithopsError {
  readonly remoteStack?: string;
  /** What the call threw when it was not an Error. */
  readonly thrownValue?: unknown;

  constructor(
    info: RemoteErrorInfo,
    readonly jobId: string,
    readonly callId: string,
  ) {
    super(info.message);
    this.name = info.name;
    this.remoteStack = info.stack;
    this.thrownValue = info.thrownValue;
    this.stack = `${info.stack ?? `${info.name}: ${info.message}`}\n    at (remote call ${jobId}/${callId})`;
  }
}

/** The call ran longer than its timeout and the worker stopped it (name `TimeoutError`). */
export class CallTimeoutError extends RemoteCallError {}

/** The call ran out of the runtime's memory (name `OutOfMemoryError`). */
export class OutOfMemoryError extends RemoteCallError {}

/** The call ended its process, with process.exit for instance (name `CallExitedError`). */
export class CallExitedError extends RemoteCallError {}

/**
 * The call (`PoisonCallError`) or its whole batch (`PoisonMessageError`) killed its worker
 * as many times as deliveries are allowed, and was not run again.
 */
export class PoisonCallError extends RemoteCallError {}

/**
 * The call was cancelled before it finished (name `CallCancelledError`): by fexec.cancel(),
 * by close() on the local backend, or by `lithops-aca job cancel` from another process.
 */
export class CallCancelledError extends RemoteCallError {}

/** The worker refused the message that carried the call: schema, protocol version or signature (name `MessageRejectedError`). */
export class MessageRejectedError extends RemoteCallError {}

/**
 * What the call returned cannot be serialized (a socket, a stream, a function...); the
 * message names what and which call (name `UnserializableValueError`).
 */
export class UnserializableResultError extends RemoteCallError {
  constructor(info: RemoteErrorInfo, jobId: string, callId: string) {
    super({ ...info, message: `call ${jobId}/${callId}: ${info.message}` }, jobId, callId);
  }
}

export class ResultTimeoutError extends LithopsError {
  override name = "ResultTimeoutError";
}
