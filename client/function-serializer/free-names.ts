import { type Node, parseExpressionAt } from "acorn";

/**
 * The names a function's code reads from the scopes around it: every identifier it uses
 * that no declaration inside it binds (parameters, var/let/const, function and class
 * declarations, catch bindings, destructuring, in nested blocks and functions alike). A
 * local `const Storage = 1` is then never mistaken for the module's `Storage` import.
 */
export function freeNames(expression: string): Set<string> {
  const root = parse(expression);
  const analysis = new ScopeAnalysis();
  analysis.visit(root as AnyNode, analysis.newScope(undefined, true));
  return analysis.unresolved();
}

/** As a script (sloppy code of CommonJS files parses), else as a module (`import.meta` of an ES module's function). */
function parse(expression: string): Node {
  const options = {
    ecmaVersion: "latest",
    allowAwaitOutsideFunction: true,
    allowSuperOutsideMethod: true,
    // A method's text alone may use its class's private names (`this.#x`).
    checkPrivateFields: false,
  } as const;
  try {
    return parseExpressionAt(expression, 0, { ...options, sourceType: "script" });
  } catch {
    return parseExpressionAt(expression, 0, { ...options, sourceType: "module" });
  }
}

interface Scope {
  parent: Scope | undefined;
  /** A function's scope, where `var` and parameters live; a block's scope otherwise. */
  isFunction: boolean;
  declared: Set<string>;
}

type AnyNode = Node & Record<string, unknown>;

class ScopeAnalysis {
  /** Each identifier read or written, with the scope it appears in; resolved once every declaration (hoisted ones too) is known. */
  private readonly references: Array<{ name: string; scope: Scope }> = [];

  newScope(parent: Scope | undefined, isFunction: boolean): Scope {
    return { parent, isFunction, declared: new Set() };
  }

  unresolved(): Set<string> {
    const free = new Set<string>();
    for (const { name, scope } of this.references) {
      let at: Scope | undefined = scope;
      while (at && !at.declared.has(name)) at = at.parent;
      if (!at) free.add(name);
    }
    return free;
  }

  visit(node: AnyNode | null | undefined, scope: Scope): void {
    if (!node || typeof node.type !== "string") return;
    switch (node.type) {
      case "Identifier":
        this.references.push({ name: node.name as string, scope });
        return;
      case "FunctionDeclaration":
        if (node.id) scope.declared.add((node.id as AnyNode).name as string);
        this.fn(node, scope);
        return;
      case "FunctionExpression":
      case "ArrowFunctionExpression":
        this.fn(node, scope);
        return;
      case "ClassDeclaration":
      case "ClassExpression": {
        if (node.type === "ClassDeclaration" && node.id) scope.declared.add((node.id as AnyNode).name as string);
        this.visit(node.superClass as AnyNode, scope);
        const inner = this.newScope(scope, false);
        if (node.id) inner.declared.add((node.id as AnyNode).name as string);
        this.visit(node.body as AnyNode, inner);
        return;
      }
      case "VariableDeclaration": {
        const target = node.kind === "var" ? functionScope(scope) : scope;
        for (const declarator of node.declarations as AnyNode[]) {
          this.declarePattern(declarator.id as AnyNode, target, scope);
          this.visit(declarator.init as AnyNode, scope);
        }
        return;
      }
      case "BlockStatement":
      case "StaticBlock":
        this.children(node, this.newScope(scope, false));
        return;
      case "ForStatement":
      case "ForInStatement":
      case "ForOfStatement":
      case "SwitchStatement":
        this.children(node, this.newScope(scope, false));
        return;
      case "CatchClause": {
        const inner = this.newScope(scope, false);
        if (node.param) this.declarePattern(node.param as AnyNode, inner, inner);
        this.visit(node.body as AnyNode, inner);
        return;
      }
      case "MemberExpression":
        this.visit(node.object as AnyNode, scope);
        if (node.computed) this.visit(node.property as AnyNode, scope);
        return;
      case "Property":
      case "PropertyDefinition":
      case "MethodDefinition":
        if (node.computed) this.visit(node.key as AnyNode, scope);
        this.visit(node.value as AnyNode, scope);
        return;
      case "LabeledStatement":
        this.visit(node.body as AnyNode, scope);
        return;
      case "BreakStatement":
      case "ContinueStatement":
      case "MetaProperty":
      case "PrivateIdentifier":
        return;
      default:
        this.children(node, scope);
    }
  }

  private children(node: AnyNode, scope: Scope): void {
    for (const [key, value] of Object.entries(node)) {
      if (key === "type" || key === "start" || key === "end" || key === "loc" || key === "range") continue;
      if (Array.isArray(value)) for (const child of value) this.visit(child as AnyNode, scope);
      else if (value && typeof value === "object") this.visit(value as AnyNode, scope);
    }
  }

  private fn(node: AnyNode, scope: Scope): void {
    const inner = this.newScope(scope, true);
    // A function expression's own name is visible inside it only; `arguments` is every non-arrow function's own.
    if (node.type === "FunctionExpression" && node.id) inner.declared.add((node.id as AnyNode).name as string);
    if (node.type !== "ArrowFunctionExpression") inner.declared.add("arguments");
    for (const param of node.params as AnyNode[]) this.declarePattern(param, inner, inner);
    const body = node.body as AnyNode;
    // The body block shares the function's scope: a `let` there may not redeclare a parameter anyway.
    if (body.type === "BlockStatement") this.children(body, inner);
    else this.visit(body, inner);
  }

  /** Declares the names a binding pattern binds in `target`; its defaults and computed keys are read in `scope`. */
  private declarePattern(pattern: AnyNode | null, target: Scope, scope: Scope): void {
    if (!pattern) return;
    switch (pattern.type) {
      case "Identifier":
        target.declared.add(pattern.name as string);
        return;
      case "ObjectPattern":
        for (const property of pattern.properties as AnyNode[]) {
          if (property.type === "RestElement") {
            this.declarePattern(property.argument as AnyNode, target, scope);
            continue;
          }
          if (property.computed) this.visit(property.key as AnyNode, scope);
          this.declarePattern(property.value as AnyNode, target, scope);
        }
        return;
      case "ArrayPattern":
        for (const element of pattern.elements as AnyNode[]) this.declarePattern(element, target, scope);
        return;
      case "RestElement":
        this.declarePattern(pattern.argument as AnyNode, target, scope);
        return;
      case "AssignmentPattern":
        this.declarePattern(pattern.left as AnyNode, target, scope);
        this.visit(pattern.right as AnyNode, scope);
        return;
    }
  }
}

function functionScope(scope: Scope): Scope {
  let at = scope;
  while (!at.isFunction && at.parent) at = at.parent;
  return at;
}
