import { serializeFunction, UnshippableFunctionError, UnshippableValue } from "./function-serializer/index.ts";

export { UnshippableFunctionError };

/**
 * Ships a function as a CommonJS module text (`exports.handler`) that the worker compiles
 * under a filename in the user's project (worker/load-function.ts). The text is made once
 * per function object.
 */
const cache = new WeakMap<object, Promise<string>>();

export function shipFunction(fn: unknown): Promise<string> {
  if (typeof fn !== "function") {
    return Promise.reject(new TypeError(`expected a function to run, got ${fn === null ? "null" : typeof fn}`));
  }
  let shipped = cache.get(fn);
  if (!shipped) {
    shipped = serialize(fn);
    cache.set(fn, shipped);
  }
  return shipped;
}

async function serialize(fn: Function): Promise<string> {
  try {
    return serializeFunction(fn);
  } catch (error) {
    const name = fn.name ? `'${fn.name}'` : "(anonymous)";
    if (error instanceof UnshippableValue) throw new UnshippableFunctionError(`function ${name} cannot be shipped to a worker: ${error.message}`);
    throw new UnshippableFunctionError(`function ${name} cannot be shipped to a worker: ${(error as Error).message}`, { cause: error });
  }
}
