import { builtinModules, createRequire } from "node:module";
import { sep } from "node:path";

/**
 * Values the worker already has, found by identity: globals (Math, JSON.stringify,
 * Symbol.iterator, ...), Node built-in modules and their members, and package modules
 * loaded with `require` (their exports and members). The shipped text refers to them
 * by name (`require("node:fs").readFileSync`) instead of copying them.
 */
export interface KnownValue {
  expression: string;
  origin: "global" | "builtin" | "package";
}

const require = createRequire(import.meta.url);
const index = new Map<unknown, KnownValue>();
const indexedBuiltins = new Set<string>();
const indexedModules = new WeakSet<object>();

function isReference(value: unknown): value is object {
  return (typeof value === "object" && value !== null) || typeof value === "function" || typeof value === "symbol";
}

/**
 * Adds `value` and its own properties (and theirs, `depth` levels down) under `expression`.
 * Accessors are read only when `readAccessors` (a package's re-exports are getters);
 * reading a built-in's accessor could run code (a deprecation warning, a lazy load).
 */
function addWithMembers(value: unknown, expression: string, origin: KnownValue["origin"], depth: number, readAccessors = false): void {
  if (!isReference(value) || index.has(value)) return;
  index.set(value, { expression, origin });
  if (depth === 0 || typeof value === "symbol") return;
  for (const key of Object.getOwnPropertyNames(value)) {
    const descriptor = Object.getOwnPropertyDescriptor(value, key);
    let member: unknown;
    try {
      member =
        descriptor && "value" in descriptor
          ? descriptor.value
          : readAccessors && descriptor?.get && descriptor.enumerable
            ? descriptor.get.call(value)
            : undefined;
    } catch {
      continue;
    }
    addWithMembers(member, `${expression}[${JSON.stringify(key)}]`, origin, depth - 1);
  }
}

function indexGlobals(): void {
  for (const key of Object.getOwnPropertyNames(Symbol)) {
    const symbol = (Symbol as unknown as Record<string, unknown>)[key];
    if (typeof symbol === "symbol") index.set(symbol, { expression: `Symbol.${key}`, origin: "global" });
  }
  index.set(globalThis, { expression: "globalThis", origin: "global" });
  for (const name of Object.getOwnPropertyNames(globalThis)) {
    const descriptor = Object.getOwnPropertyDescriptor(globalThis, name);
    if (descriptor && "value" in descriptor) addWithMembers(descriptor.value, `globalThis[${JSON.stringify(name)}]`, "global", 2);
  }
}

function indexLoadedBuiltins(): void {
  // Requiring a built-in that nothing loaded yet could print warnings or start things: only the loaded ones.
  const loaded = new Set((process as unknown as { moduleLoadList: string[] }).moduleLoadList);
  for (const name of builtinModules) {
    if (name.startsWith("_") || indexedBuiltins.has(name) || !loaded.has(`NativeModule ${name}`)) continue;
    indexedBuiltins.add(name);
    addWithMembers(require(name), `require(${JSON.stringify(`node:${name}`)})`, "builtin", 2);
  }
}

/** The name a module file of a package is required by: the package itself when it is its entry point. */
function packageSpecifier(filename: string): string | undefined {
  const marker = `${sep}node_modules${sep}`;
  const at = filename.lastIndexOf(marker);
  if (at < 0) return undefined;
  const parts = filename.slice(at + marker.length).split(sep);
  const nameParts = parts[0].startsWith("@") ? 2 : 1;
  const name = parts.slice(0, nameParts).join("/");
  try {
    if (require.resolve(name, { paths: [filename] }) === filename) return name;
  } catch {
    // A package without a CommonJS entry point: only its subpath names this file.
  }
  return [name, ...parts.slice(nameParts)].join("/");
}

function indexLoadedPackages(): void {
  for (const [filename, mod] of Object.entries(require.cache)) {
    if (!mod || indexedModules.has(mod) || !mod.loaded) continue;
    indexedModules.add(mod);
    const specifier = packageSpecifier(filename);
    if (specifier) addWithMembers(mod.exports, `require(${JSON.stringify(specifier)})`, "package", 2, true);
  }
}

/** Brings the index up to date with what this process has loaded since; call once per function shipped. */
export function refreshKnownValues(): void {
  if (index.size === 0) indexGlobals();
  indexLoadedBuiltins();
  indexLoadedPackages();
}

export function knownValue(value: unknown): KnownValue | undefined {
  return isReference(value) ? index.get(value) : undefined;
}
