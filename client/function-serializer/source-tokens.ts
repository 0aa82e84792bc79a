/**
 * A small JavaScript tokenizer, enough to read a function's source as V8 prints it:
 * which names it mentions, what kind of function it is and where a class's `extends`
 * clause is. It never needs to understand the code, only not to mistake the inside of a
 * string, comment, template or regular expression for code.
 */
export interface Token {
  kind: "name" | "private" | "punct" | "string" | "template" | "number" | "regex";
  text: string;
  start: number;
  end: number;
}

const identifierStart = /[\p{ID_Start}$_\\]/u;
const identifierPart = /[\p{ID_Continue}$_\\\u200c\u200d]/u;
const punctuators = [
  ">>>=",
  "...",
  "===",
  "!==",
  "**=",
  "<<=",
  ">>=",
  ">>>",
  "&&=",
  "||=",
  "??=",
  "=>",
  "==",
  "!=",
  "<=",
  ">=",
  "&&",
  "||",
  "??",
  "?.",
  "++",
  "--",
  "+=",
  "-=",
  "*=",
  "/=",
  "%=",
  "&=",
  "|=",
  "^=",
  "<<",
  ">>",
  "**",
];

// After these keywords an expression starts, so a `/` begins a regular expression rather than a division.
const keywordsBeforeExpression = new Set([
  "return",
  "typeof",
  "instanceof",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "case",
  "do",
  "else",
  "yield",
  "await",
  "extends",
]);

function regexAllowedAfter(previous: Token | undefined): boolean {
  if (!previous) return true;
  if (previous.kind === "name") return keywordsBeforeExpression.has(previous.text);
  if (previous.kind === "punct") return ![")", "]", "}"].includes(previous.text);
  return false;
}

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  // One entry per open `{` or `${`: true when its closing `}` resumes a template literal.
  const braces: boolean[] = [];
  let i = 0;

  const push = (kind: Token["kind"], start: number, end: number): void => {
    tokens.push({ kind, text: source.slice(start, end), start, end });
  };
  /** Scans template text from `i` (just after "`" or "}") to its end or to a `${`. */
  const scanTemplate = (start: number): void => {
    while (i < source.length) {
      const ch = source[i];
      if (ch === "\\") i += 2;
      else if (ch === "`") {
        i += 1;
        push("template", start, i);
        return;
      } else if (ch === "$" && source[i + 1] === "{") {
        i += 2;
        push("template", start, i);
        braces.push(true);
        return;
      } else i += 1;
    }
    push("template", start, i);
  };

  while (i < source.length) {
    const ch = source[i];
    const start = i;
    if (/\s/.test(ch)) {
      i += 1;
    } else if (ch === "/" && source[i + 1] === "/") {
      while (i < source.length && source[i] !== "\n" && source[i] !== "\u2028" && source[i] !== "\u2029") i += 1;
    } else if (ch === "/" && source[i + 1] === "*") {
      const close = source.indexOf("*/", i + 2);
      i = close < 0 ? source.length : close + 2;
    } else if (ch === '"' || ch === "'") {
      i += 1;
      while (i < source.length && source[i] !== ch) i += source[i] === "\\" ? 2 : 1;
      i += 1;
      push("string", start, i);
    } else if (ch === "`") {
      i += 1;
      scanTemplate(start);
    } else if (ch === "#" || identifierStart.test(ch)) {
      i += 1;
      while (i < source.length && identifierPart.test(source[i])) i += source[i] === "\\" ? 6 : 1;
      push(ch === "#" ? "private" : "name", start, i);
    } else if (/[0-9]/.test(ch) || (ch === "." && /[0-9]/.test(source[i + 1] ?? ""))) {
      i += 1;
      while (i < source.length && /[0-9A-Za-z_.]/.test(source[i])) {
        // An exponent's sign belongs to the number: 1e-7.
        if (/[eE]/.test(source[i]) && /[+-]/.test(source[i + 1] ?? "") && !/^0[xX]/.test(source.slice(start, i))) i += 1;
        i += 1;
      }
      push("number", start, i);
    } else if (ch === "/" && regexAllowedAfter(tokens.at(-1))) {
      let inClass = false;
      i += 1;
      while (i < source.length && (inClass || source[i] !== "/")) {
        if (source[i] === "\\") i += 1;
        else if (source[i] === "[") inClass = true;
        else if (source[i] === "]") inClass = false;
        i += 1;
      }
      i += 1;
      while (i < source.length && identifierPart.test(source[i])) i += 1;
      push("regex", start, i);
    } else if (ch === "{") {
      braces.push(false);
      i += 1;
      push("punct", start, i);
    } else if (ch === "}") {
      i += 1;
      if (braces.pop()) scanTemplate(start);
      else push("punct", start, i);
    } else {
      const long = punctuators.find((p) => source.startsWith(p, i));
      // `?.5` is a conditional followed by a number, not optional chaining.
      i += long && !(long === "?." && /[0-9]/.test(source[i + 2] ?? "")) ? long.length : 1;
      push("punct", start, i);
    }
  }
  return tokens;
}

/** Index of the token that closes the bracket opened at `open` (or the last token when unbalanced). */
export function matchingBracket(tokens: Token[], open: number): number {
  const pairs: Record<string, string> = { "(": ")", "[": "]", "{": "}" };
  let depth = 0;
  for (let k = open; k < tokens.length; k++) {
    const { kind, text } = tokens[k];
    if (kind === "template" && text.endsWith("${")) depth += text.startsWith("`") ? 1 : 0;
    else if (kind === "template" && !text.startsWith("`")) depth -= text.endsWith("${") ? 0 : 1;
    else if (kind === "punct" && pairs[text]) depth += 1;
    else if (kind === "punct" && Object.values(pairs).includes(text)) depth -= 1;
    if (depth === 0) return k;
  }
  return tokens.length - 1;
}
