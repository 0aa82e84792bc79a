import { z } from "zod";

/**
 * The one wording of a configuration problem, for every schema the package checks: the
 * executor's options and its methods' options (client/options.ts), the Lithops-style config
 * file (client/config-file.ts) and the Pulumi stack config (components/stack-config.ts).
 * Each problem names the key's path; a misspelt key gets "did you mean ...?" (or the valid
 * keys when none is near); a bad value gets the valid range or values, derived from the
 * schema unless the schema words its own rule. Secret values are never shown.
 */

/**
 * Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`, ignoring
 * case: the optimal string alignment distance, so `memroy` is one edit from `memory`.
 */
function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  // rows[i][j]: distance between the first i characters of s and the first j of t.
  const rows = Array.from({ length: s.length + 1 }, (_, i) => Array.from({ length: t.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) best = Math.min(best, rows[i - 2][j - 2] + 1);
      rows[i][j] = best;
    }
  }
  return rows[s.length][t.length];
}

/**
 * The candidate nearest to `name`, or undefined when none is within a third of the name's
 * length in edits (at least 2): further away, a suggestion is more confusing than helpful.
 */
export function nearestName(name: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.max(2, Math.floor(name.length / 3));
  let nearest: string | undefined;
  let nearestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(name, candidate);
    if (distance <= limit && distance < nearestDistance) {
      nearest = candidate;
      nearestDistance = distance;
    }
  }
  return nearest;
}

/** The end of an "unknown name" message: `did you mean "x"?`, or the list of valid names when none is near. */
export function didYouMean(name: string, candidates: readonly string[]): string {
  const nearest = nearestName(name, candidates);
  return nearest !== undefined ? `did you mean "${nearest}"?` : `valid: ${candidates.join(", ")}`;
}

/**
 * Whether a setting holds a secret, by its name in any of the package's spellings
 * (signing_key, signingKey, storage_account_key, accountKey, connection_string,
 * docker_password, dockerHubToken, any token, password or secret).
 */
export function isSecretKey(name: PropertyKey): boolean {
  return typeof name === "string" && /(account|signing)_?key|connection_?string|password|token|secret/i.test(name);
}

/** Metadata a schema may carry (`.meta({ valid })`) to word its valid values itself. */
interface ValidMeta {
  valid?: string;
}

type AnySchema = z.core.$ZodType;

/** Wrappers whose valid values are those of the schema inside. */
const WRAPPERS = new Set(["optional", "default", "prefault", "readonly", "nonoptional", "catch"]);

function numberRange(schema: AnySchema): string {
  let whole = false;
  let min: { value: number; inclusive: boolean } | undefined;
  let max: { value: number; inclusive: boolean } | undefined;
  for (const check of schema._zod.def.checks ?? []) {
    const def = check._zod.def as { check: string; format?: string; value?: number; inclusive?: boolean };
    if (def.check === "number_format" && /int/.test(def.format ?? "")) whole = true;
    if (def.check === "greater_than" && def.value !== undefined) min = { value: def.value, inclusive: def.inclusive ?? true };
    if (def.check === "less_than" && def.value !== undefined) max = { value: def.value, inclusive: def.inclusive ?? true };
  }
  if (whole) {
    // Whole numbers: an exclusive bound is the next whole number in.
    const low = min && (min.inclusive ? Math.ceil(min.value) : Math.floor(min.value) + 1);
    const high = max && (max.inclusive ? Math.floor(max.value) : Math.ceil(max.value) - 1);
    if (low !== undefined && high !== undefined) return `a whole number from ${low} to ${high}`;
    if (low !== undefined) return `a whole number of ${low} or more`;
    if (high !== undefined) return `a whole number of at most ${high}`;
    return "a whole number";
  }
  const parts = [
    min && (min.inclusive ? `of at least ${min.value}` : `above ${min.value}`),
    max && (max.inclusive ? `at most ${max.value}` : `below ${max.value}`),
  ].filter(Boolean);
  return ["a number", parts.join(" and ")].filter(Boolean).join(" ");
}

function textLength(schema: AnySchema): string {
  let min: number | undefined;
  let max: number | undefined;
  for (const check of schema._zod.def.checks ?? []) {
    const def = check._zod.def as { check: string; minimum?: number; maximum?: number };
    if (def.check === "min_length") min = def.minimum;
    if (def.check === "max_length") max = def.maximum;
  }
  if (min !== undefined && max !== undefined) return `text of ${min} to ${max} characters`;
  if (min !== undefined) return `text of at least ${min} character${min === 1 ? "" : "s"}`;
  if (max !== undefined) return `text of at most ${max} characters`;
  return "text";
}

/** What a schema accepts, as a phrase for "use ...": its own `.meta({ valid })`, else derived from its kind and checks. */
export function describeValid(schema: AnySchema | undefined): string {
  if (schema === undefined) return "a valid value";
  const meta = z.globalRegistry.get(schema) as ValidMeta | undefined;
  if (meta?.valid) return meta.valid;
  const def = schema._zod.def as { type: string; innerType?: AnySchema; in?: AnySchema; element?: AnySchema; options?: AnySchema[] };
  if (WRAPPERS.has(def.type) && def.innerType) return describeValid(def.innerType);
  if (def.type === "nullable" && def.innerType) return `${describeValid(def.innerType)}, or null`;
  if (def.type === "pipe") return describeValid(def.in);
  if (schema instanceof z.ZodNumber) return numberRange(schema);
  if (schema instanceof z.ZodBoolean) return "true or false";
  if (schema instanceof z.ZodEnum) return `one of ${schema.options.join(", ")}`;
  if (schema instanceof z.ZodLiteral) return [...schema.values].map((value) => JSON.stringify(value)).join(" or ");
  if (schema instanceof z.ZodURL) return "a URL";
  if (schema instanceof z.ZodGUID) return "a GUID (00000000-0000-0000-0000-000000000000)";
  if (schema instanceof z.ZodString) return textLength(schema);
  if (schema instanceof z.ZodArray) return `a list, each item ${describeValid(def.element)}`;
  if (schema instanceof z.ZodObject) return `a mapping with the keys ${Object.keys(schema.shape).join(", ")}`;
  if (schema instanceof z.ZodRecord) return "a mapping of names to values";
  if (schema instanceof z.ZodUnion) return (def.options ?? []).map(describeValid).join(", or ");
  return "a valid value";
}

/**
 * Passed to every parse: the rule of a bad value ("use a whole number from 1 to 1000").
 * Zod prefers a schema's own wording (`z.enum(..., { error })`, `.regex(re, message)`).
 */
function ruleOf(issue: z.core.$ZodRawIssue): string {
  const raw = issue as { schema?: AnySchema; options?: unknown[]; discriminator?: string };
  if (issue.code === "invalid_union" && raw.discriminator !== undefined) return `use one of ${(raw.options ?? []).join(", ")}`;
  return `use ${describeValid(raw.schema ?? (issue.inst as AnySchema | undefined))}`;
}

/** How one caller writes keys and names things. */
export interface IssueStyle {
  /** A key's path as the user writes it (`lithops.backend`, `lithops-aca:runtimes[0].memory`, `timeout`); empty for the top level. */
  keyName(path: readonly PropertyKey[]): string;
  /** What an unknown name is: a config "key", or a method's "option". */
  noun: "key" | "option";
}

const MAX_SHOWN = 80;

/** A bad value as a message shows it: strings quoted and cut, objects by kind (they may hold secrets). */
function shownValue(value: unknown): string {
  if (typeof value === "object" && value !== null) return Array.isArray(value) ? "a list" : "a mapping";
  const text = typeof value === "string" ? JSON.stringify(value) : String(value);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 3)}...` : text;
}

/** The keys a schema allows in the object at `path` (the top level, a section, a list's entries). */
function keysAt(schema: AnySchema, path: readonly PropertyKey[]): string[] {
  const unwrap = (node: AnySchema | undefined): AnySchema | undefined => {
    const def = node?._zod.def as { type: string; innerType?: AnySchema; in?: AnySchema; element?: AnySchema } | undefined;
    if (def === undefined) return undefined;
    if ((WRAPPERS.has(def.type) || def.type === "nullable") && def.innerType) return unwrap(def.innerType);
    if (def.type === "pipe") return unwrap(def.in);
    if (def.type === "array") return unwrap(def.element);
    return node;
  };
  let node = unwrap(schema);
  for (const step of path) {
    // A list index: unwrap() already went from the list to its entries.
    if (typeof step !== "string") continue;
    node = node instanceof z.ZodObject ? unwrap(node.shape[step]) : undefined;
  }
  return node instanceof z.ZodObject ? Object.keys(node.shape) : [];
}

/** One line per problem: the key's path, then what is wrong and what would be valid. */
export function issueLines(schema: AnySchema, issues: readonly z.core.$ZodIssue[], style: IssueStyle): string[] {
  return issues.flatMap((issue) => {
    const key = style.keyName(issue.path);
    const where = key ? `${key}: ` : "";
    if (issue.code === "unrecognized_keys") {
      const known = keysAt(schema, issue.path);
      return issue.keys.map((key) => `${where}unknown ${style.noun} ${JSON.stringify(key)}: ${didYouMean(key, known)}`);
    }
    if (issue.code === "invalid_key") {
      const parent = style.keyName(issue.path.slice(0, -1));
      return [`${parent ? `${parent}: ` : ""}name ${shownValue(issue.path.at(-1))} ${issue.issues.map((inner) => inner.message).join("; ")}`];
    }
    // Checks written as code (memory sizes, runtime names) name the value in their message already.
    if (issue.code === "custom") return [`${where}${issue.message}`];
    const raw = issue as { input?: unknown; discriminator?: string };
    const input = issue.code === "invalid_union" && raw.discriminator !== undefined ? (raw.input as Record<string, unknown>)?.[raw.discriminator] : raw.input;
    const secret = issue.path.some(isSecretKey);
    const what = input === undefined ? "missing" : `${secret ? "the value (a secret, not shown)" : shownValue(input)} is not valid`;
    return [`${where}${what}: ${issue.message}`];
  });
}

/** `schema` applied to `value`: the parsed value, or the problems worded by issueLines. */
export function checkSchema<S extends AnySchema>(
  schema: S,
  value: unknown,
  style: IssueStyle,
): { success: true; data: z.output<S> } | { success: false; problems: string[] } {
  const parsed = z.safeParse(schema, value, { reportInput: true, error: ruleOf });
  return parsed.success ? { success: true, data: parsed.data } : { success: false, problems: issueLines(schema, parsed.error.issues, style) };
}
