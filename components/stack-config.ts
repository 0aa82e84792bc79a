import { StackConfigError } from "./errors.ts";
import { existsSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { DEFAULT_COOLDOWN_PERIOD_S, DEFAULT_MAX_WORKERS, DEFAULT_POLLING_INTERVAL_S, DEFAULT_RUNTIME_TIMEOUT_S } from "../runtime-model/defaults.ts";
import { uniqueSuffix } from "../azure/resource-names.ts";
import { cpuForMemory, DEFAULT_MEMORY_MB, memorySchema, needsWorkloadProfile } from "../runtime-model/memory.ts";
import { assertRuntimeName, DEFAULT_RUNTIME, runtimeQueues, runtimeResourceName } from "../azure/runtime-name.ts";
import { NODE_MAJOR, PACKAGE_VERSION, packageRoot } from "../protocol/version.ts";
import { checkSchema } from "../runtime-model/config-issues.ts";
import { CACHEABLE_REGISTRIES, isCacheable, upstreamImage } from "./image-reference.ts";

/**
 * The stack configuration (`Pulumi.<stack>.yaml`, keys under the project namespace),
 * validated before any resource is declared so that `pulumi preview` fails with a
 * message naming the key (`lithops-aca:runtimes[1].memory`) and what is allowed.
 */

/**
 * Azure's cap on a replica's `terminationGracePeriodSeconds`: a stopping replica (scale-in,
 * new revision) gets at most this long. A runtime whose timeout is above it runs as a
 * Container Apps Job (one execution per call, never scaled in), not as an app.
 */
export const MAX_GRACE_PERIOD_SECONDS = 600;
/** Longest call timeout: a day, well inside a Job's `replicaTimeout`. */
const MAX_CALL_TIMEOUT_SECONDS = 86_400;
/** Seconds a stopping replica gets beyond the call timeout to store the outcome. */
const STOP_MARGIN_SECONDS = 30;
/** Azure's default Consumption-cores quota of a Container Apps environment. */
const DEFAULT_CORE_QUOTA = 100;
/** The default runtime's Dockerfile ships with the package, so any Pulumi program can build it. */
export const DEFAULT_DOCKERFILE = join(packageRoot(), "runtimes/default/Dockerfile");

const armId = (provider: string) =>
  z
    .string()
    .regex(
      new RegExp(`^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/${provider}/[^/]+$`, "i"),
      `must be a resource id like /subscriptions/<id>/resourceGroups/<group>/providers/${provider}/<name>`,
    );

/** A whole number in a range; messages word the range (runtime-model/config-issues.ts), or `tooHigh` for a value above it. */
const intIn = (min: number, max: number, tooHigh?: string) => z.number().int().min(min).max(max, tooHigh);

/** Stands for the key in messages of protocol checks; replaced by the real key when reported. */
const KEY = "\u0000key";

/** A schema that also passes the value to a protocol check that throws. */
function checked<T extends z.ZodType>(schema: T, check: (value: z.output<T>) => unknown) {
  return schema.superRefine((value, ctx) => {
    try {
      check(value);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
    }
  });
}

const runtimeSchema = z.strictObject({
  /** 'default', or an image reference in lower case (Lithops's runtime name). */
  name: checked(z.string(), (name) => assertRuntimeName(name, KEY)),
  /** A prebuilt image, used as is. */
  image: checked(z.string(), (image) => {
    if (image === DEFAULT_RUNTIME) throw new Error("'default' is a runtime name, not an image");
    assertRuntimeName(image, KEY);
  }).optional(),
  /** A Dockerfile to build, relative to the project root (which is the build context). */
  dockerfile: z.string().optional(),
  memory: memorySchema.default(DEFAULT_MEMORY_MB),
  /**
   * Seconds a call may run; the worker enforces it. Up to 600 (ACA's grace cap, so a call in
   * flight finishes on scale-in) the runtime is a Container App; above, a Container Apps Job.
   */
  timeout: intIn(1, MAX_CALL_TIMEOUT_SECONDS).default(DEFAULT_RUNTIME_TIMEOUT_S),
  /** KEDA max replicas (Container Apps allows up to 1000). */
  maxWorkers: intIn(1, 1000).default(DEFAULT_MAX_WORKERS),
  /** Calls run in parallel per replica; also the queue length per replica in the scale rule. */
  workerProcesses: intIn(1, 256).default(1),
  /** Seconds between KEDA queue checks: lower starts idle runtimes sooner, at one metadata read per check. */
  pollingInterval: intIn(1, 3600).default(DEFAULT_POLLING_INTERVAL_S),
  /** Seconds without messages before replicas scale back to zero. */
  cooldownPeriod: intIn(0, 86_400).default(DEFAULT_COOLDOWN_PERIOD_S),
  /**
   * Longest pause, in ms, between an idle worker's queue polls. Each poll is a billed
   * request, and idle replicas keep polling until KEDA's cooldown scales them in.
   */
  idlePollMaxMs: intIn(10, 60_000).default(1000),
  /** Bumped by `lithops-aca runtime update`: a new value rebuilds the image and rolls a new Container App revision. */
  revision: intIn(0, 1_000_000_000).default(0),
});

const configSchema = z.strictObject({
  /**
   * Absent: the default runtime. An explicit `[]` (what `runtime delete all` leaves) is a stack
   * with no runtimes: storage, environment and signing key stay; no registry, apps or queues.
   */
  runtimes: z.array(runtimeSchema).prefault([{ name: DEFAULT_RUNTIME }]),
  /** An existing resource group to deploy into; by default the stack creates its own. */
  resourceGroupName: z
    .string()
    .regex(/^[-\w.()]{1,89}[-\w()]$/, "must be 1-90 letters, digits, '_', '-', '.', '(' or ')', not ending in '.'")
    .optional(),
  environment: z
    .strictObject({
      /** An existing Container Apps environment (Lithops's `environment_id`). */
      id: armId("Microsoft.App/managedEnvironments").optional(),
      /** Workload profile the apps run on; set it for an existing workload-profiles environment. */
      workloadProfileName: z.string().min(1).optional(),
      logRetentionDays: intIn(30, 730).default(30),
      /** The environment's Consumption-cores quota (Azure's default 100); raise it with a quota request first. */
      coreQuota: intIn(1, 100_000).default(DEFAULT_CORE_QUOTA),
    })
    .prefault({}),
  registry: z
    .discriminatedUnion("type", [
      z.strictObject({
        type: z.literal("acr"),
        /** An existing registry; by default the stack creates one when a runtime is built. */
        id: armId("Microsoft.ContainerRegistry/registries").optional(),
        sku: z.enum(["Basic", "Standard", "Premium"]).default("Basic"),
        /** Untagged manifests older than this are purged daily by an ACR task (a registry the stack creates only). */
        untaggedRetentionDays: intIn(1, 3650).default(7),
      }),
      z.strictObject({
        type: z.literal("dockerhub"),
        username: z.string().regex(/^[a-z0-9]{4,30}$/, "must be a Docker Hub user name (4-30 lower case letters or digits)"),
        /** Organization to push to; the user's own namespace by default. */
        namespace: z
          .string()
          .regex(/^[a-z0-9]{2,255}$/, "must be a Docker Hub namespace (2-255 lower case letters or digits)")
          .optional(),
      }),
    ])
    .prefault({ type: "acr" }),
  storage: z
    .strictObject({
      /** Job data (`lithops.jobs/...`) older than this is deleted by a lifecycle rule. */
      jobDataRetentionDays: intIn(1, 36_500).default(7),
      sku: z.enum(["Standard_LRS", "Standard_ZRS", "Standard_GRS", "Standard_RAGRS"]).default("Standard_LRS"),
      /** Pulumi `protect` on the storage account: `pulumi destroy` and replacements stop at it. */
      protect: z.boolean().default(false),
    })
    .prefault({}),
  /** Cost tags set on every resource of the stack that takes tags. */
  tags: z
    .record(z.string(), z.string().max(256, "must be at most 256 characters"))
    .superRefine((tags, ctx) => {
      for (const name of Object.keys(tags)) {
        if (!/^[^<>%&\\?/]{1,512}$/.test(name)) {
          ctx.addIssue({
            code: "custom",
            path: [name],
            message: `${JSON.stringify(name)} is not a tag name Azure accepts: 1-512 characters, none of < > % & \\ ? /`,
          });
        }
      }
    })
    .default({}),
  /** An alert, sent to this action group, when a runtime moves a message to its poison queue. */
  poisonAlert: z.strictObject({ actionGroupId: armId("Microsoft.Insights/actionGroups") }).optional(),
  /** Object ids of the users, groups or service principals that run the client; the deployer by default. */
  clientPrincipalIds: z.array(z.guid()).optional(),
});

/** Keys the program reads that are not in the structured schema (secrets). */
const SECRET_KEYS = ["dockerHubToken"] as const;
/** Keys whose value is a plain string, not JSON. */
const STRING_KEYS = ["resourceGroupName"];

export type ImageSource = { kind: "prebuilt"; image: string } | { kind: "build"; dockerfile: string; repository: string; tag: string };

/** One key per distinct image: runtimes with the same key share one image (built once). */
export function imageKey(source: ImageSource): string {
  return source.kind === "build" ? `${source.repository}:${source.tag}` : source.image;
}

/** The component a whole lithops-aca stack is: every resource of the stack is under it. */
export const LITHOPS_STACK_TYPE = "lithops-aca:index:LithopsStack";
/**
 * The name of the `LithopsStack` in this package's own program (index.ts, the CLI's inline
 * program). An instance of this name keeps the Azure names of stacks deployed before the
 * component existed, and aliases to their resources' old URNs.
 */
export const DEFAULT_STACK_NAME = "lithops";

/**
 * The Pulumi resource names of the images of a `LithopsStack` named `stackName`, one per
 * distinct image: `<stackName>-image-<slug>`, and a hash suffix for a later image whose slug an
 * earlier one took ('a/b:1' and 'a-b:1'). The program and `lithops-aca runtime build` (which
 * targets an image's URN) both call this.
 */
export function imageResourceNames(sources: readonly ImageSource[], stackName: string = DEFAULT_STACK_NAME): Map<string, string> {
  const names = new Map<string, string>();
  const taken = new Set<string>();
  for (const source of sources) {
    const key = imageKey(source);
    if (names.has(key)) continue;
    let name = `${stackName}-image-${key.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
    if (taken.has(name)) name += `-${uniqueSuffix(key).slice(0, 6)}`;
    taken.add(name);
    names.set(key, name);
  }
  return names;
}

/** A runtime's settings as configured (defaults applied), without how its image is given. */
type RuntimeSettings = Omit<z.output<typeof runtimeSchema>, "image" | "dockerfile">;

export interface RuntimeSpec extends RuntimeSettings {
  cpu: number;
  /** The app's `terminationGracePeriodSeconds`, passed unchanged to the worker. */
  terminationGracePeriodSeconds: number;
  /** Base name of the runtime's Azure resources and its Container App name. */
  resourceName: string;
  queue: string;
  poisonQueue: string;
  source: ImageSource;
}

type ParsedConfig = z.output<typeof configSchema>;

/** One runtime as the stack config (and `LithopsStack`'s `runtimes`, and `LithopsRuntime`) takes it. */
export type RuntimeEntry = z.input<typeof runtimeSchema>;
/** The stack config's keys as plain data, before defaults (what `LithopsStack` takes). */
export type StackConfigInput = z.input<typeof configSchema>;

export interface StackConfig extends Omit<ParsedConfig, "runtimes"> {
  runtimes: RuntimeSpec[];
}

export interface ParseOptions {
  /** Project namespace of the keys, for messages: `lithops-aca`. */
  namespace: string;
  /** The project root: Dockerfile paths are relative to it and must stay inside it. */
  projectRoot: string;
  /** Whether the secret `<namespace>:dockerHubToken` is set. */
  dockerHubTokenSet: boolean;
}

/** `["runtimes", 1, "memory"]` -> `lithops-aca:runtimes[1].memory`. */
export function configKey(namespace: string, path: readonly PropertyKey[]): string {
  let key = namespace;
  path.forEach((part, i) => {
    if (typeof part === "number") key += `[${part}]`;
    else key += `${i === 0 ? ":" : "."}${String(part)}`;
  });
  return key;
}

/** Splits `myacct/imaging:01` into repository and tag (tag `latest` when absent). */
function repositoryAndTag(reference: string): { repository: string; tag: string } {
  const slash = reference.lastIndexOf("/");
  const colon = reference.lastIndexOf(":");
  if (colon > slash) return { repository: reference.slice(0, colon), tag: reference.slice(colon + 1) };
  return { repository: reference, tag: "latest" };
}

function imageSource(runtime: z.output<typeof runtimeSchema>): ImageSource {
  if (runtime.image) return { kind: "prebuilt", image: runtime.image };
  if (runtime.dockerfile) return { kind: "build", dockerfile: runtime.dockerfile, ...repositoryAndTag(runtime.name) };
  if (runtime.name === DEFAULT_RUNTIME) {
    // Like Lithops's default runtime, built for the language version of the deploying machine.
    return {
      kind: "build",
      dockerfile: DEFAULT_DOCKERFILE,
      repository: `lithops-aca-default-node${NODE_MAJOR}`,
      tag: PACKAGE_VERSION,
    };
  }
  // As in `lithops runtime deploy user/img:tag`: the name is the image.
  return { kind: "prebuilt", image: runtime.name };
}

/** Checks what needs more than one field, or the file system. */
function checkRuntimes(config: ParsedConfig, options: ParseOptions, addIssue: (path: PropertyKey[], message: string) => void): void {
  const seen = new Map<string, number>();
  config.runtimes.forEach((runtime, i) => {
    if (runtime.image !== undefined && runtime.dockerfile !== undefined) {
      addIssue(["runtimes", i], "set either `image` (a prebuilt image) or `dockerfile` (build one), not both");
    }
    if (runtime.dockerfile !== undefined) {
      const path = resolve(options.projectRoot, runtime.dockerfile);
      const inside = relative(options.projectRoot, path);
      if (isAbsolute(runtime.dockerfile) || inside.startsWith("..")) {
        addIssue(
          ["runtimes", i, "dockerfile"],
          `must be a path inside the project (the build context), e.g. runtimes/examples/imaging/Dockerfile; got ${runtime.dockerfile}`,
        );
      } else if (!existsSync(path)) {
        addIssue(["runtimes", i, "dockerfile"], `${runtime.dockerfile} does not exist in the project`);
      }
    }
    if (needsWorkloadProfile(runtime.memory) && config.environment.id && !config.environment.workloadProfileName) {
      addIssue(
        ["runtimes", i, "memory"],
        `${runtime.memory} MB needs a workload-profiles environment; set ${configKey(options.namespace, ["environment", "workloadProfileName"])} for the existing environment, or let the stack create one`,
      );
    }
    const resourceName = runtimeResourceName(runtime.name, runtime.memory);
    const previous = seen.get(resourceName);
    if (previous !== undefined) {
      addIssue(
        ["runtimes", i],
        `runtime ${runtime.name} at ${runtime.memory} MB is already defined by ${configKey(options.namespace, ["runtimes", previous])}`,
      );
    } else {
      seen.set(resourceName, i);
    }
  });
  // An image is built once per name:tag, so one name cannot come from two Dockerfiles.
  const builtFrom = new Map<string, { dockerfile: string; index: number }>();
  config.runtimes.forEach((runtime, i) => {
    const source = imageSource(runtime);
    if (source.kind !== "build") return;
    const image = `${source.repository}:${source.tag}`;
    const previous = builtFrom.get(image);
    if (!previous) builtFrom.set(image, { dockerfile: source.dockerfile, index: i });
    else if (previous.dockerfile !== source.dockerfile) {
      addIssue(
        ["runtimes", i, "dockerfile"],
        `builds image ${image}, which ${configKey(options.namespace, ["runtimes", previous.index])} builds from ${previous.dockerfile}; give one of them another name`,
      );
    }
  });
  if (config.registry.type === "acr") {
    config.runtimes.forEach((runtime, i) => {
      const source = imageSource(runtime);
      if (source.kind === "prebuilt" && !isCacheable(upstreamImage(source.image))) {
        addIssue(
          ["runtimes", i, runtime.image === undefined ? "name" : "image"],
          `${source.image}: the stack's registry serves prebuilt images through an ACR cache rule, which pulls from ${CACHEABLE_REGISTRIES.join(", ")}; push the image to one of them, or give the runtime a dockerfile`,
        );
      }
    });
  }
  checkCoreQuota(config, options, addIssue);
  if (config.poisonAlert && config.environment.id) {
    addIssue(
      ["poisonAlert"],
      `needs the Log Analytics workspace the stack creates; with an existing environment (${configKey(options.namespace, ["environment", "id"])}) set the alert up on that environment's workspace`,
    );
  }
  const builds = builtFrom.size > 0;
  if (builds && config.registry.type === "dockerhub" && !options.dockerHubTokenSet) {
    addIssue(
      ["dockerHubToken"],
      `is required to push to Docker Hub: pulumi config set --secret ${configKey(options.namespace, ["dockerHubToken"])} <access token>`,
    );
  }
}

/**
 * Replicas beyond the environment's core quota stay pending without an error, so a stack
 * whose runtimes could together ask for more vCPU than the quota is refused at preview.
 */
function checkCoreQuota(config: ParsedConfig, options: ParseOptions, addIssue: (path: PropertyKey[], message: string) => void): void {
  const demands = config.runtimes.map((runtime) => ({ runtime, cores: runtime.maxWorkers * cpuForMemory(runtime.memory) }));
  const total = demands.reduce((sum, d) => sum + d.cores, 0);
  const quota = config.environment.coreQuota;
  if (total <= quota) return;
  const parts = demands.map(({ runtime, cores }) => `${runtime.name} ${runtime.memory} MB: ${runtime.maxWorkers} x ${cpuForMemory(runtime.memory)} = ${cores}`);
  const quotaKey = configKey(options.namespace, ["environment", "coreQuota"]);
  addIssue(
    ["runtimes"],
    `at maxWorkers the runtimes need ${total} vCPU (${parts.join("; ")}) but the environment's quota is ${quota} cores (${quotaKey}); replicas past the quota would stay pending. Lower maxWorkers, or request more Managed Environment Consumption Cores for the region (Azure portal > Quotas, or a support request) and set ${quotaKey} to the new quota`,
  );
}

/**
 * The problems of `value` under `schema`, worded as every config problem of the package is
 * (runtime-model/config-issues.ts), each naming its key by `keyName`.
 */
function schemaProblems<S extends z.ZodType>(schema: S, value: unknown, keyName: (path: readonly PropertyKey[]) => string) {
  const checked = checkSchema(schema, value, { keyName, noun: "key" });
  // Protocol checks name the key as KEY; the line names it already.
  return checked.success ? checked : { success: false as const, problems: checked.problems.map((line) => line.replace(`${KEY}: `, "")) };
}

/**
 * Validates the raw values of the project's config keys (as read from the stack) and
 * resolves every runtime to the names and sizes its resources get. Throws one
 * StackConfigError listing every problem, each line naming its key.
 */
export function parseStackConfig(raw: Record<string, unknown>, options: ParseOptions): StackConfig {
  const problems: string[] = [];
  const addIssue = (path: readonly PropertyKey[], message: string) => problems.push(`${configKey(options.namespace, path)}: ${message}`);
  const parsed = schemaProblems(configSchema, raw, (path) => configKey(options.namespace, path));
  if (!parsed.success) problems.push(...parsed.problems);
  else checkRuntimes(parsed.data, options, addIssue);
  if (problems.length > 0 || !parsed.success) {
    throw new StackConfigError(`invalid stack configuration:\n  ${problems.join("\n  ")}`);
  }
  return { ...parsed.data, runtimes: parsed.data.runtimes.map(resolveRuntime) };
}

/** A validated runtime entry with the names and sizes its resources get. */
function resolveRuntime(runtime: z.output<typeof runtimeSchema>): RuntimeSpec {
  const { image: _image, dockerfile: _dockerfile, ...settings } = runtime;
  return {
    ...settings,
    cpu: cpuForMemory(runtime.memory),
    terminationGracePeriodSeconds: Math.min(runtime.timeout + STOP_MARGIN_SECONDS, MAX_GRACE_PERIOD_SECONDS),
    resourceName: runtimeResourceName(runtime.name, runtime.memory),
    ...runtimeQueues(runtime.name, runtime.memory),
    source: imageSource(runtime),
  };
}

/**
 * One runtime entry as a stack config lists it (`LithopsRuntime`'s argument), validated with
 * the config's own schema; `key` names the entry in messages (`LithopsRuntime("x") args.runtime`).
 */
export function parseRuntimeEntry(entry: RuntimeEntry, key: string): RuntimeSpec {
  const parsed = schemaProblems(runtimeSchema, entry, (path) => configKey(key, path).replace(`${key}:`, `${key}.`));
  if (!parsed.success) throw new StackConfigError(`invalid runtime:\n  ${parsed.problems.join("\n  ")}`);
  return resolveRuntime(parsed.data);
}

/** Whether a runtime runs as a Container Apps Job: its calls may outlast the longest grace a stopping replica gets. */
export function runsAsJob(spec: Pick<RuntimeSpec, "timeout">): boolean {
  return spec.timeout > MAX_GRACE_PERIOD_SECONDS;
}

/** The raw values of the project's keys in the running stack (JSON text parsed), and whether the secret Docker Hub token is set. */
export function readStackConfig(): { raw: Record<string, unknown>; dockerHubTokenSet: boolean } {
  const namespace = pulumi.getProject();
  const config = new pulumi.Config();
  const raw: Record<string, unknown> = {};
  let dockerHubTokenSet = false;
  for (const fullKey of Object.keys(pulumi.runtime.allConfig())) {
    if (!fullKey.startsWith(`${namespace}:`)) continue;
    const key = fullKey.slice(namespace.length + 1);
    if ((SECRET_KEYS as readonly string[]).includes(key)) {
      dockerHubTokenSet = true;
      continue;
    }
    // Structured values arrive as JSON text; text that is not JSON is passed on for the schema to reject.
    const text = config.get(key) ?? "";
    try {
      raw[key] = STRING_KEYS.includes(key) ? text : JSON.parse(text);
    } catch {
      raw[key] = text;
    }
  }
  return { raw, dockerHubTokenSet };
}

/** Reads the project's keys from the running stack and validates them, naming the keys (`lithops-aca:runtimes[1].memory`) in errors. */
export function loadStackConfig(projectRoot: string): StackConfig {
  const { raw, dockerHubTokenSet } = readStackConfig();
  return parseStackConfig(raw, { namespace: pulumi.getProject(), projectRoot, dockerHubTokenSet });
}
