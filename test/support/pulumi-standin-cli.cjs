// What the stand-in `pulumi` (test/support/pulumi-standin.ts) answers to one invocation: the
// calls the Automation API makes, with the real CLI's arguments, JSON shapes, error lines and
// exit codes, over the JSON state file in the stand-in's folder. Plain CommonJS, so that the
// stand-in's own node process and a test process serving a bash stand-in run the same code.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { pathToFileURL } = require("node:url");

/** Ends the invocation with an exit code (thrown by fail(), caught by answer()). */
class Exit {
  constructor(code) {
    this.code = code;
  }
}

/** Hooks loaded so far: each `up` imports its hook afresh, as a process of its own would. */
let hookLoads = 0;

/**
 * Runs `pulumi <args>` in folder `cwd` against the state in `dir`; resolves with what the
 * CLI would print and its exit code.
 */
async function answer(dir, args, cwd) {
  const stdout = [];
  const stderr = [];
  const statePath = path.join(dir, "state.json");
  fs.appendFileSync(path.join(dir, "calls.jsonl"), `${JSON.stringify({ args, cwd })}\n`);
  const state = JSON.parse(fs.readFileSync(statePath, "utf8"));
  const save = () => fs.writeFileSync(statePath, JSON.stringify(state, null, 2));
  const out = (text) => stdout.push(text);
  function fail(line, code = 255) {
    stderr.push(`${line}\n`);
    throw new Exit(code);
  }
  function flag(name) {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  }
  const has = (name) => args.includes(name);
  function stackOf() {
    const name = flag("--stack") ?? state.current;
    if (!name) fail("error: no stack selected; please use `pulumi stack select` to choose one");
    const short = name.split("/").pop();
    const stack = state.stacks[short];
    if (!stack) fail(`error: no stack named '${name}' found`);
    return { name: short, stack };
  }
  // Config paths: "ns:key[0].field" -> ["ns:key", 0, "field"]
  function parsePath(text) {
    const m = /^([^[.]+:[^[.]+)(.*)$/.exec(text);
    if (!m) fail(`error: invalid configuration key '${text}'`);
    const parts = [m[1]];
    const re = /\[(\d+)\]|\.([A-Za-z_][\w-]*)/gy;
    const rest = m[2];
    while (re.lastIndex < rest.length) {
      const match = re.exec(rest);
      if (!match) break;
      parts.push(match[1] !== undefined ? Number(match[1]) : match[2]);
    }
    if (re.lastIndex !== rest.length && rest.length > 0) fail(`error: invalid configuration key '${text}'`);
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
    if (parts.length === 1) {
      config[parts[0]] = value;
      return;
    }
    let container = config;
    let key = parts[0];
    for (let i = 1; i < parts.length; i++) {
      const accessor = parts[i];
      let next = container[key];
      if (next === undefined || next === null || typeof next !== "object") {
        next = typeof accessor === "number" ? [] : {};
        container[key] = next;
      }
      if (Array.isArray(next)) {
        if (typeof accessor !== "number") fail(`error: ${parts.slice(0, i).join("")}: key for an array must be an int`);
        if (accessor > next.length) fail(`error: ${parts.slice(0, i + 1).join("")}: array index out of range`);
      }
      container = next;
      key = accessor;
    }
    container[key] = value;
  }
  function deletePath(config, parts) {
    if (parts.length === 1) {
      delete config[parts[0]];
      return;
    }
    let container = config[parts[0]];
    for (let i = 1; i < parts.length - 1; i++) {
      if (container === undefined || container === null) return;
      container = container[parts[i]];
    }
    const last = parts[parts.length - 1];
    if (Array.isArray(container)) {
      if (last < container.length) container.splice(last, 1);
    } else if (container && typeof container === "object") delete container[last];
  }
  function slug(name, memory) {
    return `lithops-${name}-${memory}`
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/-+/g, "-")
      .replace(/-$/, "");
  }
  function deriveOutputs(stack) {
    const runtimes = stack.config["lithops-aca:runtimes"] ?? [{ name: "default" }];
    const outputs = {
      runtimes: runtimes.map((r) => {
        const memory = r.memory ?? 512;
        const base = slug(r.name, memory);
        const built = r.dockerfile !== undefined || (r.name === "default" && r.image === undefined);
        return {
          name: r.name,
          image: built ? `lithopsacr.azurecr.io/${r.name}@sha256:0000` : (r.image ?? r.name),
          memory,
          queue: base,
          poisonQueue: `${base}-poison`,
          appName: base,
        };
      }),
    };
    if (runtimes.some((r) => r.dockerfile !== undefined || (r.name === "default" && r.image === undefined))) outputs.registryPrefix = "lithopsacr.azurecr.io/";
    return outputs;
  }
  /** Appends to the stack's history what a finished `up` or `destroy` of `seconds` leaves there, as `pulumi stack history --json` lists it. */
  function recordUpdate(stack, kind, seconds, resourceChanges) {
    const updates = stack.updates ?? [];
    const endTime = new Date(Date.UTC(2024, 0, 1, 0, 0, seconds)).toISOString();
    const update = {
      version: updates.length + 1,
      kind,
      startTime: "2024-01-01T00:00:00.000Z",
      endTime,
      message: "",
      environment: {},
      config: {},
      result: "succeeded",
      resourceChanges,
    };
    stack.updates = [...updates, update];
  }
  function history(stackName) {
    const stack = state.stacks[stackName];
    const updates = stack.updates ?? [];
    return updates.slice(-1).reverse();
  }
  async function run() {
    if (args[0] === "version") return out(`v${state.version}\n`);
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
      if (state.stacks[name]) fail(`error: stack '${args[2]}' already exists`);
      state.stacks[name] = { config: {}, outputs: {} };
      state.current = name;
      save();
      return out(`Created stack '${name}'\n`);
    }
    if (a === "stack" && b === "ls") {
      const list = Object.keys(state.stacks).map((name) => ({
        name,
        current: name === state.current,
        updateInProgress: false,
        resourceCount: Object.keys(state.stacks[name].outputs).length ? 12 : 0,
      }));
      return out(`${JSON.stringify(list, null, 4)}\n`);
    }
    if (a === "stack" && b === "output") {
      const { stack } = stackOf();
      const shown = {};
      for (const [key, value] of Object.entries(stack.outputs))
        shown[key] = !has("--show-secrets") && (stack.secretOutputs ?? []).includes(key) ? "[secret]" : value;
      return out(`${JSON.stringify(shown, null, 4)}\n`);
    }
    if (a === "stack" && b === "history") {
      const { name } = stackOf();
      return out(`${JSON.stringify(history(name), null, 4)}\n`);
    }
    if (a === "config" && b === "get") {
      const { name, stack } = stackOf();
      const key = args[2];
      const value = stack.config[key];
      if (value === undefined) fail(`error: configuration key '${key.replace(/^lithops-aca:/, "")}' not found for stack '${name}'`);
      const object = typeof value === "object" && value !== null;
      const text = object ? JSON.stringify(value) : String(value);
      return out(`${JSON.stringify(object ? { value: text, objectValue: value, secret: false } : { value: text, secret: false }, null, 2)}\n`);
    }
    if (a === "config" && b === "set-all") {
      const { stack } = stackOf();
      const usePath = has("--path");
      for (let i = 2; i < args.length; i++) {
        if (args[i] !== "--plaintext" && args[i] !== "--secret") continue;
        const pair = args[++i];
        const eq = pair.indexOf("=");
        const key = pair.slice(0, eq);
        const value = pair.slice(eq + 1);
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
        if (args[i] === "--stack") {
          i++;
          continue;
        }
        if (args[i].startsWith("--")) continue;
        keys.push(args[i]);
      }
      for (const key of keys) {
        if (usePath) deletePath(stack.config, parsePath(key));
        else delete stack.config[key];
      }
      save();
      return;
    }
    if (a === "up") {
      const { name, stack } = stackOf();
      out(`Updating (${name})\n\n`);
      if (state.failUp) fail(`error: ${state.failUp}`);
      if (state.upHook) await (await import(`${pathToFileURL(state.upHook).href}?load=${++hookLoads}`)).default(state, name);
      const targets = [];
      for (let i = 0; i < args.length; i++) if (args[i] === "--target") targets.push(args[i + 1]);
      out("    +  azure-native:storage:Queue lithops-queue creating (0s)\n");
      out("    +  azure-native:storage:Queue lithops-queue created (1s)\n");
      out("    ~  azure-native:app:ContainerApp lithops-app updating (0s) [diff: ~template]\n");
      out("@ Updating....\n");
      if (targets.length === 0) stack.outputs = { ...stack.outputs, ...deriveOutputs(stack), ...(state.upOutputs ?? {}) };
      recordUpdate(stack, "update", 5, { create: 1, update: 1, same: 10 });
      stack.lastUp = { targets };
      save();
      return out("Outputs:\n    runtimes: [...]\n\nResources:\n    + 1 created\n    ~ 1 updated\n    10 unchanged\n\nDuration: 5s\n");
    }
    if (a === "destroy") {
      const { name, stack } = stackOf();
      out(
        `Destroying (${name})\n\n    -  azure-native:app:ContainerApp lithops-app deleting (0s)\n    -  azure-native:app:ContainerApp lithops-app deleted (2s)\n\nResources:\n    - 12 deleted\n\nDuration: 30s\n`,
      );
      stack.outputs = {};
      recordUpdate(stack, "destroy", 30, { delete: 12 });
      save();
      return;
    }
    fail(`error: the pulumi stand-in does not know the command: ${args.join(" ")}`, 2);
  }
  let code = 0;
  try {
    await run();
  } catch (error) {
    if (error instanceof Exit) code = error.code;
    else {
      stderr.push(`error: ${error?.stack || error}\n`);
      code = 255;
    }
  }
  return { code, stdout: stdout.join(""), stderr: stderr.join("") };
}

/** The stand-in as its own process: the `pulumi` script in `dir` calls this with its arguments. */
async function main(dir) {
  const { code, stdout, stderr } = await answer(dir, process.argv.slice(2), process.cwd());
  process.stdout.write(stdout);
  process.stderr.write(stderr);
  process.exitCode = code;
}

module.exports = { answer, main };
