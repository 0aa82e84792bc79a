import Module from "node:module";
import { dirname } from "node:path";
import { ENV } from "../protocol/env.ts";
import { LithopsError } from "../protocol/errors.ts";

/** Node's CommonJS loader internals we rely on: compiling a module text under a chosen filename. */
interface CompilableModule {
  filename: string;
  paths: string[];
  exports: Record<string, unknown>;
  _compile(text: string, filename: string): void;
}
type ModuleConstructor = {
  new (id: string): CompilableModule;
  _nodeModulePaths(dir: string): string[];
};

/**
 * Turns a shipped function (a CommonJS module text) back into a callable. The module is
 * compiled as if it lived at `filename` (nothing is written there), so `require` and
 * `import()` inside it resolve Node built-ins, the user's packages and `lithops-aca`
 * itself (nested jobs) as a file of the user's project, or of the image's WORKDIR, would.
 */
export function loadFunction(text: string, exportName: string, filename: string): (...args: unknown[]) => unknown {
  const ModuleClass = Module as unknown as ModuleConstructor;
  const mod = new ModuleClass(filename);
  mod.filename = filename;
  mod.paths = ModuleClass._nodeModulePaths(dirname(filename));
  mod._compile(text, filename);
  const handler = mod.exports[exportName];
  if (typeof handler !== "function") {
    throw new LithopsError(`shipped module does not export a function named ${exportName}`);
  }
  return handler as (...args: unknown[]) => unknown;
}

/** The folder shipped functions resolve packages from, as a file in it would: the user's project locally, the image's WORKDIR on Azure. */
export function functionDir(): string {
  return process.env[ENV.functionDir] || process.cwd();
}
