import { deserialize, serialize } from "node:v8";

/**
 * Arguments and results travel in V8's structured-clone format: unlike JSON it keeps
 * Buffer, Date, Map, Set, BigInt, typed arrays, undefined and Error. It only round-trips
 * within one Node major, which is why messages carry the client's Node major.
 */
export class UnserializableValueError extends Error {
  override name = "UnserializableValueError";
}

export function encodeValue(value: unknown, what: string): Buffer {
  try {
    return serialize(value);
  } catch (error) {
    throw new UnserializableValueError(
      `${what} cannot be serialized (${(error as Error).message}); use plain data: numbers, strings, arrays, objects, Buffer, Date, Map, Set, BigInt, typed arrays`,
    );
  }
}

export function decodeValue(bytes: Uint8Array): unknown {
  return deserialize(bytes);
}

/** Marks a call's argument list, so the worker spreads it into positional arguments. */
export interface ArgumentList {
  readonly positional: unknown[];
}

/** What a remote failure looks like on the wire: enough to rethrow it on the client. */
export interface RemoteErrorInfo {
  name: string;
  message: string;
  stack?: string;
  /** Set when the call threw something that is not an Error (a string, a number...). */
  thrownValue?: unknown;
}

export function describeThrown(thrown: unknown): RemoteErrorInfo {
  if (thrown instanceof Error) {
    return { name: thrown.name, message: thrown.message, stack: thrown.stack };
  }
  let thrownValue: unknown = thrown;
  try {
    serialize(thrown);
  } catch {
    thrownValue = String(thrown);
  }
  return { name: "NonErrorThrown", message: `the call threw a non-Error value: ${String(thrown)}`, thrownValue };
}
