import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

/**
 * A stand-in for the `pulumi` CLI, for tests on machines without it: a small node script
 * placed first on PATH that records every invocation and answers the calls the Automation
 * API makes (`version`, `stack select|init|ls|output|history`, `config get|set-all|rm-all`,
 * `up`, `destroy`) the way the real CLI does: same arguments, same JSON shapes, the same
 * error lines on stderr and a non-zero exit code. The stack's config and outputs live in a
 * JSON state file the test reads and writes. It runs no program: `up` derives the outputs
 * from the config (or takes `upOutputs`), which is what only a real CLI can do for real.
 */

export interface StandInStack {
  /** Config values by full key; structured values (the runtimes list) as objects. */
  config: Record<string, unknown>;
  outputs: Record<string, unknown>;
  /** Output names printed as "[secret]" without --show-secrets. */
  secretOutputs?: string[];
}

export interface StandInState {
  version: string;
  /** The selected stack (`pulumi stack select`), if any. */
  current: string | null;
  loggedIn: boolean;
  stacks: Record<string, StandInStack>;
  /** When set, `up` fails with this error line (e.g. an Azure login failure). */
  failUp?: string | null;
  /** Outputs `up` sets besides the derived ones (e.g. clientConfig). */
  upOutputs?: Record<string, unknown> | null;
  /** An .mjs module whose default export `up` awaits with (state, stackName): tests make side effects with it. */
  upHook?: string | null;
}

export interface StandInCall {
  args: string[];
  cwd: string;
}

const SCRIPT = String.raw`
const fs = require("node:fs");
const path = require("node:path");
const dir = __dirname;
const statePath = path.join(dir, "state.json");
const args = process.argv.slice(2);
fs.appendFileSync(path.join(dir, "calls.jsonl"), JSON.stringify({ args, cwd: process.cwd() }) + "\n");
const state = JSON.parse(fs.readFileSync(statePath, "utf8"));
const save = () => fs.writeFileSync(statePath, JSON.stringify(state, null, 2));
const out = (text) => process.stdout.write(text);
function fail(line, code = 255) {
  process.stderr.write(line + "\n");
  process.exit(code);
}
function flag(name) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}
const has = (name) => args.includes(name);
function stackOf() {
  const name = flag("--stack") ?? state.current;
  if (!name) fail("error: no stack selected; please use \u0060pulumi stack select\u0060 to choose one");
  const short = name.split("/").pop();
  const stack = state.stacks[short];
  if (!stack) fail("error: no stack named '" + name + "' found");
  return { name: short, stack };
}
// Config paths: "ns:key[0].field" -> ["ns:key", 0, "field"]
function parsePath(text) {
  const m = /^([^\[.]+:[^\[.]+)(.*)$/.exec(text);
  if (!m) fail("error: invalid configuration key '" + text + "'");
  const parts = [m[1]];
  const re = /\[(\d+)\]|\.([A-Za-z_][\w-]*)/gy;
  let rest = m[2], match;
  re.lastIndex = 0;
  while (re.lastIndex < rest.length && (match = re.exec(rest))) parts.push(match[1] !== undefined ? Number(match[1]) : match[2]);
  if (re.lastIndex !== rest.length && rest.length > 0) fail("error: invalid configuration key '" + text + "'");
  return parts;
}
// As the CLI: with --path, "true"/"false" become booleans and base-10 integers (no leading 0) numbers.
function coerce(value) {
  if (value === "true") return true;
  if (value === "false") return false;
  if (/^(0|-?[1-9]\d*)$/.test(value)) return Number(value);
  return value;
}
function setPath(config, parts, value) {
  if (parts.length === 1) { config[parts[0]] = value; return; }
  let container = config, key = parts[0];
  for (let i = 1; i < parts.length; i++) {
    const accessor = parts[i];
    let next = container[key];
    if (next === undefined || next === null || typeof next !== "object") {
      next = typeof accessor === "number" ? [] : {};
      container[key] = next;
    }
    if (Array.isArray(next)) {
      if (typeof accessor !== "number") fail("error: " + parts.slice(0, i).join("") + ": key for an array must be an int");
      if (accessor > next.length) fail("error: " + parts.slice(0, i + 1).join("") + ": array index out of range");
    }
    container = next;
    key = accessor;
  }
  container[key] = value;
}
function deletePath(config, parts) {
  if (parts.length === 1) { delete config[parts[0]]; return; }
  let container = config[parts[0]];
  for (let i = 1; i < parts.length - 1; i++) {
    if (container === undefined || container === null) return;
    container = container[parts[i]];
  }
  const last = parts[parts.length - 1];
  if (Array.isArray(container)) { if (last < container.length) container.splice(last, 1); }
  else if (container && typeof container === "object") delete container[last];
}
function slug(name, memory) {
  return ("lithops-" + name + "-" + memory).toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/-+/g, "-").replace(/-$/, "");
}
function deriveOutputs(stack) {
  const runtimes = stack.config["lithops-aca:runtimes"] ?? [{ name: "default" }];
  const outputs = {
    runtimes: runtimes.map((r) => {
      const memory = r.memory ?? 512;
      const base = slug(r.name, memory);
      const built = r.dockerfile !== undefined || (r.name === "default" && r.image === undefined);
      return { name: r.name, image: built ? "lithopsacr.azurecr.io/" + r.name + "@sha256:0000" : r.image ?? r.name, memory, queue: base, poisonQueue: base + "-poison", appName: base };
    }),
  };
  if (runtimes.some((r) => r.dockerfile !== undefined || (r.name === "default" && r.image === undefined))) outputs.registryPrefix = "lithopsacr.azurecr.io/";
  return outputs;
}
function history(stackName) {
  const stack = state.stacks[stackName];
  const updates = stack.updates ?? [];
  return updates.slice(-1).reverse();
}
async function run() {
  if (args[0] === "version") return out("v" + state.version + "\n");
  if (!state.loggedIn) fail("error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions");
  const [a, b] = args;
  if (a === "stack" && b === "select") {
    const { name } = stackOf();
    state.current = name;
    save();
    return;
  }
  if (a === "stack" && b === "init") {
    const name = args[2].split("/").pop();
    if (state.stacks[name]) fail("error: stack '" + args[2] + "' already exists");
    state.stacks[name] = { config: {}, outputs: {} };
    state.current = name;
    save();
    return out("Created stack '" + name + "'\n");
  }
  if (a === "stack" && b === "ls") {
    const list = Object.keys(state.stacks).map((name) => ({ name, current: name === state.current, updateInProgress: false, resourceCount: Object.keys(state.stacks[name].outputs).length ? 12 : 0 }));
    return out(JSON.stringify(list, null, 4) + "\n");
  }
  if (a === "stack" && b === "output") {
    const { stack } = stackOf();
    const shown = {};
    for (const [key, value] of Object.entries(stack.outputs)) shown[key] = !has("--show-secrets") && (stack.secretOutputs ?? []).includes(key) ? "[secret]" : value;
    return out(JSON.stringify(shown, null, 4) + "\n");
  }
  if (a === "stack" && b === "history") {
    const { name } = stackOf();
    return out(JSON.stringify(history(name), null, 4) + "\n");
  }
  if (a === "config" && b === "get") {
    const { name, stack } = stackOf();
    const key = args[2];
    const value = stack.config[key];
    if (value === undefined) fail("error: configuration key '" + key.replace(/^lithops-aca:/, "") + "' not found for stack '" + name + "'");
    const object = typeof value === "object" && value !== null;
    const text = object ? JSON.stringify(value) : String(value);
    return out(JSON.stringify(object ? { value: text, objectValue: value, secret: false } : { value: text, secret: false }, null, 2) + "\n");
  }
  if (a === "config" && b === "set-all") {
    const { stack } = stackOf();
    const usePath = has("--path");
    for (let i = 2; i < args.length; i++) {
      if (args[i] !== "--plaintext" && args[i] !== "--secret") continue;
      const pair = args[++i];
      const eq = pair.indexOf("=");
      const key = pair.slice(0, eq), value = pair.slice(eq + 1);
      if (usePath) setPath(stack.config, parsePath(key), coerce(value));
      else stack.config[key] = value;
    }
    save();
    return;
  }
  if (a === "config" && b === "rm-all") {
    const { stack } = stackOf();
    const usePath = has("--path");
    const keys = [];
    for (let i = 2; i < args.length; i++) {
      if (args[i] === "--stack") { i++; continue; }
      if (args[i].startsWith("--")) continue;
      keys.push(args[i]);
    }
    for (const key of keys) usePath ? deletePath(stack.config, parsePath(key)) : delete stack.config[key];
    save();
    return;
  }
  if (a === "up") {
    const { name, stack } = stackOf();
    out("Updating (" + name + ")\n\n");
    if (state.failUp) fail("error: " + state.failUp);
    if (state.upHook) await (await import(state.upHook)).default(state, name);
    const targets = [];
    for (let i = 0; i < args.length; i++) if (args[i] === "--target") targets.push(args[i + 1]);
    out("    +  azure-native:storage:Queue lithops-queue creating (0s)\n");
    out("    +  azure-native:storage:Queue lithops-queue created (1s)\n");
    out("    ~  azure-native:app:ContainerApp lithops-app updating (0s) [diff: ~template]\n");
    out("@ Updating....\n");
    if (targets.length === 0) stack.outputs = { ...stack.outputs, ...deriveOutputs(stack), ...(state.upOutputs ?? {}) };
    stack.updates = [...(stack.updates ?? []), { version: (stack.updates ?? []).length + 1, kind: "update", startTime: "2024-01-01T00:00:00.000Z", endTime: "2024-01-01T00:00:05.000Z", message: "", environment: {}, config: {}, result: "succeeded", resourceChanges: { create: 1, update: 1, same: 10 } }];
    stack.lastUp = { targets };
    save();
    return out("Outputs:\n    runtimes: [...]\n\nResources:\n    + 1 created\n    ~ 1 updated\n    10 unchanged\n\nDuration: 5s\n");
  }
  if (a === "destroy") {
    const { name, stack } = stackOf();
    out("Destroying (" + name + ")\n\n    -  azure-native:app:ContainerApp lithops-app deleting (0s)\n    -  azure-native:app:ContainerApp lithops-app deleted (2s)\n\nResources:\n    - 12 deleted\n\nDuration: 30s\n");
    stack.outputs = {};
    stack.updates = [...(stack.updates ?? []), { version: (stack.updates ?? []).length + 1, kind: "destroy", startTime: "2024-01-01T00:00:00.000Z", endTime: "2024-01-01T00:00:30.000Z", message: "", environment: {}, config: {}, result: "succeeded", resourceChanges: { delete: 12 } }];
    save();
    return;
  }
  fail("error: the pulumi stand-in does not know the command: " + args.join(" "), 2);
}
run().catch((error) => fail("error: " + (error && error.stack || error)));
`;

export class PulumiStandIn {
  readonly dir: string;

  constructor(state: Partial<StandInState> = {}) {
    this.dir = mkdtempSync(join(tmpdir(), "pulumi-standin-"));
    const script = join(this.dir, "pulumi");
    writeFileSync(script, `#!${process.execPath}\n${SCRIPT}`);
    chmodSync(script, 0o755);
    this.write({ version: "3.190.0", current: null, loggedIn: true, stacks: {}, ...state });
    writeFileSync(join(this.dir, "calls.jsonl"), "");
  }

  /** PATH with the stand-in first. */
  path(base = process.env.PATH ?? ""): string {
    return `${this.dir}${delimiter}${base}`;
  }

  state(): StandInState {
    return JSON.parse(readFileSync(join(this.dir, "state.json"), "utf8")) as StandInState;
  }

  write(state: StandInState): void {
    writeFileSync(join(this.dir, "state.json"), JSON.stringify(state, null, 2));
  }

  update(change: (state: StandInState) => void): void {
    const state = this.state();
    change(state);
    this.write(state);
  }

  calls(): StandInCall[] {
    return readFileSync(join(this.dir, "calls.jsonl"), "utf8")
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line) as StandInCall);
  }

  /** Forgets the calls so far. */
  resetCalls(): void {
    writeFileSync(join(this.dir, "calls.jsonl"), "");
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
