import { freeNames } from "./free-names.ts";
import { matchingBracket, tokenize, type Token } from "./source-tokens.ts";

/**
 * What a function's printed source says about how to recreate it: its kind (a method's
 * text is not an expression on its own), the names it mentions (the candidates for
 * captured variables), a class's own name and `extends` clause, and uses of `this`,
 * `super` and private names that only make sense where it was defined.
 */
export type FunctionKind = "class" | "function" | "arrow" | "method" | "native";

export interface FunctionSource {
  text: string;
  kind: FunctionKind;
  /** Names the code reads from enclosing scopes: those no declaration inside it binds. */
  mentionedNames: Set<string>;
  /** The name a class or function expression binds inside itself. */
  ownName?: string;
  /** Character range of a class's `extends` expression in `text`. */
  heritage?: { start: number; end: number };
  /** An arrow that reads `this`, `arguments` or `super` of the code around it. */
  usesOuterThis: boolean;
  /** A method whose body needs its class or object (super, private names). */
  needsHome: boolean;
}

// Contextual keywords (get, of, async, ...) are left in: they can also be variable names.
const reservedWords = new Set(
  (
    "break case catch class const continue debugger default delete do else export extends false finally for function if import in instanceof " +
    "new null return super switch this throw true try typeof var void while with undefined arguments"
  ).split(" "),
);
// Keywords followed by `(...)` and a block that are statements, not method definitions.
const statementKeywords = new Set(["if", "for", "while", "switch", "catch", "with", "function"]);

const nativeCode = /\{\s*\[native code\]\s*\}$/;

/** A built-in (or bound) function: its printed source is only `{ [native code] }`. */
export function isNativeFunction(fn: Function): boolean {
  return nativeCode.test(Function.prototype.toString.call(fn));
}

export function readFunctionSource(fn: Function): FunctionSource {
  const text = Function.prototype.toString.call(fn);
  const tokens = tokenize(text);
  const kind = isNativeFunction(fn) ? "native" : kindOf(tokens);
  const source: FunctionSource = {
    text,
    kind,
    mentionedNames: kind === "native" ? new Set() : outerNames(text, kind, tokens),
    usesOuterThis: false,
    needsHome: false,
  };
  if (kind === "class") {
    if (tokens[1]?.kind === "name" && tokens[1].text !== "extends") source.ownName = tokens[1].text;
    source.heritage = heritageRange(tokens);
  } else if (kind === "function") {
    const name = tokens.find((t, k) => k > 0 && t.kind !== "punct" && t.text !== "function");
    if (name?.kind === "name" && tokens[tokens.indexOf(name) + 1]?.text === "(") source.ownName = name.text;
  } else if (kind === "arrow") {
    source.usesOuterThis = ownLevelTokens(tokens).some((t) => t.kind === "name" && (t.text === "this" || t.text === "super" || t.text === "arguments"));
  } else if (kind === "method") {
    const body = tokens.slice(methodBodyStart(tokens));
    source.needsHome = tokens.some((t) => t.kind === "private") || ownLevelTokens(body).some((t) => t.kind === "name" && t.text === "super");
  }
  return source;
}

function isArrowAt(tokens: Token[], k: number): boolean {
  const first = tokens[k];
  if (first?.kind === "name") return tokens[k + 1]?.text === "=>";
  if (first?.text !== "(") return false;
  return tokens[matchingBracket(tokens, k) + 1]?.text === "=>";
}

function kindOf(tokens: Token[]): FunctionKind {
  const [first, second] = tokens;
  if (first?.text === "class") return "class";
  if (first?.text === "function" || (first?.text === "async" && second?.text === "function")) return "function";
  if (isArrowAt(tokens, 0) || (first?.text === "async" && isArrowAt(tokens, 1))) return "arrow";
  return "method";
}

/**
 * The names the code reads from outside itself, from its syntax tree (free-names.ts). Should
 * the parser not read it (syntax newer than it knows), every name it mentions, shadowed ones
 * included: capturing too much is safe unless a shadowed name holds an unshippable value.
 */
function outerNames(text: string, kind: FunctionKind, tokens: Token[]): Set<string> {
  try {
    const names = freeNames(kind === "method" ? `({ ${text}\n})` : `(${text}\n)`);
    for (const word of reservedWords) names.delete(word);
    return names;
  } catch {
    return mentionedNames(tokens);
  }
}

function mentionedNames(tokens: Token[]): Set<string> {
  const names = new Set<string>();
  tokens.forEach((token, k) => {
    const previous = tokens[k - 1]?.kind === "punct" ? tokens[k - 1].text : undefined;
    if (token.kind !== "name" || reservedWords.has(token.text)) return;
    // A member (`a.name`) or an object literal's key (`{ name: ... }`) is not a variable.
    if (previous === "." || previous === "?.") return;
    if ((previous === "{" || previous === ",") && tokens[k + 1]?.text === ":") return;
    names.add(token.text);
  });
  return names;
}

/** Index of a method's body `{`: after its name (maybe a computed `[key]`) and parameter list. */
function methodBodyStart(tokens: Token[]): number {
  let k = tokens[0]?.text === "[" ? matchingBracket(tokens, 0) + 1 : 0;
  while (k < tokens.length && tokens[k].text !== "(") k += 1;
  return matchingBracket(tokens, k) + 1;
}

/** Where the heritage expression of a class's text starts and ends, if it has one other than `null`. */
function heritageRange(tokens: Token[]): { start: number; end: number } | undefined {
  const keyword = tokens.findIndex((t, k) => k <= 2 && t.text === "extends");
  if (keyword < 0) return undefined;
  let k = keyword + 1;
  while (k < tokens.length && tokens[k].text !== "{") {
    if (tokens[k].text === "(" || tokens[k].text === "[") k = matchingBracket(tokens, k);
    k += 1;
  }
  const expression = tokens.slice(keyword + 1, k);
  if (expression.length === 0 || (expression.length === 1 && expression[0].text === "null")) return undefined;
  return { start: expression[0].start, end: expression.at(-1)!.end };
}

/**
 * The tokens of a function's own body level: the bodies of functions, classes and
 * methods nested in it are skipped, since their `this` and `super` are their own.
 */
function ownLevelTokens(tokens: Token[]): Token[] {
  const own: Token[] = [];
  for (let k = 0; k < tokens.length; k++) {
    const token = tokens[k];
    const nestedBodyStart = nestedBody(tokens, k);
    if (nestedBodyStart !== undefined) {
      k = matchingBracket(tokens, nestedBodyStart);
      continue;
    }
    own.push(token);
  }
  return own;
}

/** If a nested function, class or method definition starts at token `k`, the index of its body's `{`. */
function nestedBody(tokens: Token[], k: number): number | undefined {
  const token = tokens[k];
  if (token.kind !== "name") return undefined;
  if (token.text === "function" || token.text === "class") {
    const open = tokens.findIndex((t, j) => j > k && t.text === "{");
    return open < 0 ? undefined : open;
  }
  // A method definition: name(...) { ... } (getters, setters and async/generator methods included).
  if (statementKeywords.has(token.text) || tokens[k + 1]?.text !== "(" || tokens[k - 1]?.text === ".") return undefined;
  const close = matchingBracket(tokens, k + 1);
  return tokens[close + 1]?.text === "{" ? close + 1 : undefined;
}

/**
 * The source as an expression that evaluates to the function: a method's text becomes a
 * one-member object literal (the `method` helper of the module takes the member out), and
 * a class's `extends` clause names `baseName`, bound to the class's actual parent.
 */
export function expressionText(source: FunctionSource, baseName: string, methodHelper: string): string {
  if (source.kind === "method") return `${methodHelper}({ ${source.text}\n})`;
  if (source.heritage) {
    const { start, end } = source.heritage;
    return `(${source.text.slice(0, start)}${baseName}${source.text.slice(end)})`;
  }
  return `(${source.text}\n)`;
}
