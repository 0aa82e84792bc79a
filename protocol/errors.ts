/**
 * The base class of every error lithops-aca throws, on the client, in the worker and in the
 * Pulumi components: `error instanceof LithopsError` tells the package's errors from others.
 * It lives in protocol/ because every folder may import protocol/; the client re-exports it
 * from client/errors.ts.
 */
export class LithopsError extends Error {
  override name = "LithopsError";
}

/** A value given to the package is not valid; the message names it and what would be. */
export class InvalidArgumentError extends LithopsError {
  override name = "InvalidArgumentError";
}

/**
 * The error names a worker gives the failures it detects itself (rather than errors the
 * call threw). The client picks the RemoteCallError subclass of a failed call by them.
 */
export const REMOTE_ERROR_NAMES = {
  /** The call ran longer than its timeout. */
  timeout: "TimeoutError",
  /** The call's thread ran out of heap (the runtime's memory). */
  outOfMemory: "OutOfMemoryError",
  /** The call ended its process (process.exit). */
  exited: "CallExitedError",
  /** The call was running each time its worker process died, up to the delivery limit. */
  poisonCall: "PoisonCallError",
  /** The whole batch reached the delivery limit and went to the poison queue. */
  poisonMessage: "PoisonMessageError",
  /** The worker refused the call's message (schema, protocol version, signature). */
  messageRejected: "MessageRejectedError",
  /** The call's job was cancelled (fexec.cancel, close() on the local backend, `lithops-aca job cancel`) before it finished. */
  cancelled: "CallCancelledError",
  /** The call's return value cannot be serialized (protocol/data-codec.ts's UnserializableValueError). */
  unserializable: "UnserializableValueError",
  /** The client's Node.js major differs from the runtime's. */
  runtimeMismatch: "RuntimeMismatchError",
} as const;

export class MalformedMessageError extends LithopsError {
  override name = "MalformedMessageError";
}

/**
 * Arguments and results travel in V8's structured-clone format: unlike JSON it keeps
 * Buffer, Date, Map, Set, BigInt, typed arrays, undefined and Error. It only round-trips
 * within one Node major, which is why messages carry the client's Node major. Plain JSON
 * data may travel as JSON text instead (encodeCompact), decoding to the same value.
 */
export class UnserializableValueError extends LithopsError {
  override name = REMOTE_ERROR_NAMES.unserializable;
}

/** A batch output whose MAC is missing or wrong: written by someone without the stack's key, or altered since. */
export class OutputIntegrityError extends LithopsError {
  override name = "OutputIntegrityError";
}
