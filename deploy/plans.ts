import { PlanError } from "./errors.ts";
import { isAbsolute, relative, resolve } from "node:path";
import { imageKey, imageResourceNames, LITHOPS_STACK_TYPE, parseStackConfig, type RuntimeSpec } from "../components/stack-config.ts";
import { cpuForMemory, DEFAULT_MEMORY_MB } from "../runtime-model/memory.ts";
import { assertRuntimeName, DEFAULT_RUNTIME } from "../azure/runtime-name.ts";
import { CLEANED_PREFIXES } from "./job-data.ts";

/**
 * What each runtime command (and `clean`, `stack destroy`) does to a stack, as data: the
 * change to the stack's `<project>:runtimes` config, the Pulumi operations to run after it,
 * and for `clean` the job data to delete from the stack's storage. Planning reads
 * nothing but its inputs (and, to validate the result exactly as `pulumi up` will, the
 * Dockerfiles the config names), so every command is unit tested without a Pulumi CLI;
 * deploy/run-plan.ts carries a plan out (Automation API, storage).
 */

/** The config key under the project's namespace that lists the runtimes. */
export const RUNTIMES_KEY = "runtimes";

/** One element of `<project>:runtimes` as stored; fields a plan does not know are kept as they are. */
export interface RuntimeEntry {
  name: string;
  memory?: number;
  image?: string;
  dockerfile?: string;
  timeout?: number;
  /** Bumped by `runtime update`: a new value rebuilds the image and rolls a new Container App revision. */
  revision?: number;
  [field: string]: unknown;
}

export type PlanStep =
  /** `pulumi config rm-all --path <path>...`, in this order. */
  | { kind: "removeConfig"; paths: string[] }
  /** `pulumi config set-all --path --plaintext <path>=<value>...` (integers and true/false are stored as such). */
  | { kind: "setConfig"; values: Record<string, string> }
  /** `pulumi up`, restricted to these resource URNs when `target` is given. */
  | { kind: "up"; target?: string[] }
  /** `pulumi destroy`: every resource of the stack; the stack and its config stay. */
  | { kind: "destroy" }
  /** Deletes the blobs under these prefixes of the stack's job container (the storage account stays). */
  | { kind: "deleteData"; prefixes: string[] };

export interface StackPlan {
  command: "build" | "deploy" | "update" | "delete" | "clean" | "destroy";
  stack: string;
  /** The runtimes the config lists before and after (an unset key means the program's default: one `default` runtime). */
  before: RuntimeEntry[];
  after: RuntimeEntry[];
  steps: PlanStep[];
  /** Printed before the steps run. */
  notes: string[];
  /** The one-line result printed when every step succeeded. */
  result: string;
}

export interface StackRef {
  /** The stack name as the user gave it (`dev` or `org/dev`). */
  stack: string;
  /** The Pulumi project name: the namespace of the config key and part of every URN. */
  project: string;
  /** The project folder (Pulumi.yaml): Dockerfile paths are relative to it. */
  projectRoot: string;
}

/** The runtimes the program deploys when the stack does not set the key (components/stack-config.ts). */
const PROGRAM_DEFAULT: RuntimeEntry[] = [{ name: DEFAULT_RUNTIME }];

function effective(current: RuntimeEntry[] | undefined): RuntimeEntry[] {
  return (current ?? PROGRAM_DEFAULT).map((entry) => ({ ...entry }));
}

const memoryOf = (entry: RuntimeEntry): number => entry.memory ?? DEFAULT_MEMORY_MB;

function describe(entry: RuntimeEntry): string {
  return `${entry.name} (${memoryOf(entry)} MB)`;
}

function listed(entries: RuntimeEntry[]): string {
  return entries.length > 0 ? entries.map(describe).join(", ") : "none";
}

function configKey(ref: StackRef): string {
  return `${ref.project}:${RUNTIMES_KEY}`;
}

function entryPath(ref: StackRef, index: number, field?: string): string {
  return `${configKey(ref)}[${index}]${field ? `.${field}` : ""}`;
}

function deployHint(ref: StackRef): string {
  return `deploy one with \`npx lithops-aca runtime deploy default --stack ${ref.stack}\``;
}

function checkName(name: string): string {
  try {
    return assertRuntimeName(name, "runtime name");
  } catch (error) {
    throw new PlanError((error as Error).message);
  }
}

function checkMemory(memory: number | undefined): number | undefined {
  if (memory === undefined) return undefined;
  try {
    cpuForMemory(memory, "--memory");
  } catch (error) {
    throw new PlanError((error as Error).message);
  }
  return memory;
}

/** The path=value pairs that write one whole entry at an index. */
function entryValues(ref: StackRef, entry: RuntimeEntry, index: number): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [field, value] of Object.entries(entry)) {
    if (value === undefined) continue;
    if (typeof value === "object" && value !== null) {
      throw new PlanError(`${entryPath(ref, index, field)} holds a structured value, which this command cannot rewrite; edit Pulumi.<stack>.yaml instead`);
    }
    values[entryPath(ref, index, field)] = String(value);
  }
  return values;
}

/**
 * The config steps that turn `current` into `after`. When the stack does not set the key
 * yet, the whole list is written (so the program's implicit default runtime stays listed);
 * otherwise only the given values.
 */
function configSteps(ref: StackRef, current: RuntimeEntry[] | undefined, after: RuntimeEntry[], values: Record<string, string>): PlanStep[] {
  if (current === undefined) {
    return [{ kind: "setConfig", values: Object.assign({}, ...after.map((entry, i) => entryValues(ref, entry, i))) }];
  }
  return Object.keys(values).length > 0 ? [{ kind: "setConfig", values }] : [];
}

/**
 * A plan that writes `values` into the runtimes config (the whole list when the stack does not
 * set it yet) and then runs `pulumi up` (targeted when `target` is given).
 */
function configThenUp(
  command: StackPlan["command"],
  ref: StackRef & { current: RuntimeEntry[] | undefined },
  change: { before: RuntimeEntry[]; after: RuntimeEntry[]; values: Record<string, string>; target?: string[] },
  notes: string[],
  result: string,
): StackPlan {
  const up: PlanStep = change.target ? { kind: "up", target: change.target } : { kind: "up" };
  return {
    command,
    stack: ref.stack,
    before: change.before,
    after: change.after,
    steps: [...configSteps(ref, ref.current, change.after, change.values), up],
    notes,
    result,
  };
}

function indicesOf(entries: RuntimeEntry[], name: string, memory?: number): number[] {
  return entries.flatMap((entry, i) => (entry.name === name && (memory === undefined || memoryOf(entry) === memory) ? [i] : []));
}

function notListed(ref: StackRef, name: string, memory: number | undefined, before: RuntimeEntry[]): PlanError {
  if (name === "all") return new PlanError(`stack '${ref.stack}' has no runtimes (${configKey(ref)} is empty); ${deployHint(ref)}`);
  const what = memory === undefined ? `runtime '${name}'` : `runtime '${name}' with ${memory} MB`;
  return new PlanError(
    `${what} is not in stack '${ref.stack}' (${configKey(ref)} lists ${listed(before)}); ` +
      `deploy it with \`npx lithops-aca runtime deploy ${name}${memory ? ` --memory ${memory}` : ""} --stack ${ref.stack}\``,
  );
}

/** Checks a command's own arguments before anything else runs (the plans check them again). */
export function checkArguments(args: { name: string; memory?: number; timeout?: number; allowAll?: boolean }): void {
  if (!(args.allowAll && args.name === "all")) checkName(args.name);
  checkMemory(args.memory);
  checkTimeout(args.timeout);
}

function checkTimeout(timeout: number | undefined): void {
  if (timeout !== undefined && (!Number.isInteger(timeout) || timeout < 1 || timeout > 86_400)) {
    throw new PlanError(`--timeout: ${timeout} is not valid; use a whole number of seconds from 1 to 86400`);
  }
}

export interface DeployInput extends StackRef {
  current: RuntimeEntry[] | undefined;
  name: string;
  memory?: number;
  timeout?: number;
}

/**
 * `runtime deploy NAME [--memory MB] [--timeout S]`: lists the runtime in the stack config
 * (another size of a listed runtime keeps its image or Dockerfile) and runs `pulumi up`.
 * A runtime already listed is deployed as it is (with the new timeout, if one is given).
 */
export function planDeploy(input: DeployInput): StackPlan {
  const name = checkName(input.name);
  const memory = checkMemory(input.memory);
  checkTimeout(input.timeout);
  const before = effective(input.current);
  const after = effective(input.current);
  const values: Record<string, string> = {};
  const notes: string[] = [];
  const existing = indicesOf(before, name, memory);
  let deployed: RuntimeEntry[];
  if (existing.length > 0) {
    for (const i of existing) {
      if (input.timeout !== undefined && after[i]!.timeout !== input.timeout) {
        after[i]!.timeout = input.timeout;
        values[entryPath(input, i, "timeout")] = String(input.timeout);
      }
    }
    deployed = existing.map((i) => after[i]!);
    notes.push(`${existing.map((i) => describe(after[i]!)).join(", ")} already listed in stack '${input.stack}': deploying it as configured`);
  } else {
    const sibling = before.find((entry) => entry.name === name);
    const entry: RuntimeEntry = { name, memory: memory ?? DEFAULT_MEMORY_MB };
    if (sibling?.image !== undefined) entry.image = sibling.image;
    if (sibling?.dockerfile !== undefined) entry.dockerfile = sibling.dockerfile;
    if (input.timeout !== undefined) entry.timeout = input.timeout;
    after.push(entry);
    Object.assign(values, entryValues(input, entry, before.length));
    deployed = [entry];
    notes.push(`adding ${describe(entry)} to ${configKey(input)} of stack '${input.stack}'`);
  }
  validateRuntimes(input, after);
  return configThenUp("deploy", input, { before, after, values }, notes, `Runtime ${deployed.map(describe).join(", ")} deployed in stack '${input.stack}'`);
}

export interface UpdateInput extends StackRef {
  current: RuntimeEntry[] | undefined;
  /** A runtime name, or 'all'. */
  name: string;
}

/**
 * `runtime update NAME|all`: bumps the `revision` of the runtime's entries (every memory
 * size) so that `pulumi up` rebuilds its image and rolls a new Container App revision,
 * even when nothing else changed.
 */
export function planUpdate(input: UpdateInput): StackPlan {
  const all = input.name === "all";
  if (!all) checkName(input.name);
  const before = effective(input.current);
  const indices = all ? before.map((_, i) => i) : indicesOf(before, input.name);
  if (indices.length === 0) throw notListed(input, input.name, undefined, before);
  const after = effective(input.current);
  const values: Record<string, string> = {};
  for (const i of indices) {
    const revision = (typeof after[i]!.revision === "number" ? after[i]!.revision! : 0) + 1;
    after[i]!.revision = revision;
    values[entryPath(input, i, "revision")] = String(revision);
  }
  const updated = indices.map((i) => after[i]!);
  validateRuntimes(input, after);
  return configThenUp(
    "update",
    input,
    { before, after, values },
    [`new revision of ${listed(updated)} in stack '${input.stack}': its image is rebuilt and its Container App restarts on a new revision`],
    `Runtime ${listed(updated)} updated in stack '${input.stack}'`,
  );
}

export interface DeleteInput extends StackRef {
  current: RuntimeEntry[] | undefined;
  /** A runtime name, or 'all'. */
  name: string;
  memory?: number;
}

/**
 * `runtime delete NAME|all [--memory MB]`: removes the runtime from the stack config and runs
 * `pulumi up`, which deletes its app and queues. Removing every runtime (`all`, or the last
 * one) leaves the key as an explicit empty list: a stack with no runtimes keeps its storage,
 * environment and signing key, and drops its registry (as Lithops keeps storage and config).
 */
export function planDelete(input: DeleteInput): StackPlan {
  const all = input.name === "all";
  if (!all) checkName(input.name);
  const memory = checkMemory(input.memory);
  const before = effective(input.current);
  const indices = all ? before.map((_, i) => i) : indicesOf(before, input.name, memory);
  if (indices.length === 0) throw notListed(input, input.name, memory, before);
  const after = before.filter((_, i) => !indices.includes(i));
  const removed = indices.map((i) => before[i]!);
  validateRuntimes(input, after);
  const removeSteps = (): PlanStep[] => [{ kind: "removeConfig", paths: [...indices].sort((a, b) => b - a).map((i) => entryPath(input, i)) }];
  let steps: PlanStep[];
  if (input.current !== undefined) steps = removeSteps();
  else if (after.length > 0) steps = configSteps(input, undefined, after, {});
  else {
    // An unset key means the default runtime, and an empty list cannot be written with `set --path`:
    // write the implicit list, then remove its entries, which leaves `[]`.
    steps = [...configSteps(input, undefined, before, {}), ...removeSteps()];
  }
  const notes = [`removing ${listed(removed)} from ${configKey(input)} of stack '${input.stack}'`];
  if (after.length === 0)
    notes.push(
      `stack '${input.stack}' keeps its storage account, job data, environment and signing key; a container registry the stack created is deleted with its images (nothing is left to pull from it)`,
    );
  return {
    command: "delete",
    stack: input.stack,
    before,
    after,
    steps: [...steps, { kind: "up" }],
    notes,
    result:
      after.length > 0
        ? `Runtime ${listed(removed)} deleted from stack '${input.stack}'`
        : `Runtime ${listed(removed)} deleted: stack '${input.stack}' now has no runtimes (${deployHint(input)})`,
  };
}

export interface BuildInput extends StackRef {
  current: RuntimeEntry[] | undefined;
  name: string;
  /** The Dockerfile, relative to the project root (see projectDockerfile). */
  dockerfile?: string;
  /** Whether the stack already has its container registry (the `registryPrefix` output). */
  hasRegistry: boolean;
}

/** The Dockerfile a runtime is built from when `-f` is not given: `Dockerfile` in the current folder, as in Lithops. */
export const DEFAULT_BUILD_FILE = "Dockerfile";

/**
 * `runtime build NAME [-f Dockerfile]`: records the Dockerfile in the runtime's entry (adding
 * the runtime at the default memory if it is not listed) and runs `pulumi up` targeted at
 * the runtime's image only: the image is built and pushed, no Container App changes. The
 * next `runtime deploy` or `pulumi up` deploys it.
 */
export function planBuild(input: BuildInput): StackPlan {
  const name = checkName(input.name);
  const before = effective(input.current);
  const after = effective(input.current);
  const indices = indicesOf(before, name);
  const prebuilt = indices.map((i) => before[i]!).find((entry) => entry.image !== undefined);
  if (prebuilt) {
    throw new PlanError(
      `runtime '${name}' runs the prebuilt image ${prebuilt.image}: there is nothing to build. ` +
        "Remove its `image` field in the stack config to build it from a Dockerfile instead",
    );
  }
  const listedFile = indices.map((i) => before[i]!.dockerfile).find((file) => file !== undefined);
  const dockerfile = input.dockerfile ?? listedFile ?? (name === DEFAULT_RUNTIME ? undefined : DEFAULT_BUILD_FILE);
  const values: Record<string, string> = {};
  const notes: string[] = [];
  if (indices.length === 0) {
    const entry: RuntimeEntry = { name, memory: DEFAULT_MEMORY_MB };
    if (dockerfile !== undefined) entry.dockerfile = dockerfile;
    after.push(entry);
    Object.assign(values, entryValues(input, entry, before.length));
    notes.push(
      `adding ${describe(entry)} to ${configKey(input)} of stack '${input.stack}'; only its image is built now, ` +
        `\`npx lithops-aca runtime deploy ${name} --stack ${input.stack}\` (or \`pulumi up\`) deploys it`,
    );
  } else if (dockerfile !== undefined) {
    for (const i of indices) {
      if (after[i]!.dockerfile !== dockerfile) {
        after[i]!.dockerfile = dockerfile;
        values[entryPath(input, i, "dockerfile")] = dockerfile;
      }
    }
  }
  const specs = validateRuntimes(input, after);
  const spec = specs.find((s) => s.name === name)!;
  if (spec.source.kind !== "build") throw new PlanError(`runtime '${name}' has no Dockerfile to build`);
  if (!input.hasRegistry) {
    throw new PlanError(
      `stack '${input.stack}' has no container registry yet (it has not deployed a runtime built from a Dockerfile): ` +
        `run \`npx lithops-aca runtime deploy ${name} --stack ${input.stack}\` once, which creates the registry, builds, pushes and deploys`,
    );
  }
  const image = `${spec.source.repository}:${spec.source.tag}`;
  notes.push(`building ${spec.source.dockerfile} into ${image} and pushing it to the stack's registry`);
  return configThenUp(
    "build",
    input,
    { before, after, values, target: imageUrns(input, spec, specs) },
    notes,
    `Runtime ${name} built and pushed (${image}) in stack '${input.stack}'`,
  );
}

export interface CleanInput extends StackRef {
  current: RuntimeEntry[] | undefined;
  /** Whether the stack's outputs list runtimes (deployed by the last `pulumi up`). */
  deployedRuntimes: boolean;
}

/**
 * `clean`, as Lithops's: removes every runtime (the `runtime delete all` change, then `pulumi
 * up`, which deletes their apps, queues and identities) and the job data and runtime metadata
 * in the stack's storage. The storage account, other objects in it, the config and the stack
 * stay. A stack whose config and outputs list no runtime only has its data deleted.
 */
export function planClean(input: CleanInput): StackPlan {
  const before = effective(input.current);
  const runtimeSteps: PlanStep[] = before.length > 0 ? planDelete({ ...input, name: "all" }).steps : input.deployedRuntimes ? [{ kind: "up" }] : [];
  return {
    command: "clean",
    stack: input.stack,
    before,
    after: [],
    steps: [...runtimeSteps, { kind: "deleteData", prefixes: [...CLEANED_PREFIXES] }],
    notes: [
      `removing every runtime of stack '${input.stack}' (${listed(before)}) and its job data and runtime metadata (${CLEANED_PREFIXES.join(", ")}); ` +
        "the storage account, other objects in it, the config and the stack stay",
    ],
    result: `Stack '${input.stack}' cleaned: no runtimes, no job data; its storage and config are kept (${deployHint(input)})`,
  };
}

/**
 * `stack destroy`: `pulumi destroy` of the stack: every resource, the storage account with
 * every object in it included. The stack and its config (Pulumi.<stack>.yaml) stay.
 */
export function planDestroy(input: Omit<StackRef, "projectRoot"> & { current: RuntimeEntry[] | undefined }): StackPlan {
  const before = effective(input.current);
  return {
    command: "destroy",
    stack: input.stack,
    before,
    after: before,
    steps: [{ kind: "destroy" }],
    notes: [
      `destroying every resource of stack '${input.stack}': runtimes (${listed(before)}), their queues, the registry, the environment, ` +
        "and the storage account with every object in it (job data and users' data); the stack and its config stay",
    ],
    result:
      `Stack '${input.stack}' destroyed: all its resources and data are gone, its config is kept ` +
      `(\`npx lithops-aca runtime deploy default --stack ${input.stack}\` deploys it again; \`pulumi stack rm ${input.stack}\` removes the stack)`,
  };
}

/** The type tokens and names the program gives an image: under the `LithopsStack`, `RuntimeImage` component `lithops-image-<repo-tag>` with the docker Image `<name>-build`. */
const IMAGE_COMPONENT_TYPE = `${LITHOPS_STACK_TYPE}$lithops-aca:index:RuntimeImage`;
const DOCKER_IMAGE_TYPE = "docker:index/image:Image";

/** The URNs of a runtime's image component and its docker Image, as `pulumi up --target` takes them. */
export function imageUrns(ref: StackRef, spec: Pick<RuntimeSpec, "source">, all: readonly Pick<RuntimeSpec, "source">[]): string[] {
  const stack = ref.stack.split("/").pop()!;
  const name = imageResourceNames(all.map((r) => r.source)).get(imageKey(spec.source))!;
  const prefix = `urn:pulumi:${stack}::${ref.project}::`;
  return [`${prefix}${IMAGE_COMPONENT_TYPE}::${name}`, `${prefix}${IMAGE_COMPONENT_TYPE}$${DOCKER_IMAGE_TYPE}::${name}-build`];
}

/**
 * Validates a runtimes list with the program's own validation (names, memory table,
 * Dockerfiles inside the project, duplicates), so a bad command fails before the stack is
 * touched, with the message `pulumi preview` would give.
 */
export function validateRuntimes(ref: StackRef, runtimes: RuntimeEntry[]): RuntimeSpec[] {
  try {
    return parseStackConfig({ [RUNTIMES_KEY]: runtimes }, { namespace: ref.project, projectRoot: ref.projectRoot, dockerHubTokenSet: true }).runtimes;
  } catch (error) {
    throw new PlanError((error as Error).message);
  }
}

/** `-f path` (relative to the current folder, as in Lithops) as a path inside the project, which is the build context. */
export function projectDockerfile(file: string, cwd: string, projectRoot: string): string {
  const inside = relative(projectRoot, resolve(cwd, file));
  if (inside === "" || inside.startsWith("..") || isAbsolute(inside)) {
    throw new PlanError(
      `-f ${file}: the Dockerfile must be inside the Pulumi project at ${projectRoot} (the image's build context), e.g. runtimes/examples/imaging/Dockerfile`,
    );
  }
  return inside.split("\\").join("/");
}

/** One row of `runtime list`. */
export interface RuntimeRow {
  name: string;
  memory: number;
  image: string;
  app: string;
  status: string;
}

interface RuntimeOutput {
  name?: unknown;
  memory?: unknown;
  image?: unknown;
  appName?: unknown;
}

/**
 * `runtime list` for a stack: what its `runtimes` output says is deployed, and what its
 * config lists that the last `pulumi up` did not deploy yet (or deployed but no longer lists).
 */
export function runtimeRows(outputsRuntimes: unknown, current: RuntimeEntry[] | undefined): RuntimeRow[] {
  const deployed = Array.isArray(outputsRuntimes) ? (outputsRuntimes as RuntimeOutput[]) : [];
  const configured = effective(current);
  const key = (name: unknown, memory: unknown) => `${String(name)}|${String(memory)}`;
  const configuredKeys = new Set(configured.map((e) => key(e.name, memoryOf(e))));
  const rows: RuntimeRow[] = deployed.map((r) => ({
    name: String(r.name),
    memory: Number(r.memory),
    image: String(r.image ?? ""),
    app: String(r.appName ?? ""),
    status: configuredKeys.has(key(r.name, r.memory)) ? "deployed" : "deployed, no longer in config (the next up deletes it)",
  }));
  const deployedKeys = new Set(deployed.map((r) => key(r.name, r.memory)));
  for (const entry of configured) {
    if (!deployedKeys.has(key(entry.name, memoryOf(entry)))) {
      rows.push({ name: entry.name, memory: memoryOf(entry), image: entry.image ?? entry.dockerfile ?? "", app: "", status: "in config, not deployed yet" });
    }
  }
  return rows;
}
