import type { RemoteErrorInfo } from "../protocol/data-codec.ts";
import { LithopsError, REMOTE_ERROR_NAMES } from "../protocol/errors.ts";

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

type RemoteCallErrorClass = new (info: RemoteErrorInfo, jobId: string, callId: string) => RemoteCallError;

const KINDS: ReadonlyMap<string, RemoteCallErrorClass> = new Map<string, RemoteCallErrorClass>([
  [REMOTE_ERROR_NAMES.timeout, CallTimeoutError],
  [REMOTE_ERROR_NAMES.outOfMemory, OutOfMemoryError],
  [REMOTE_ERROR_NAMES.exited, CallExitedError],
  [REMOTE_ERROR_NAMES.poisonCall, PoisonCallError],
  [REMOTE_ERROR_NAMES.poisonMessage, PoisonCallError],
  [REMOTE_ERROR_NAMES.messageRejected, MessageRejectedError],
  [REMOTE_ERROR_NAMES.unserializable, UnserializableResultError],
]);

/** The client-side error of a failed call: the subclass its remote name stands for, else RemoteCallError. */
export function remoteCallError(info: RemoteErrorInfo, jobId: string, callId: string): RemoteCallError {
  return new (KINDS.get(info.name) ?? RemoteCallError)(info, jobId, callId);
}

export class ResultTimeoutError extends LithopsError {
  override name = "ResultTimeoutError";
}
