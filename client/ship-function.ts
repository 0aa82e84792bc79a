import { EventEmitter } from "node:events";
import { types } from "node:util";
import { LithopsError } from "./errors.ts";

/**
 * Functions are shipped as a CommonJS module text made by Pulumi's closure serializer,
 * which captures the values a closure refers to (found through the inspector). Values
 * the serializer would silently get wrong (a Map's entries, a Date's time) are refused
 * here with a clear error instead.
 */
export class UnshippableFunctionError extends LithopsError {
  override name = "UnshippableFunctionError";
}

const cache = new WeakMap<object, Promise<string>>();

function describeUnshippable(value: unknown): string | undefined {
  if (types.isMap(value) || types.isSet(value) || types.isWeakMap(value) || types.isWeakSet(value)) return value.constructor.name;
  if (types.isDate(value)) return "Date";
  if (types.isPromise(value)) return "Promise";
  if (types.isAnyArrayBuffer(value) || types.isArrayBufferView(value)) return (value as object).constructor.name;
  if (types.isExternal(value) || types.isProxy(value)) return "native object";
  // Sockets, streams, servers, hashes and keys wrap native handles of this process: the serializer would ship a hollow copy.
  if (value instanceof EventEmitter || types.isKeyObject(value) || types.isCryptoKey(value)) {
    return `${(value as object).constructor.name} (it holds native state of this process)`;
  }
  return undefined;
}

function refuseUnshippable(value: unknown): boolean {
  if (types.isModuleNamespaceObject(value)) {
    throw new UnshippableFunctionError(
      "it uses a module imported with `import * as name from '...'` in the enclosing file; import the package inside the function instead: `const name = await import('package')` (the runtime must have it installed)",
    );
  }
  const kind = describeUnshippable(value);
  if (kind) {
    throw new UnshippableFunctionError(
      `it captures a ${kind}, which cannot be recreated in a worker from the closure; pass it as an argument (arguments keep Map, Set, Date, Buffer and typed arrays) or create it inside the function`,
    );
  }
  return true;
}

export function shipFunction(fn: unknown): Promise<string> {
  if (typeof fn !== "function") {
    return Promise.reject(new TypeError(`expected a function to run, got ${fn === null ? "null" : typeof fn}`));
  }
  let shipped = cache.get(fn);
  if (!shipped) {
    shipped = serialize(fn as (...args: unknown[]) => unknown);
    cache.set(fn, shipped);
  }
  return shipped;
}

async function serialize(fn: (...args: unknown[]) => unknown): Promise<string> {
  const { runtime } = await import("@pulumi/pulumi");
  try {
    const { text, exportName } = await runtime.serializeFunction(fn, { serialize: refuseUnshippable, isFactoryFunction: false });
    return exportName === "handler" ? text : `${text}\nexports.handler = exports[${JSON.stringify(exportName)}];\n`;
  } catch (error) {
    const name = fn.name ? `'${fn.name}'` : "(anonymous)";
    const reason = error instanceof UnshippableFunctionError ? error.message : (error as Error).message.trim();
    throw new UnshippableFunctionError(`function ${name} cannot be shipped to a worker: ${reason}`);
  }
}
