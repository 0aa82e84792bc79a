import { pathToFileURL } from "node:url";
import { readFileSync } from "node:fs";
import { Ajv, type ValidateFunction } from "ajv";
import { isSecretValue, type MockResource, type ProgramRun } from "./pulumi-harness.ts";
import { repoPath } from "./package-paths.ts";

/**
 * Azure's contracts for the request bodies the Pulumi program sends where the SDK's types do
 * not check them: the generic `azure-native:resources:Resource` Container Apps and Jobs, the
 * scheduled query rule's `string | enum` fields, KEDA scale-rule metadata and role
 * definition ids. Two kinds of check: Azure's published REST API definitions for the API
 * version each resource uses (test/pulumi/azure-specs/, validated with ajv), and the limits
 * Microsoft documents that those definitions do not carry, each with its source.
 */

const SPECS = pathToFileURL(repoPath("test/pulumi/azure-specs/"));
const spec = (file: string) => JSON.parse(readFileSync(new URL(file, SPECS), "utf8")) as { definitions: Record<string, object> };

/**
 * Swagger 2.0 definitions are JSON Schema draft-04 with extensions: `x-ms-*` (and this folder's
 * `x-source`, `x-extract`) are unknown keywords to ajv, so strict mode is off. Every object the
 * definitions describe is closed here (`additionalProperties: false` unless the definition says
 * otherwise), so a key the API does not define, e.g. a misspelling, fails too.
 */
function closed(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closed);
  if (typeof schema !== "object" || schema === null) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema))
    out[key] = key === "properties" ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, closed(v)])) : closed(value);
  // allOf-composed definitions (Container = BaseContainer + probes) are closed over the union below.
  if (out.properties && !("additionalProperties" in out) && !out.allOf) out.additionalProperties = false;
  return out;
}

/** Flattens `allOf` of local refs into one closed object, so the union of properties is what is allowed. */
function inlineAllOf(definitions: Record<string, any>): Record<string, any> {
  const out: Record<string, any> = {};
  for (const [name, def] of Object.entries(definitions)) {
    if (!def.allOf) {
      out[name] = def;
      continue;
    }
    const parts = def.allOf.map((part: { $ref: string }) => definitions[part.$ref.replace("#/definitions/", "")]);
    const { allOf: _allOf, ...own } = def;
    out[name] = { ...own, properties: Object.assign({}, ...parts.map((p: any) => p.properties), def.properties), additionalProperties: false };
  }
  return out;
}

/** ISO 8601 durations as the alert's `format: duration` fields take them, e.g. `PT15M`, `P1D`. */
const ISO_DURATION = /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/;

function validator(file: string, root: string): ValidateFunction {
  const ajv = new Ajv({ strict: false, allErrors: true, logger: false });
  ajv.addFormat("duration", ISO_DURATION);
  const definitions = closed(inlineAllOf(spec(file).definitions));
  return ajv.compile({ definitions, $ref: `#/definitions/${root}` });
}

const APP_SPEC = "microsoft-app-2025-07-01.json";
const ALERT_SPEC = "microsoft-insights-scheduledqueryrules-2025-01-01-preview.json";
const validators = {
  app: validator(APP_SPEC, "ContainerAppProperties"),
  job: validator(APP_SPEC, "JobProperties"),
  alert: validator(ALERT_SPEC, "ScheduledQueryRuleProperties"),
};

/** What of the scheduled query rule's inputs goes to ARM as `properties` (the rest is the URL, location and tags). */
const ALERT_ENVELOPE = new Set(["ruleName", "resourceGroupName", "location", "tags", "kind", "identity"]);

/** Built-in role definition ids (Azure built-in roles, learn.microsoft.com/azure/role-based-access-control/built-in-roles). */
export const BUILT_IN_ROLES: Record<string, string> = {
  "7f951dda-4ed3-4680-a7ca-43fe172d538d": "AcrPull",
  "974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor",
  "8a0f0c08-91a1-4084-bc3d-661d67233fed": "Storage Queue Data Message Processor",
  "c6a89b2d-59bc-44d0-9896-0f6e12d7b80a": "Storage Queue Data Message Sender",
  "19e7f393-937e-4f77-808e-94535e297925": "Storage Queue Data Reader",
  "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "Storage Blob Data Contributor",
  "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1": "Storage Blob Data Reader",
};

/**
 * KEDA's Azure Storage Queue scaler's trigger metadata (keda.sh/docs/latest/scalers/azure-storage-queue/):
 * every value a string, `queueName` required, `queueLength` a positive whole number.
 */
const AZURE_QUEUE_METADATA = new Set([
  "queueName",
  "queueLength",
  "activationQueueLength",
  "connectionFromEnv",
  "accountName",
  "cloud",
  "endpointSuffix",
  "queueLengthStrategy",
]);

/** One request body as Azure receives it: secrets revealed, the generic resource's identity list as ARM's map. */
export interface Body {
  kind: "app" | "job" | "alert" | "role";
  name: string;
  body: Record<string, any>;
}

function revealDeep(value: unknown): any {
  const plain = isSecretValue(value) ? value.value : value;
  if (Array.isArray(plain)) return plain.map(revealDeep);
  if (typeof plain === "object" && plain !== null) return Object.fromEntries(Object.entries(plain).map(([k, v]) => [k, revealDeep(v)]));
  return plain;
}

function armBody(r: MockResource): Record<string, any> {
  const inputs = revealDeep(r.inputs);
  const ids: string[] = inputs.identity?.userAssignedIdentities ?? [];
  return {
    name: inputs.resourceName,
    identity: inputs.identity && { type: inputs.identity.type, userAssignedIdentities: Object.fromEntries(ids.map((id) => [id, {}])) },
    properties: inputs.properties,
  };
}

/** Every body of the run the checks apply to. */
export function bodiesOf(run: ProgramRun): Body[] {
  const bodies: Body[] = [];
  for (const r of run.resources) {
    if (r.type === "azure-native:resources:Resource" && (r.inputs.resourceType === "containerApps" || r.inputs.resourceType === "jobs")) {
      bodies.push({ kind: r.inputs.resourceType === "jobs" ? "job" : "app", name: r.name, body: armBody(r) });
    } else if (r.type === "azure-native:monitor:ScheduledQueryRule") {
      bodies.push({ kind: "alert", name: r.name, body: revealDeep(r.inputs) });
    } else if (r.type === "azure-native:authorization:RoleAssignment") {
      bodies.push({ kind: "role", name: r.name, body: revealDeep(r.inputs) });
    }
  }
  return bodies;
}

export type CheckName =
  | "api-definition"
  | "cpu-memory"
  | "name"
  | "grace-period"
  | "max-replicas"
  | "scale-rule-identity"
  | "keda-azure-queue-metadata"
  | "role-definition-id";

export interface Problem {
  check: CheckName;
  body: string;
  message: string;
}

const ajvProblems = (validate: ValidateFunction, value: unknown): string[] =>
  validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ""}`);

/**
 * Container Apps' cpu/memory pairs ("Containers in Azure Container Apps", Allocations;
 * "Workload profiles in Azure Container Apps"): memory is twice the vCPU in Gi, vCPU in steps
 * of 0.25; a Consumption-only environment takes 0.25/0.5Gi up to 2/4Gi, the Consumption
 * profile of a workload-profiles environment up to 4/8Gi.
 */
function cpuMemoryProblems(properties: any): string[] {
  const problems: string[] = [];
  for (const container of properties?.template?.containers ?? []) {
    const cpu = Number(container.resources?.cpu);
    const memory = String(container.resources?.memory);
    const gi = /^(\d+(?:\.\d+)?)Gi$/.exec(memory);
    if (!gi || Number(gi[1]) !== cpu * 2 || !Number.isInteger(cpu * 4) || cpu < 0.25) {
      problems.push(`container ${container.name}: cpu ${cpu} with memory ${memory} is not a Container Apps pair (0.25 vCPU per 0.5Gi)`);
    } else if (cpu > 4) {
      problems.push(`container ${container.name}: ${cpu} vCPU is above the Consumption profile's 4 vCPU / 8Gi`);
    } else if (cpu > 2 && !properties.workloadProfileName) {
      problems.push(
        `container ${container.name}: ${cpu} vCPU / ${memory} needs a workload-profiles environment (workloadProfileName unset; Consumption-only takes up to 2 vCPU / 4Gi)`,
      );
    }
  }
  return problems;
}

/** "Naming rules and restrictions for Azure resources", Microsoft.App: 2-32 lowercase letters, digits and single hyphens, starting with a letter, ending with a letter or digit. */
const CONTAINER_APP_NAME = /^[a-z](?!.*--)[a-z0-9-]{0,30}[a-z0-9]$/;

export function check(body: Body): Problem[] {
  const problems: Problem[] = [];
  const add = (name: CheckName, messages: string[]) => {
    for (const message of messages) problems.push({ check: name, body: body.name, message });
  };
  const b = body.body;
  if (body.kind === "app" || body.kind === "job") {
    add("api-definition", ajvProblems(body.kind === "app" ? validators.app : validators.job, b.properties));
    add("cpu-memory", cpuMemoryProblems(b.properties));
    if (!CONTAINER_APP_NAME.test(String(b.name)))
      add("name", [`${JSON.stringify(b.name)}: use 2-32 lowercase letters, digits and single hyphens, starting with a letter`]);
    const identities = new Set(Object.keys(b.identity?.userAssignedIdentities ?? {}));
    const systemAssigned = String(b.identity?.type ?? "").includes("SystemAssigned");
    const rules: any[] =
      body.kind === "app"
        ? (b.properties?.template?.scale?.rules ?? []).map((r: any) => ({ name: r.name, identity: (r.azureQueue ?? r.custom)?.identity }))
        : (b.properties?.configuration?.eventTriggerConfig?.scale?.rules ?? []);
    // "Set scaling rules in Azure Container Apps" (managed identity): a user-assigned identity's resource id the app has, or 'system'.
    for (const rule of rules) {
      if (rule.identity === undefined) continue;
      const ok = rule.identity === "system" ? systemAssigned : identities.has(rule.identity);
      if (!ok)
        add("scale-rule-identity", [
          `scale rule ${rule.name}: identity ${JSON.stringify(rule.identity)} is not an identity of the ${body.kind} (${[...identities].join(", ") || "none"})`,
        ]);
    }
    if (body.kind === "app") {
      const grace = b.properties?.template?.terminationGracePeriodSeconds;
      // "Application lifecycle management in Azure Container Apps" (Shutdown): at most 600 s.
      if (grace !== undefined && grace > 600) add("grace-period", [`terminationGracePeriodSeconds ${grace} is above Azure's 600 s`]);
      const max = b.properties?.template?.scale?.maxReplicas;
      // "Quotas for Azure Container Apps" / "Set scaling rules": at most 1,000 replicas per revision.
      if (max !== undefined && max > 1000) add("max-replicas", [`maxReplicas ${max} is above Azure's 1,000`]);
    } else {
      for (const rule of rules) {
        if (rule.type !== "azure-queue") continue;
        const metadata: Record<string, unknown> = rule.metadata ?? {};
        const bad = Object.entries(metadata).filter(([k, v]) => !AZURE_QUEUE_METADATA.has(k) || typeof v !== "string");
        const messages = bad.map(
          ([k, v]) => `scale rule ${rule.name}: metadata ${k}=${JSON.stringify(v)} is not a string value of a key the azure-queue scaler reads`,
        );
        if (typeof metadata.queueName !== "string") messages.push(`scale rule ${rule.name}: azure-queue needs metadata.queueName`);
        if (metadata.queueLength !== undefined && !/^[1-9]\d*$/.test(String(metadata.queueLength)))
          messages.push(`scale rule ${rule.name}: queueLength ${JSON.stringify(metadata.queueLength)} is not a positive whole number`);
        add("keda-azure-queue-metadata", messages);
      }
    }
  } else if (body.kind === "alert") {
    add("api-definition", ajvProblems(validators.alert, Object.fromEntries(Object.entries(b).filter(([k]) => !ALERT_ENVELOPE.has(k)))));
  } else {
    const id = String(b.roleDefinitionId);
    const guid = /^\/subscriptions\/[^/]+\/providers\/Microsoft\.Authorization\/roleDefinitions\/([0-9a-f-]{36})$/.exec(id)?.[1];
    if (!guid || !BUILT_IN_ROLES[guid])
      add("role-definition-id", [`${id} is not a built-in role the stack means to grant (${Object.values(BUILT_IN_ROLES).join(", ")})`]);
  }
  return problems;
}

/** Every problem of every body of a run. */
export const contractProblems = (run: ProgramRun): Problem[] => bodiesOf(run).flatMap(check);
