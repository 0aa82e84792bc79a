import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as pulumiState from "@pulumi/pulumi/runtime/state.js";

/**
 * Runs the Pulumi program (index.ts) against Pulumi's mocks for one stack config and
 * returns every resource it declared (with the inputs it gave them) and its resolved
 * stack outputs. Each run imports a fresh copy of index.ts (a query string defeats the
 * ES module cache); the components are plain classes and may stay cached.
 */

export const SUBSCRIPTION = "00000000-1111-2222-3333-444444444444";
export const TENANT = "99999999-8888-7777-6666-555555555555";
export const DEPLOYER = "abcdefab-0000-4000-8000-000000000001";
export const ARM_TOKEN = "arm-token-of-the-deployer";
/** What getClientToken answers for the ACR audience. */
export const ACR_AUDIENCE_TOKEN = "acr-audience-token-of-the-deployer";
export const ACR_REFRESH_TOKEN = "acr-refresh-token";

export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const SIG_KEY = "4dabf18193072939515e22adb298388d";

export interface MockResource {
  type: string;
  name: string;
  urn: string;
  id: string;
  /** URNs of the resources it depends on (explicit dependsOn and inputs from other resources). */
  dependencies: string[];
  /** Pulumi's `protect` option. */
  protect: boolean;
  /** `<urn>::<id>` of an explicit provider; empty for the default one. */
  provider: string;
  /** URN of its parent; empty at the stack's root. */
  parent: string;
  /** URNs it is aliased to (its URNs in earlier versions of the program), as the SDK computes them with its parents' aliases. */
  aliases: string[];
  /** Inputs as the program gave them; a secret input is `{ [sig]: secret, value }`. */
  inputs: Record<string, any>;
  /** What the mock answered for it (ids, endpoints, digests). */
  state: Record<string, any>;
}

export interface ProgramRun {
  resources: MockResource[];
  outputs: Record<string, unknown>;
  /** Whether each stack output is a secret. */
  secretOutputs: Record<string, boolean>;
  /** Requests the program sent with fetch (the ACR token exchange). */
  fetches: { url: string; body: string }[];
  /** Provider functions the program invoked, with their arguments. */
  invokes: { token: string; inputs: Record<string, any> }[];
}

export interface Scenario {
  stack?: string;
  /** Values of `lithops-aca:*` keys (objects are passed as JSON, as the CLI does). */
  config?: Record<string, unknown>;
  /** Secret `lithops-aca:*` keys. */
  secrets?: Record<string, string>;
  /** `azure-native:location`; westeurope unless given. */
  location?: string;
  /** Leave out `azure-native:location`. */
  noLocation?: boolean;
  /** URL of the program module; a fresh import of ../index.ts by default. */
  program?: string;
  /** Run as `pulumi preview` does (`pulumi.runtime.isDryRun()`). */
  preview?: boolean;
  /** A program given as a function (returns its outputs) instead of a module. */
  inline?: () => Record<string, unknown>;
}

export function isSecretValue(value: unknown): value is { value: unknown } {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/** The plain value of a possibly secret input. */
export function reveal<T = any>(value: unknown): T {
  return (isSecretValue(value) ? value.value : value) as T;
}

const hex = (text: string, length: number) => createHash("sha256").update(text).digest("hex").slice(0, length);
const guidFrom = (text: string) => {
  const h = hex(text, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

/** What Azure would answer: ids, names, endpoints, digests computed from the inputs. */
function mockState(type: string, name: string, inputs: Record<string, any>): { id: string; state: Record<string, any> } {
  const rg = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${reveal(inputs.resourceGroupName) ?? "none"}`;
  switch (type) {
    case "azure-native:resources:ResourceGroup": {
      const groupName = inputs.resourceGroupName ?? `${name}${hex(name, 8)}`;
      return { id: `/subscriptions/${SUBSCRIPTION}/resourceGroups/${groupName}`, state: { ...inputs, name: groupName } };
    }
    case "azure-native:storage:StorageAccount": {
      const account = inputs.accountName;
      return {
        id: `${rg}/providers/Microsoft.Storage/storageAccounts/${account}`,
        state: {
          ...inputs,
          name: account,
          primaryEndpoints: { blob: `https://${account}.blob.core.windows.net/`, queue: `https://${account}.queue.core.windows.net/` },
        },
      };
    }
    case "azure-native:storage:BlobContainer":
      return {
        id: `${rg}/providers/Microsoft.Storage/storageAccounts/${inputs.accountName}/blobServices/default/containers/${inputs.containerName}`,
        state: { ...inputs, name: inputs.containerName },
      };
    case "azure-native:storage:Queue":
      return {
        id: `${rg}/providers/Microsoft.Storage/storageAccounts/${inputs.accountName}/queueServices/default/queues/${inputs.queueName}`,
        state: { ...inputs, name: inputs.queueName },
      };
    case "azure-native:managedidentity:UserAssignedIdentity":
      return {
        id: `${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${inputs.resourceName}`,
        state: {
          ...inputs,
          name: inputs.resourceName,
          clientId: guidFrom(`client:${inputs.resourceName}`),
          principalId: guidFrom(`principal:${inputs.resourceName}`),
        },
      };
    case "azure-native:containerregistry:Registry":
      return {
        id: `${rg}/providers/Microsoft.ContainerRegistry/registries/${inputs.registryName}`,
        state: { ...inputs, name: inputs.registryName, loginServer: `${inputs.registryName}.azurecr.io` },
      };
    case "azure-native:operationalinsights:Workspace":
      return { id: `${rg}/providers/Microsoft.OperationalInsights/workspaces/${name}`, state: { ...inputs, name, customerId: guidFrom(name) } };
    case "azure-native:resources:Resource":
      return {
        id: `${rg}/providers/${inputs.resourceProviderNamespace}/${inputs.resourceType}/${inputs.resourceName}`,
        state: { ...inputs, name: inputs.resourceName },
      };
    case "docker:index/image:Image": {
      // A digest that changes with anything that changes the build.
      const digest = hex(JSON.stringify({ imageName: inputs.imageName, build: inputs.build }), 64);
      const repository = String(inputs.imageName).replace(/:[^/:]+$/, "");
      return { id: `${repository}@sha256:${digest}`, state: { ...inputs, repoDigest: `${repository}@sha256:${digest}` } };
    }
    case "random:index/randomPassword:RandomPassword":
      return { id: name, state: { ...inputs, result: `generated-${hex(name, 40)}` } };
    default:
      return { id: `${name}-id`, state: inputs };
  }
}

function mockCall(token: string, inputs: Record<string, any>): Record<string, any> {
  switch (token) {
    case "azure-native:authorization:getClientConfig":
      return { subscriptionId: SUBSCRIPTION, tenantId: TENANT, objectId: DEPLOYER, clientId: "deployer-app" };
    case "azure-native:authorization:getClientToken":
      return { token: inputs.endpoint === "https://containerregistry.azure.net" ? ACR_AUDIENCE_TOKEN : ARM_TOKEN };
    case "azure-native:operationalinsights:getSharedKeys":
      return { primarySharedKey: "workspace-shared-key" };
    case "azure-native:containerregistry:getRegistry":
      return { loginServer: `${inputs.registryName}.azurecr.io`, id: `registry-${inputs.registryName}` };
    default:
      throw new Error(`unexpected invoke ${token}`);
  }
}

async function resolveOutput(value: unknown): Promise<{ value: unknown; secret: boolean }> {
  const output = pulumi.output(value as pulumi.Input<unknown>) as pulumi.Output<unknown>;
  const [resolved, secret] = await Promise.all([new Promise<unknown>((resolve) => output.apply((v) => resolve(v))), pulumi.isSecret(output)]);
  return { value: resolved, secret };
}

/** The parts of Pulumi's MockMonitor the harness wraps. */
interface RecordableMonitor {
  newUrn(parent: string, type: string, name: string): string;
  registerResource(request: any, callback: (error: unknown, response: unknown) => void): Promise<void>;
}

let runs = 0;

export async function runProgram(scenario: Scenario = {}): Promise<ProgramRun> {
  const stack = scenario.stack ?? "dev";
  const resources: MockResource[] = [];
  const fetches: ProgramRun["fetches"] = [];
  const invokes: ProgramRun["invokes"] = [];
  /** What only the registration request carries, keyed by type and name, picked up when the mock answers. */
  const registrations = new Map<string, Pick<MockResource, "urn" | "dependencies" | "protect" | "provider" | "parent" | "aliases">>();
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        const { id, state } = mockState(args.type, args.name, args.inputs);
        const registration = registrations.get(`${args.type}::${args.name}`) ?? {
          urn: "",
          dependencies: [],
          protect: false,
          provider: "",
          parent: "",
          aliases: [],
        };
        resources.push({ type: args.type, name: args.name, ...registration, id, inputs: args.inputs, state });
        return { id, state };
      },
      call: (args) => {
        invokes.push({ token: args.token, inputs: args.inputs });
        return mockCall(args.token, args.inputs);
      },
    },
    "lithops-aca",
    stack,
    scenario.preview ?? false,
    "organization",
  );
  // The mock monitor sees dependencies and options in the request only: record them before it answers.
  const monitor = pulumi.runtime.getMonitor() as unknown as RecordableMonitor;
  // The SDK then computes every alias as a URN, children's from their parents' (as the engine does with alias specs),
  // so a test can read them off the requests.
  (pulumiState as unknown as { getStore(): { supportsAliasSpecs: boolean } }).getStore().supportsAliasSpecs = false;
  // URNs as the engine makes them: the whole chain of ancestor types (the mock keeps only the parent's own type).
  monitor.newUrn = (parent, type, name) => {
    const parentChain = parent ? parent.split("::")[2]! : "";
    const chain = parentChain && parentChain !== "pulumi:pulumi:Stack" ? `${parentChain}$${type}` : type;
    return `urn:pulumi:${stack}::lithops-aca::${chain}::${name}`;
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (request, callback) => {
    registrations.set(`${request.getType()}::${request.getName()}`, {
      urn: monitor.newUrn(request.getParent(), request.getType(), request.getName()),
      dependencies: request.getDependenciesList(),
      protect: request.getProtect() ?? false,
      provider: request.getProvider() ?? "",
      parent: request.getParent() ?? "",
      aliases: request.getAliasurnsList(),
    });
    return register(request, callback);
  };
  const config: Record<string, string> = {};
  if (!scenario.noLocation) config["azure-native:location"] = scenario.location ?? "westeurope";
  for (const [key, value] of Object.entries(scenario.config ?? {})) {
    config[`lithops-aca:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
  }
  for (const [key, value] of Object.entries(scenario.secrets ?? {})) config[`lithops-aca:${key}`] = value;
  pulumi.runtime.setAllConfig(
    config,
    Object.keys(scenario.secrets ?? {}).map((k) => `lithops-aca:${k}`),
  );

  // The ACR token exchange is the program's only network request; answer it here.
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async (url: string | URL | Request, init?: RequestInit) => {
    fetches.push({ url: String(url), body: String(init?.body ?? "") });
    return new Response(JSON.stringify({ refresh_token: ACR_REFRESH_TOKEN }), { headers: { "content-type": "application/json" } });
  }) as typeof fetch;
  try {
    runs += 1;
    const program = scenario.inline ? scenario.inline() : ((await import(scenario.program ?? `../../index.ts?run=${runs}`)) as Record<string, unknown>);
    const outputs: Record<string, unknown> = {};
    const secretOutputs: Record<string, boolean> = {};
    for (const [key, value] of Object.entries(program)) {
      const resolved = await resolveOutput(value);
      outputs[key] = resolved.value;
      secretOutputs[key] = resolved.secret;
    }
    // Let every registration that is still in flight reach the mocks.
    await pulumi.runtime.disconnect();
    return { resources, outputs, secretOutputs, fetches, invokes };
  } finally {
    globalThis.fetch = realFetch;
  }
}

/** The error a config makes the program throw (fails the test if it loads). */
export async function programError(scenario: Scenario): Promise<Error> {
  try {
    await runProgram(scenario);
  } catch (error) {
    return error as Error;
  }
  throw new Error("the program accepted the configuration");
}

/**
 * A resource's kind: its Pulumi type token, or for a generic ARM resource its ARM type
 * (`Microsoft.App/containerApps`: the Container Apps resources are declared that way).
 */
export const kindOf = (r: MockResource): string =>
  r.type === "azure-native:resources:Resource" ? `${r.inputs.resourceProviderNamespace}/${r.inputs.resourceType}` : r.type;

/** The ARM properties of a generic resource (a Container App's `configuration`, `template`, ...), secrets revealed. */
export const armProperties = (r: MockResource): Record<string, any> => reveal(r.inputs.properties);

export const ofType = (run: ProgramRun, kind: string) => run.resources.filter((r) => kindOf(r) === kind);
export const named = (run: ProgramRun, name: string) => {
  const found = run.resources.find((r) => r.name === name);
  if (!found) throw new Error(`no resource named ${name}; have ${run.resources.map((r) => r.name).join(", ")}`);
  return found;
};

/**
 * The docker Image built from a Dockerfile (a path from the repository root): images are
 * built from a staged copy whose Dockerfile is the original text plus the worker layer.
 */
export function imageBuiltFrom(run: ProgramRun, dockerfile: string): MockResource {
  const original = readFileSync(resolve(import.meta.dirname, "../..", dockerfile), "utf8").trimEnd();
  const image = run.resources.find((r) => r.type === "docker:index/image:Image" && readFileSync(r.inputs.build.dockerfile, "utf8").startsWith(original));
  if (!image) throw new Error(`no image is built from ${dockerfile}`);
  return image;
}
