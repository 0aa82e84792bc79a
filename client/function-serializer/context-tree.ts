import { PREFIX } from "./module-text.ts";
import type { ScopeVariables } from "./scope-inspector.ts";

/**
 * The scopes of the shipped functions, recreated as nested function bodies so that
 * functions which shared a scope where they were defined share it in the worker too: two
 * functions over one module-level `let count` see each other's `count++`. Each scope
 * becomes a node holding the captured variables (`let` bindings with setters) and
 * factories that evaluate its functions' source inside it.
 */
export interface ContextNode {
  /** The module-level variable that holds the node's setters (`s`) and factories (`m`). */
  ref: string;
  scope?: ScopeVariables;
  children: ContextNode[];
  variables: Set<string>;
  factories: string[];
}

function isReference(value: unknown): boolean {
  return (typeof value === "object" && value !== null) || typeof value === "function";
}

/**
 * Whether two scopes the inspector gave for two functions are one scope. The inspector
 * gives a copy of a scope's variables, not its identity: the same names holding the same
 * values is taken as the same scope. A module's scope is one per module; two calls of one
 * function make scopes with the same names, so for those at least one value must be an
 * object or function (created per call, so a match shows it is the same call's scope).
 */
function sameScope(a: ScopeVariables, b: ScopeVariables): boolean {
  if (a.kind !== b.kind) return false;
  const names = Object.keys(a.variables);
  if (names.length !== Object.keys(b.variables).length) return false;
  let holdsReference = false;
  for (const name of names) {
    if (!(name in b.variables) || !Object.is(a.variables[name], b.variables[name])) return false;
    holdsReference ||= isReference(a.variables[name]);
  }
  return holdsReference || a.kind === "Module" || a.kind === "Script";
}

export class ContextTree {
  private count = 0;
  private readonly root = this.node();

  private node(scope?: ScopeVariables): ContextNode {
    return { ref: `${PREFIX}c${this.count++}`, scope, children: [], variables: new Set(), factories: [] };
  }

  /** The nodes for `scopes` (innermost first, as the inspector lists them), in the same order. */
  chain(scopes: ScopeVariables[]): ContextNode[] {
    const nodes: ContextNode[] = [];
    let parent = this.root;
    for (const scope of [...scopes].reverse()) {
      let node = parent.children.find((child) => child.scope && sameScope(child.scope, scope));
      if (!node) {
        node = this.node(scope);
        parent.children.push(node);
      }
      nodes.unshift(node);
      parent = node;
    }
    return nodes;
  }

  /** The node for functions that capture nothing. */
  get top(): ContextNode {
    return this.root;
  }

  /** An expression calling `(value)` sets variable `name` of `node`. */
  setter(node: ContextNode, name: string): string {
    return `${node.ref}.s[${JSON.stringify(name)}]`;
  }

  /** Adds a factory evaluating `expression` inside `node`; returns the factory's expression (called with the class's base). */
  addFactory(node: ContextNode, expression: string, strict: boolean, baseName: string): string {
    node.factories.push(`function (${baseName}) { ${strict ? '"use strict"; ' : ""}return ${expression}; }`);
    return `${node.ref}.m[${node.factories.length - 1}]`;
  }

  /** The statements creating every node, outermost first; they only define bindings and factories, no user code runs. */
  statements(): string[] {
    const refs = Array.from({ length: this.count }, (_, k) => `${PREFIX}c${k}`);
    return [`let ${refs.join(", ")};`, this.nodeText(this.root)];
  }

  private nodeText(node: ContextNode): string {
    const value = `${PREFIX}value`;
    const setters = [...node.variables].map((name) => `${JSON.stringify(name)}: (${value}) => { ${name} = ${value}; }`);
    const record = `${node.ref} = { s: { ${setters.join(", ")} }, m: [\n${node.factories.join(",\n")}\n] };`;
    const body = [...node.children.map((child) => this.nodeText(child)), record].join("\n");
    if (node === this.root) return body;
    return `(function () {\n${node.variables.size > 0 ? `let ${[...node.variables].join(", ")};\n` : ""}${body}\n})();`;
  }
}
