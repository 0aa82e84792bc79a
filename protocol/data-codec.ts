import { UnserializableValueError } from "./errors.ts";
import { EventEmitter } from "node:events";
import { Socket } from "node:net";
import { Stream } from "node:stream";
import { deserialize, serialize } from "node:v8";

export function encodeValue(value: unknown, what: string): Buffer {
  try {
    // A live handle serializes as a plain object of its fields when none of them is a
    // function: it would arrive as a silently different value.
    if (value instanceof EventEmitter) throw new Error("a live handle");
    return serialize(value);
  } catch (error) {
    const culprit = findUnserializable(value, "", new Set(), 0);
    const problem = culprit
      ? `${culprit.path === "" ? "it is" : `it holds, at ${culprit.path},`} ${kindOf(culprit.value)}`
      : (error as Error).message.split("\n")[0];
    throw new UnserializableValueError(
      `${what} cannot be serialized: ${problem}; use plain data: numbers, strings, arrays, objects, Buffer, Date, Map, Set, BigInt, typed arrays`,
    );
  }
}

/** What a value that cannot travel is, in words a user recognises (not the source of some internal function). */
function kindOf(value: unknown): string {
  if (typeof value === "function") return value.name ? `a function (${value.name})` : "a function";
  if (typeof value === "symbol") return `a symbol (${String(value)})`;
  const className = (value as object).constructor?.name ?? "Object";
  if (value instanceof Socket) return `a socket (${className})`;
  if (value instanceof Stream) return `a stream (${className})`;
  if (value instanceof EventEmitter) return `an event emitter (${className})`;
  if (value instanceof Promise) return "a Promise (await it and pass its value)";
  return `a ${className}`;
}

/**
 * The first value inside `value` that V8's serializer refuses, with its path: functions,
 * symbols, promises, weak collections, and live handles (sockets, streams and other event
 * emitters, refused as a whole rather than by the internal callback V8 trips over).
 */
function findUnserializable(value: unknown, path: string, seen: Set<object>, depth: number): { path: string; value: unknown } | undefined {
  if (typeof value === "function" || typeof value === "symbol") return { path, value };
  if (typeof value !== "object" || value === null || seen.has(value) || depth > 100) return undefined;
  seen.add(value);
  if (value instanceof EventEmitter || value instanceof Promise || value instanceof WeakMap || value instanceof WeakSet || value instanceof WeakRef) {
    return { path, value };
  }
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return undefined;
  const entries: [string, unknown][] =
    value instanceof Map
      ? [...value].flatMap(([k, v], i): [string, unknown][] => [
          [`${path}<key ${i}>`, k],
          [`${path}<value ${i}>`, v],
        ])
      : value instanceof Set
        ? [...value].map((v, i): [string, unknown] => [`${path}<element ${i}>`, v])
        : Object.keys(value).map((key): [string, unknown] => [
            Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`,
            (value as Record<string, unknown>)[key],
          ]);
  for (const [childPath, child] of entries) {
    const found = findUnserializable(child, childPath, seen, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** V8's format always starts with its version tag; JSON text (UTF-8) never contains this byte. */
const V8_VERSION_TAG = 0xff;
/** Values with more nodes than this are not checked for a JSON encoding: V8's format is as good for them. */
const JSON_CHECK_BUDGET = 1000;

/**
 * Like encodeValue, but plain JSON data (finite numbers other than -0, strings, booleans,
 * null, and plain arrays and objects of them without holes, shared references or cycles)
 * is written as JSON text, which decodes to exactly the value V8's format would give.
 * For the small arguments and results of most calls this matters: each V8 serialization
 * costs a native serializer (about 2.5 KB of memory and a few microseconds), so 100,000
 * calls took 0.4 s and 260 MB to encode; as JSON, 0.04 s and 18 MB. decodeValue tells
 * the two apart by the first byte.
 */
export function encodeCompact(value: unknown, what: string): Buffer {
  if (isPlainJson(value, { budget: JSON_CHECK_BUDGET, seen: new Set() }, 0)) return Buffer.from(JSON.stringify(value), "utf8");
  return encodeValue(value, what);
}

function isPlainJson(value: unknown, state: { budget: number; seen: Set<object> }, depth: number): boolean {
  state.budget -= 1;
  if (state.budget < 0 || depth > 100) return false;
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0);
    case "object": {
      if (value === null) return true;
      // Shared or circular references keep their identity in V8's format, not in JSON.
      if (state.seen.has(value)) return false;
      state.seen.add(value);
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto === Array.prototype) {
        const array = value as unknown[];
        if (array.length > state.budget) return false;
        // Holes and extra named properties: V8 keeps them, JSON does not.
        if (Object.keys(array).length !== array.length) return false;
        return array.every((item) => isPlainJson(item, state, depth + 1));
      }
      if (proto !== Object.prototype && proto !== null) return false;
      const record = value as Record<string, unknown>;
      return Object.keys(record).every((key) => isPlainJson(record[key], state, depth + 1));
    }
    default:
      return false; // undefined, bigint, function, symbol
  }
}

/** Decodes what encodeValue or encodeCompact wrote. */
export function decodeValue(bytes: Uint8Array): unknown {
  if (bytes.length > 0 && bytes[0] !== V8_VERSION_TAG) {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"));
  }
  return deserialize(bytes);
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
