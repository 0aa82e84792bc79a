import { pathToFileURL } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import * as pulumiState from "@pulumi/pulumi/runtime/state.js";
import { ACR_REFRESH_TOKEN, type MockResource, mockCall, mockState, type ProgramRun, type Scenario } from "./pulumi-mock-azure.ts";
import { runningModule } from "./package-paths.ts";

/**
 * Runs the Pulumi program (index.ts) against Pulumi's mocks for one stack config, in the
 * calling thread, and returns every resource it declared (with the inputs it gave them)
 * and its resolved stack outputs. Each run imports a fresh copy of index.ts (a query
 * string defeats the ES module cache); the components are plain classes and may stay
 * cached. Tests call it through pulumi-harness.ts, which runs it in a worker thread.
 */

async function resolveOutput(value: unknown): Promise<{ value: unknown; secret: boolean }> {
  const output = pulumi.output(value as pulumi.Input<unknown>) as pulumi.Output<unknown>;
  const [resolved, secret] = await Promise.all([new Promise<unknown>((resolve) => output.apply((v) => resolve(v))), pulumi.isSecret(output)]);
  return { value: resolved, secret };
}

/** Runs so far in this thread: each run of index.ts imports a fresh copy. */
let runs = 0;

/** Runs the scenario's program; returns its outputs. */
async function declare(scenario: Scenario): Promise<Record<string, unknown>> {
  if (scenario.inline) return scenario.inline();
  runs += 1;
  const module = (await import(scenario.program ?? `${pathToFileURL(runningModule("index")).href}?run=${runs}`)) as Record<string, unknown>;
  if (scenario.programFunction === undefined) return module;
  return (module[scenario.programFunction] as () => Record<string, unknown>)();
}

/** The parts of Pulumi's MockMonitor the harness wraps. */
interface RecordableMonitor {
  newUrn(parent: string, type: string, name: string): string;
  registerResource(request: any, callback: (error: unknown, response: unknown) => void): Promise<void>;
}

export async function runProgramHere(scenario: Scenario = {}): Promise<ProgramRun> {
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
    const program = await declare(scenario);
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
  } catch (error) {
    // A program that failed half way has registrations in flight: let them finish against
    // the mocks (and this fetch), so they cannot disturb the next run in this thread.
    await pulumi.runtime.disconnect().catch(() => undefined);
    throw error;
  } finally {
    globalThis.fetch = realFetch;
  }
}
