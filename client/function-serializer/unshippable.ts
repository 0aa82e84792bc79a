import { LithopsError } from "../../protocol/errors.ts";
import { EventEmitter } from "node:events";
import { types } from "node:util";
import { isNativeFunction } from "./function-source.ts";
import { knownValue } from "./known-values.ts";

/** Where a captured value sits: `conn`, `config.db.socket`, or `conn` captured by a helper function. */
export interface CapturePath {
  text: string;
  via?: string;
}

function describePath(path: CapturePath): string {
  return `\`${path.text}\`${path.via ? ` (used by \`${path.via}\`)` : ""}`;
}

const article = (noun: string): string => (/^[aeiou]/i.test(noun) ? `an ${noun}` : `a ${noun}`);

const createInside = "create it inside the function, or pass the data it needs as an argument";

const globalPrototypes = [Object, Array, Function, Map, Set, Date, RegExp, Error, ArrayBuffer, DataView, Number, String, Boolean, Symbol, BigInt, EventEmitter];
const typedArrays = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
];
const errorClasses = [EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError, AggregateError];

/** Prototypes of built-in classes whose instances the serializer recreates (or, for EventEmitter, that keep their state in plain fields). */
const recreatablePrototypes = new Set<object>([...globalPrototypes, ...typedArrays, ...errorClasses, Buffer].map((c) => c.prototype as object));

function constructorName(value: object): string {
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === "string" && name ? name : Object.prototype.toString.call(value).slice(8, -1);
}

/** A prototype of a class implemented in C++ (a handle type the module system does not export). */
function isNativeClassPrototype(proto: object): boolean {
  const ctor = Object.getOwnPropertyDescriptor(proto, "constructor")?.value as unknown;
  return typeof ctor === "function" && isNativeFunction(ctor as Function);
}

/**
 * Why `value` cannot be recreated in a worker, with what to do instead; undefined when it can.
 * Built-in objects backed by native state (sockets, streams, servers, hashes, keys) are
 * recognised by the nearest built-in prototype in their chain.
 */
export function refusal(value: object): string | undefined {
  if (types.isProxy(value)) return "a Proxy, whose handler cannot be read; capture the object it wraps instead";
  if (types.isExternal(value)) return `a native handle; ${createInside}`;
  if (types.isPromise(value)) return "a Promise; await it before submitting and capture its result, or create the promise inside the function";
  if (types.isWeakMap(value) || types.isWeakSet(value)) {
    return `${article(types.isWeakMap(value) ? "WeakMap" : "WeakSet")}, whose entries cannot be listed; use a Map or Set instead, or create it inside the function`;
  }
  if (value instanceof WeakRef || value instanceof FinalizationRegistry)
    return `${article(constructorName(value))}, which only has meaning in this process; create it inside the function`;
  if (types.isGeneratorObject(value)) return "a generator object, whose paused state cannot be copied; capture the generator function instead";
  if (types.isSharedArrayBuffer(value)) return "a SharedArrayBuffer, whose memory is shared between this process's threads; copy it into an ArrayBuffer";
  if (types.isKeyObject(value) || types.isCryptoKey(value))
    return `${article(constructorName(value))}, which holds native state of this process; pass its exported key material as an argument, or create the key inside the function`;
  if (typeof value === "function") return undefined;
  for (let proto = Object.getPrototypeOf(value) as object | null; proto; proto = Object.getPrototypeOf(proto) as object | null) {
    if (recreatablePrototypes.has(proto)) return undefined;
    const known = knownValue(proto);
    if (known?.origin === "builtin") return `${article(constructorName(value))}, which holds native state of this process; ${createInside}`;
    if (known?.origin === "global" || isNativeClassPrototype(proto)) {
      return `${article(constructorName(value))}, a built-in object whose internal state cannot be copied; ${createInside}`;
    }
  }
  return undefined;
}

/**
 * Thrown while walking the captured values; ship-function turns it into UnshippableFunctionError
 * with the function's name. Without a path the refused value is the shipped function itself.
 */
export class UnshippableValue extends LithopsError {
  constructor(path: CapturePath | undefined, what: string) {
    super(path ? `it captures ${describePath(path)}, ${what}` : `it is ${what}`);
  }
}
