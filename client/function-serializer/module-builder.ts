import { Module } from "node:module";
import { types } from "node:util";
import { ContextTree, type ContextNode } from "./context-tree.ts";
import { expressionText, readFunctionSource, type FunctionSource } from "./function-source.ts";
import { knownValue } from "./known-values.ts";
import { functionScopes, privateNames, type ScopeVariables } from "./scope-inspector.ts";
import { refusal, type CapturePath } from "./unshippable.ts";
import { UnshippableValue } from "./unshippable.ts";
import { HELPERS, PREFIX, type ModuleParts } from "./module-text.ts";

const baseParameter = `${PREFIX}base`;
const variablePattern = new RegExp(`${PREFIX.replaceAll("$", "\\$")}\\d+`, "g");

/**
 * Walks the graph of values a function captures and writes the statements that recreate
 * it: one variable per object, function or unique symbol (so shared and circular
 * references stay shared), built depth first. Containers are created empty before their
 * contents, so a cycle finds its container already there; a statement that needs a value
 * still being built waits in `deferred`, run once everything exists. Functions are
 * evaluated inside a copy of the scopes they were defined in (context-tree.ts).
 */
export class ModuleBuilder {
  private readonly names = new Map<unknown, string>();
  private readonly ready = new Set<string>();
  private readonly statements: string[] = [];
  private readonly deferred: string[] = [];
  private readonly integrity: string[] = [];
  /** Objects with a deferred statement: their later statements wait too, keeping their order. */
  private readonly waiting = new Set<string>();
  private readonly contexts = new ContextTree();
  private count = 0;
  private root: Function | undefined;

  /** The module's statements after walking from `root`, whose value becomes `exports.handler`. */
  build(root: Function): ModuleParts {
    this.root = root;
    const handler = this.ref(root, { text: root.name || "the function" }, true);
    return {
      declarations: Array.from({ length: this.count }, (_, k) => `${PREFIX}${k}`),
      statements: [...this.contexts.statements(), ...this.statements, ...this.deferred, ...this.integrity],
      handler,
    };
  }

  private newVariable(value: unknown): string {
    const name = `${PREFIX}${this.count++}`;
    this.names.set(value, name);
    return name;
  }

  private isReady(expression: string): boolean {
    for (const [name] of expression.matchAll(variablePattern)) {
      if (!this.ready.has(name)) return false;
    }
    return true;
  }

  private define(name: string, expression: string): void {
    this.statements.push(`${name} = ${expression};`);
    this.ready.add(name);
  }

  /** A statement about `owner`: now if every value it names exists, else once all do. */
  private emit(owner: string, statement: string): void {
    if (this.waiting.has(owner) || !this.isReady(statement)) {
      this.waiting.add(owner);
      this.deferred.push(statement);
    } else {
      this.statements.push(statement);
    }
  }

  /** An expression for `value` in the shipped module. `root` marks the function being shipped itself. */
  private ref(value: unknown, path: CapturePath, root = false): string {
    switch (typeof value) {
      case "undefined":
        return "void 0";
      case "boolean":
        return String(value);
      case "number":
        return Object.is(value, -0) ? "-0" : String(value);
      case "bigint":
        return `${value}n`;
      case "string":
        return JSON.stringify(value);
    }
    if (value === null) return "null";
    const existing = this.names.get(value);
    if (existing) return existing;
    const known = knownValue(value);
    if (known && !root) return known.expression;
    if (typeof value === "symbol") return this.symbol(value);
    const object = value as object;
    if (types.isModuleNamespaceObject(object) || isInteropNamespace(object)) return this.namespace(object, path);
    const reason = refusal(object);
    if (reason) throw new UnshippableValue(path, reason);
    return typeof object === "function" ? this.fn(object, path) : this.object(object, path);
  }

  private symbol(symbol: symbol): string {
    const key = Symbol.keyFor(symbol);
    if (key !== undefined) return `Symbol.for(${JSON.stringify(key)})`;
    const name = this.newVariable(symbol);
    this.define(name, `Symbol(${symbol.description === undefined ? "" : JSON.stringify(symbol.description)})`);
    return name;
  }

  /** `import * as ns` of a built-in or CommonJS package: the worker requires the same module. */
  private namespace(namespace: object, path: CapturePath): string {
    let exported: unknown;
    try {
      exported = (namespace as { default?: unknown }).default;
    } catch {
      exported = undefined;
    }
    const known = knownValue(exported);
    if (!known || known.origin === "global") {
      throw new UnshippableValue(
        path,
        'a module namespace (`import * as name from ...`) of an ES module, which the worker cannot require; import the module inside the function instead: `const name = await import("module")`',
      );
    }
    return `${HELPERS.namespace}(${known.expression})`;
  }

  private fn(fn: Function, path: CapturePath): string {
    const source = readFunctionSource(fn);
    const label = fn.name || "an anonymous function";
    // The shipped function itself is refused as what it is, not as something it captures.
    const refusedAt = fn === this.root ? undefined : path;
    if (source.kind === "native") {
      const what = fn.name.startsWith("bound ")
        ? `a bound function (\`${fn.name}\`), whose target and bound values cannot be read; use an arrow function instead: \`(...args) => target.call(thisValue, ...args)\``
        : `a built-in function (\`${label}\`) that cannot be found by name in the worker; refer to it by its module inside the function`;
      throw new UnshippableValue(refusedAt, what);
    }
    if (source.usesOuterThis) {
      throw new UnshippableValue(
        refusedAt,
        "an arrow function that uses `this` (or `arguments`, `super`) of the code around it, which cannot be read; copy what it needs into a variable first, or use a regular method",
      );
    }
    if (source.needsHome) {
      throw new UnshippableValue(
        refusedAt,
        `a method (\`${label}\`) that uses \`super\` or private names outside its class; capture the class or the object instead`,
      );
    }
    const name = this.newVariable(fn);
    const ownPrototype = Object.getOwnPropertyDescriptor(fn, "prototype")?.value as unknown;
    const keepsPrototype = typeof ownPrototype === "object" && ownPrototype !== null && (ownPrototype as { constructor?: unknown }).constructor === fn;
    if (keepsPrototype) this.names.set(ownPrototype, `${name}.prototype`);

    const scopes = functionScopes(fn);
    const nodes = this.contexts.chain(scopes);
    this.bindCaptures(fn, source, scopes, nodes, path);
    let base = "";
    if (source.heritage) {
      base = this.ref(Object.getPrototypeOf(fn), { text: `${label} extends`, via: path.via });
      if (!this.isReady(base)) throw new UnshippableValue(path, `a class whose parent class (\`${base}\`) is still being built when it is needed`);
    }
    const strict = source.kind === "class" || (source.kind === "function" ? !Object.hasOwn(fn, "caller") : scopes.some((s) => s.kind === "Module"));
    const factory = this.contexts.addFactory(nodes[0] ?? this.contexts.top, expressionText(source, baseParameter, HELPERS.method), strict, baseParameter);
    this.define(name, `${factory}(${base})`);
    if (typeof fn.name === "string" && fn.name !== "" && fn.name !== source.ownName && isStandardName(fn)) {
      this.emit(name, `Object.defineProperty(${name}, "name", { value: ${JSON.stringify(fn.name)}, configurable: true });`);
    }

    const definedByText = (member: unknown): boolean => typeof member === "function" && source.text.includes(Function.prototype.toString.call(member));
    this.properties(fn, name, path, new Set(["length", "name", "prototype", "arguments", "caller"]), definedByText);
    if (keepsPrototype) {
      this.properties(ownPrototype as object, `${name}.prototype`, { ...path, text: `${path.text}.prototype` }, new Set(["constructor"]), definedByText);
    } else if (typeof ownPrototype === "object" && ownPrototype !== null && source.kind === "function" && !types.isGeneratorFunction(fn)) {
      // A constructor function whose prototype object was replaced (`F.prototype = { ... }`).
      this.emit(name, `${name}.prototype = ${this.ref(ownPrototype, { ...path, text: `${path.text}.prototype` })};`);
    }
    return name;
  }

  /**
   * Gives the scopes of `fn` the variables it reads from them. A variable another function
   * of the same scope already bound is bound once; one whose value is still being built
   * (a cycle: two functions calling each other) is set once everything exists.
   */
  private bindCaptures(fn: Function, source: FunctionSource, scopes: ScopeVariables[], nodes: ContextNode[], path: CapturePath): void {
    for (const variable of source.mentionedNames) {
      const at = scopes.findIndex((s) => variable in s.variables);
      if (at < 0 || nodes[at].variables.has(variable)) continue;
      const value = scopes[at].variables[variable];
      // A class or named function expression sees itself under its own name already.
      if (value === fn && variable === source.ownName) continue;
      // The shipped module has its own `require` and `module`, resolving from the worker's function folder.
      if ((variable === "require" && typeof value === "function" && "cache" in value) || (variable === "module" && value instanceof Module)) continue;
      nodes[at].variables.add(variable);
      const capturePath = fn === this.root ? { text: variable } : { text: variable, via: path.via ? `${path.via} → ${path.text}` : path.text };
      this.emit(nodes[at].ref, `${this.contexts.setter(nodes[at], variable)}(${this.ref(value, capturePath)});`);
    }
  }

  private object(value: object, path: CapturePath): string {
    const name = this.newVariable(value);
    const skip = new Set<string | symbol>();
    if (Array.isArray(value)) {
      this.define(name, "[]");
      this.elements(value, name, path);
      skip.add("length");
      for (let k = 0; k < value.length; k++) skip.add(String(k));
    } else if (types.isMap(value)) {
      this.define(name, "new Map()");
      let k = 0;
      for (const [key, entry] of value) {
        const entryPath = { ...path, text: `${path.text} (entry ${k++})` };
        this.emit(name, `${name}.set(${this.ref(key, entryPath)}, ${this.ref(entry, entryPath)});`);
      }
    } else if (types.isSet(value)) {
      this.define(name, "new Set()");
      let k = 0;
      for (const member of value) this.emit(name, `${name}.add(${this.ref(member, { ...path, text: `${path.text} (member ${k++})` })});`);
    } else if (types.isDate(value)) {
      this.define(name, `new Date(${this.ref(value.getTime(), path)})`);
    } else if (types.isRegExp(value)) {
      this.define(name, `new RegExp(${JSON.stringify(value.source)}, ${JSON.stringify(value.flags)})`);
      if (value.lastIndex !== 0) this.emit(name, `${name}.lastIndex = ${value.lastIndex};`);
      skip.add("lastIndex");
    } else if (types.isNativeError(value)) {
      this.define(name, "new Error()");
    } else if (types.isArrayBuffer(value)) {
      this.define(name, `${HELPERS.bytes}(${JSON.stringify(Buffer.from(value).toString("base64"))})`);
    } else if (types.isArrayBufferView(value)) {
      const buffer = this.ref(value.buffer, { ...path, text: `${path.text}.buffer` });
      const view = Buffer.isBuffer(value) ? "Buffer.from" : `new ${types.isDataView(value) ? "DataView" : Object.prototype.toString.call(value).slice(8, -1)}`;
      const length = types.isDataView(value) || Buffer.isBuffer(value) ? value.byteLength : (value as unknown as { length: number }).length;
      this.define(name, `${view}(${buffer}, ${value.byteOffset}, ${length})`);
      for (const key of Object.keys(value)) skip.add(key);
    } else if (types.isBoxedPrimitive(value)) {
      this.define(name, `Object(${this.ref(value.valueOf(), path)})`);
      if (types.isStringObject(value)) for (const key of ["length", ...Object.keys(value)]) skip.add(key);
    } else {
      const hidden = privateNames(value);
      if (hidden.length > 0) {
        throw new UnshippableValue(
          path,
          `an instance of ${value.constructor?.name ?? "a class"} with private fields (${hidden.join(", ")}), which cannot be copied; create it inside the function, or pass plain data as an argument`,
        );
      }
      this.define(name, "{}");
    }
    this.properties(value, name, path, skip, () => false);
    this.prototype(value, name, path);
    if (Object.isFrozen(value)) this.integrity.push(`Object.freeze(${name});`);
    else if (Object.isSealed(value)) this.integrity.push(`Object.seal(${name});`);
    else if (!Object.isExtensible(value)) this.integrity.push(`Object.preventExtensions(${name});`);
    return name;
  }

  /** An array's elements: dense runs pushed in chunks, an array with holes by index. */
  private elements(array: unknown[], name: string, path: CapturePath): void {
    const dense = Object.keys(array).length >= array.length;
    const chunk = 1000;
    for (let start = 0; start < array.length; start += chunk) {
      const parts: string[] = [];
      for (let k = start; k < Math.min(array.length, start + chunk); k++) {
        if (!Object.hasOwn(array, k)) continue;
        const element = this.ref(array[k], { ...path, text: `${path.text}[${k}]` });
        parts.push(dense ? element : `${k}: ${element}`);
      }
      if (parts.length > 0) this.emit(name, dense ? `${name}.push(${parts.join(", ")});` : `Object.assign(${name}, { ${parts.join(", ")} });`);
    }
    if (!dense) this.emit(name, `${name}.length = ${array.length};`);
  }

  /** Own properties other than `skip` and those `definedByText` (a class's methods come with its source). */
  private properties(value: object, name: string, path: CapturePath, skip: Set<string | symbol>, definedByText: (member: unknown) => boolean): void {
    const simple: string[] = [];
    // Consecutive plain properties go in one statement; the order of keys stays the original's.
    const flushSimple = (): void => {
      if (simple.length > 0) this.emit(name, `Object.assign(${name}, { ${simple.splice(0).join(", ")} });`);
    };
    const plainTarget = [Object.prototype, null].includes(Object.getPrototypeOf(value));
    for (const key of Reflect.ownKeys(value)) {
      if (skip.has(key)) continue;
      const descriptor = Object.getOwnPropertyDescriptor(value, key)!;
      if (definedByText(descriptor.value) || definedByText(descriptor.get) || definedByText(descriptor.set)) continue;
      const keyText = typeof key === "symbol" ? this.ref(key, path) : JSON.stringify(key);
      const memberPath = { ...path, text: typeof key === "string" && /^[A-Za-z_$][\w$]*$/.test(key) ? `${path.text}.${key}` : `${path.text}[${keyText}]` };
      if ("value" in descriptor) {
        const member = this.ref(descriptor.value, memberPath);
        if (plainTarget && key !== "__proto__" && descriptor.writable && descriptor.enumerable && descriptor.configurable) {
          simple.push(`[${keyText}]: ${member}`);
          continue;
        }
        flushSimple();
        this.emit(
          name,
          `Object.defineProperty(${name}, ${keyText}, { value: ${member}, writable: ${descriptor.writable}, enumerable: ${descriptor.enumerable}, configurable: ${descriptor.configurable} });`,
        );
      } else {
        flushSimple();
        const accessors = [
          descriptor.get && `get: ${this.ref(descriptor.get, memberPath)}`,
          descriptor.set && `set: ${this.ref(descriptor.set, memberPath)}`,
        ].filter(Boolean);
        this.emit(
          name,
          `Object.defineProperty(${name}, ${keyText}, { ${accessors.join(", ")}, enumerable: ${descriptor.enumerable}, configurable: ${descriptor.configurable} });`,
        );
      }
    }
    flushSimple();
  }

  /** Gives a recreated object its original prototype when that differs from the one it was created with. */
  private prototype(value: object, name: string, path: CapturePath): void {
    const proto = Object.getPrototypeOf(value) as object | null;
    if (proto === defaultPrototype(value)) return;
    this.emit(name, `Object.setPrototypeOf(${name}, ${proto === null ? "null" : this.prototypeRef(proto, path)});`);
  }

  /** A class's prototype is reached through its class, so the class ships with its source. */
  private prototypeRef(proto: object, path: CapturePath): string {
    const existing = this.names.get(proto) ?? knownValue(proto)?.expression;
    if (existing) return existing;
    const ctor = Object.getOwnPropertyDescriptor(proto, "constructor")?.value as unknown;
    if (typeof ctor === "function" && ctor.prototype === proto) {
      const classRef = this.ref(ctor, { ...path, text: `${path.text}.constructor` });
      return this.names.get(proto) ?? `${classRef}.prototype`;
    }
    return this.ref(proto, { ...path, text: `${path.text}'s prototype` });
  }
}

/**
 * What TypeScript and esbuild make of `import * as ns` in CommonJS output: an object whose
 * `default` is a required module and whose other members read that module's.
 */
function isInteropNamespace(value: object): boolean {
  const exported = Object.getOwnPropertyDescriptor(value, "default")?.value as unknown;
  const known = knownValue(exported);
  if (!known || known.origin === "global") return false;
  return Object.keys(value).every((key) => {
    if (key === "default" || key === "__esModule") return true;
    const descriptor = Object.getOwnPropertyDescriptor(value, key)!;
    return descriptor.get !== undefined || descriptor.value === (exported as Record<string, unknown>)[key];
  });
}

/** The prototype the module's creation expression for `value` gives it. */
function defaultPrototype(value: object): object | null {
  if (Array.isArray(value)) return Array.prototype;
  if (types.isMap(value)) return Map.prototype;
  if (types.isSet(value)) return Set.prototype;
  if (types.isDate(value)) return Date.prototype;
  if (types.isRegExp(value)) return RegExp.prototype;
  if (types.isNativeError(value)) return Error.prototype;
  if (types.isArrayBuffer(value)) return ArrayBuffer.prototype;
  if (Buffer.isBuffer(value)) return Buffer.prototype;
  if (types.isBoxedPrimitive(value)) return Object.getPrototypeOf(Object(value.valueOf())) as object;
  if (types.isDataView(value)) return DataView.prototype;
  if (types.isArrayBufferView(value))
    return (globalThis as unknown as Record<string, { prototype: object }>)[Object.prototype.toString.call(value).slice(8, -1)].prototype;
  return Object.prototype;
}

/** A function whose `name` is the usual non-writable property (a class may define a static `name` of its own). */
function isStandardName(fn: Function): boolean {
  const descriptor = Object.getOwnPropertyDescriptor(fn, "name");
  return descriptor !== undefined && "value" in descriptor && !descriptor.writable && !descriptor.enumerable;
}
