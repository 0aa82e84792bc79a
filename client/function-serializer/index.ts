import { Script } from "node:vm";
import { refreshKnownValues } from "./known-values.ts";
import { ModuleBuilder } from "./module-builder.ts";
import { moduleText } from "./module-text.ts";

export { UnshippableFunctionError } from "../errors.ts";
export { UnshippableValue } from "./unshippable.ts";

/**
 * A CommonJS module text whose `exports.handler` recreates `fn` with the values it
 * captures (found through the inspector, see scope-inspector.ts). Throws
 * UnshippableValue naming a captured value that cannot be recreated in a worker.
 */
export function serializeFunction(fn: Function): string {
  refreshKnownValues();
  const text = moduleText(new ModuleBuilder().build(fn));
  // Compiling here turns a text the worker could not parse into an error at submit, not in every call.
  new Script(text, { filename: "shipped-function.cjs" });
  return text;
}
