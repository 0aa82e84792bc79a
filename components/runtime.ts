import * as app from "@pulumi/azure-native/app/index.js";
import * as managedidentity from "@pulumi/azure-native/managedidentity/index.js";
import * as monitor from "@pulumi/azure-native/monitor/index.js";
import * as storage from "@pulumi/azure-native/storage/index.js";
import type * as inputs from "@pulumi/azure-native/types/input.js";
import * as pulumi from "@pulumi/pulumi";
import { ENV } from "../protocol/env.ts";
import { POISON_MARKER } from "../protocol/log-markers.ts";
import { PACKAGE_VERSION } from "../protocol/version.ts";
import { containerMemoryString } from "../runtime-model/memory.ts";
import { containerApp, containerAppJob } from "./container-apps.ts";
import { assignRole } from "./roles.ts";
import { parseRuntimeEntry, type RuntimeEntry, type RuntimeSpec, runsAsJob } from "./stack-config.ts";
import type { PrincipalRef } from "./storage.ts";

const SIGNING_KEY_SECRET = "signing-key";
const REGISTRY_PASSWORD_SECRET = "registry-password";
/** KEDA's Azure Storage Queue scaler (https://keda.sh/docs/latest/scalers/azure-storage-queue/). */
export const AZURE_QUEUE_SCALER = "azure-queue";
/** Seconds a job execution gets beyond the call timeout: the image pull, the worker's start and storing the outcome. */
const JOB_MARGIN_SECONDS = 300;

/** What a runtime needs of the job storage. */
export interface StorageRef {
  /** The storage account's name. */
  accountName: pulumi.Input<string>;
  /** The job data container's name. */
  containerName: pulumi.Input<string>;
  /** The job data container's resource id (the scope of the worker's blob role). */
  containerId: pulumi.Input<string>;
  /** The account's blob endpoint, e.g. `https://<account>.blob.core.windows.net/`. */
  blobEndpoint: pulumi.Input<string>;
  /** The account's queue endpoint, e.g. `https://<account>.queue.core.windows.net/`. */
  queueEndpoint: pulumi.Input<string>;
}

/** Where the runtime's image is pulled from, when it is not public. */
export interface RegistryPull {
  /** The registry's login server, e.g. `myregistry.azurecr.io` or `docker.io`. */
  server: pulumi.Input<string>;
  /** A user-assigned identity (resource id) with AcrPull on the registry; set this, or username and password. */
  identityId?: pulumi.Input<string>;
  /** User name for a registry reached with a password (Docker Hub). */
  username?: string;
  /** Password or access token for `username` (kept secret). */
  password?: pulumi.Input<string>;
}

/** Where the poison-queue alert looks and whom it tells. */
export interface PoisonAlertTarget {
  /** The Log Analytics workspace (resource id) the environment sends console logs to, in the `ContainerAppConsoleLogs` table. */
  workspaceId: pulumi.Input<string>;
  /** The action group (resource id) the alert notifies. */
  actionGroupId: string;
}

export interface LithopsRuntimeArgs {
  /** The runtime, as an entry of the stack config's `runtimes` list (`{ name, memory, timeout, maxWorkers, ... }`), with the same defaults. */
  runtime: RuntimeEntry;
  /** Resource group of the runtime's identity, app or job, and alert. */
  resourceGroupName: pulumi.Input<string>;
  /** Azure region. */
  location: pulumi.Input<string>;
  /** Subscription of the role definitions the runtime's grants use. */
  subscriptionId: pulumi.Input<string>;
  /** The Container Apps environment (resource id) the runtime runs in. */
  environmentId: pulumi.Input<string>;
  /** Workload profile to place the runtime on; set it for a workload-profiles environment (the stack's own uses `Consumption`). */
  workloadProfileName?: string;
  /** The job storage the runtime's queues are created in. */
  storage: StorageRef;
  /** Image reference; a digest for built images. */
  image: pulumi.Input<string>;
  /** How to pull the image; none for a public image pulled as is. */
  registry?: RegistryPull;
  /** HMAC key the worker checks messages with (kept secret). */
  signingKey: pulumi.Input<string>;
  /** Whoever runs the client: may send to this runtime's queue and watch both queues. */
  clientPrincipals: PrincipalRef[];
  /** Tags of the runtime's identity, app or job, and alert, beside the runtime's own (`type`, `runtime_name`, ...). */
  tags?: { [name: string]: string };
  /** Set to alert when this runtime moves a message to its poison queue. */
  poisonAlert?: PoisonAlertTarget;
  /** Base of the runtime's Azure names (app or job, identity, alert); `lithops-<name>-<memory>` by default. */
  azureName?: string;
}

/**
 * The poison alert's query. It reads `ContainerAppConsoleLogs`, the table an environment whose
 * logs go to Azure Monitor (diagnostic settings) writes to: a built-in table that exists in
 * every workspace from its creation, so Azure Monitor's check of the query at rule creation
 * passes on a fresh stack (https://learn.microsoft.com/azure/azure-monitor/reference/tables/containerappconsolelogs).
 * A job's executions log under the job's name, as an app's replicas under the app's. It matches
 * the structured marker every poison-queue move of the worker logs (protocol/log-markers.ts).
 */
export function poisonAlertQuery(azureName: string): string {
  return `ContainerAppConsoleLogs | where ContainerAppName == "${azureName}" and Log has "${POISON_MARKER}"`;
}

/**
 * One runtime (image + memory), as `lithops runtime deploy` makes it: its queue and poison
 * queue, a user-assigned identity with least-privilege roles, and what runs its calls. Up to a
 * 600 s timeout that is a Container App that KEDA scales from 0 to maxWorkers on the queue's
 * length. Above it, a stopping app replica could not finish a call (Azure gives it at most
 * 600 s), so the runtime is an event-driven Container Apps Job instead: one execution per
 * message, at most maxWorkers at once, each running one call to its end (no scale-in).
 */
export class LithopsRuntime extends pulumi.ComponentResource {
  /** The Container App's or the Job's name. */
  readonly appName: pulumi.Output<string>;
  /** `app` (a Container App) or `job` (a Container Apps Job, for a timeout above 600 s). */
  readonly kind: pulumi.Output<string>;
  readonly queueName: pulumi.Output<string>;
  readonly poisonQueueName: pulumi.Output<string>;
  readonly identityClientId: pulumi.Output<string>;

  constructor(name: string, args: LithopsRuntimeArgs, opts?: pulumi.ComponentResourceOptions) {
    // Validated before the component registers, so a bad entry leaves nothing behind.
    const spec = parseRuntimeEntry(args.runtime, `LithopsRuntime(${JSON.stringify(name)}) args.runtime`);
    super("lithops-aca:index:LithopsRuntime", name, {}, opts);
    const azureName = args.azureName ?? spec.resourceName;
    const asJob = runsAsJob(spec);
    const jobStorage = args.storage;
    const child = { parent: this };
    const tags = {
      ...args.tags,
      type: "lithops-runtime",
      runtime_name: spec.name,
      runtime_memory: String(spec.memory),
      lithops_version: PACKAGE_VERSION,
    };

    const queue = new storage.Queue(
      `${name}-queue`,
      { queueName: spec.queue, accountName: jobStorage.accountName, resourceGroupName: args.resourceGroupName },
      child,
    );
    const poison = new storage.Queue(
      `${name}-poison`,
      { queueName: spec.poisonQueue, accountName: jobStorage.accountName, resourceGroupName: args.resourceGroupName },
      child,
    );
    const identity = new managedidentity.UserAssignedIdentity(
      `${name}-identity`,
      { resourceName: `${azureName}-id`, resourceGroupName: args.resourceGroupName, location: args.location, tags },
      child,
    );

    const worker = { principalId: identity.principalId, principalType: "ServicePrincipal" as const };
    const grants: pulumi.Resource[] = [
      // Also what the KEDA scale rule reads the queue length with.
      assignRole(`${name}-queue-contributor`, { role: "queueDataContributor", scope: queue.id, ...worker }, args.subscriptionId, child),
      assignRole(`${name}-poison-sender`, { role: "queueDataMessageSender", scope: poison.id, ...worker }, args.subscriptionId, child),
      assignRole(`${name}-blob-contributor`, { role: "blobDataContributor", scope: jobStorage.containerId, ...worker }, args.subscriptionId, child),
    ];
    for (const principal of args.clientPrincipals) {
      const client = { principalId: principal.id };
      const prefix = `${name}-client-${principal.key}`;
      assignRole(`${prefix}-send`, { role: "queueDataMessageSender", scope: queue.id, ...client }, args.subscriptionId, child);
      assignRole(`${prefix}-read`, { role: "queueDataReader", scope: queue.id, ...client }, args.subscriptionId, child);
      assignRole(`${prefix}-poison-read`, { role: "queueDataReader", scope: poison.id, ...client }, args.subscriptionId, child);
    }

    const secrets: inputs.app.SecretArgs[] = [{ name: SIGNING_KEY_SECRET, value: pulumi.secret(args.signingKey) }];
    const registries: inputs.app.RegistryCredentialsArgs[] = [];
    const identities: pulumi.Input<string>[] = [identity.id];
    const pull = args.registry;
    if (pull?.identityId) {
      identities.push(pull.identityId);
      registries.push({ server: pull.server, identity: pull.identityId });
    } else if (pull?.username && pull.password) {
      secrets.push({ name: REGISTRY_PASSWORD_SECRET, value: pulumi.secret(pull.password) });
      registries.push({ server: pull.server, username: pull.username, passwordSecretRef: REGISTRY_PASSWORD_SECRET });
    }

    const container = {
      name: "worker",
      image: args.image,
      resources: { cpu: spec.cpu, memory: containerMemoryString(spec.memory) },
      env: workerEnv(spec, { storage: jobStorage, queue: queue.name, poison: poison.name, identityClientId: identity.clientId, asJob }),
    };
    // KEDA reads the queue length as the runtime's identity: no connection string anywhere.
    const queueTrigger = { accountName: jobStorage.accountName, queueName: queue.name, identity: identity.id };
    const placement = {
      resourceName: azureName,
      resourceGroupName: args.resourceGroupName,
      location: args.location,
      userAssignedIdentities: identities,
      tags,
    };
    // The first revision or execution pulls the image and reads the queue as the identities: grant first
    // (and wait for what the runtime itself was told to wait for: the stack's pull grant).
    const runnerOpts = { parent: this, dependsOn: [...grants, ...dependencies(opts)] };

    const runner = asJob
      ? containerAppJob(
          `${name}-job`,
          {
            ...placement,
            properties: {
              environmentId: args.environmentId,
              workloadProfileName: args.workloadProfileName,
              configuration: {
                triggerType: "Event",
                // The whole call, with the image pull, the worker's start and the outcome's upload around it.
                replicaTimeout: spec.timeout + JOB_MARGIN_SECONDS,
                // A failed execution is not rerun: the message comes back to the queue, and its delivery count decides.
                replicaRetryLimit: 0,
                eventTriggerConfig: {
                  parallelism: 1,
                  replicaCompletionCount: 1,
                  scale: {
                    minExecutions: 0,
                    maxExecutions: spec.maxWorkers,
                    pollingInterval: spec.pollingInterval,
                    rules: [
                      {
                        name: "queue-length",
                        type: AZURE_QUEUE_SCALER,
                        // One execution per message: each takes one message and exits.
                        metadata: { accountName: queueTrigger.accountName, queueName: queueTrigger.queueName, queueLength: "1" },
                        identity: queueTrigger.identity,
                      },
                    ],
                  },
                },
                secrets,
                registries,
              },
              template: { containers: [container] },
            },
          },
          runnerOpts,
        )
      : containerApp(
          `${name}-app`,
          {
            ...placement,
            properties: {
              environmentId: args.environmentId,
              workloadProfileName: args.workloadProfileName,
              configuration: { activeRevisionsMode: app.ActiveRevisionsMode.Single, secrets, registries },
              template: {
                containers: [container],
                terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds,
                scale: {
                  minReplicas: 0,
                  maxReplicas: spec.maxWorkers,
                  pollingInterval: spec.pollingInterval,
                  cooldownPeriod: spec.cooldownPeriod,
                  rules: [
                    {
                      name: "queue-length",
                      // One message is one call (or batch) per worker process.
                      azureQueue: { ...queueTrigger, queueLength: spec.workerProcesses },
                    },
                  ],
                },
              },
            },
          },
          runnerOpts,
        );

    if (args.poisonAlert) {
      new monitor.ScheduledQueryRule(
        `${name}-poison-alert`,
        {
          ruleName: `${azureName}-poison`,
          resourceGroupName: args.resourceGroupName,
          location: args.location,
          description: `Runtime ${spec.name} (${spec.memory} MB) moved a message to its poison queue ${spec.poisonQueue}`,
          severity: 2,
          enabled: true,
          scopes: [args.poisonAlert.workspaceId],
          evaluationFrequency: "PT15M",
          windowSize: "PT15M",
          criteria: {
            allOf: [
              {
                query: poisonAlertQuery(azureName),
                timeAggregation: monitor.TimeAggregation.Count,
                // The scheduled-query-rule API's own operator enum (not the metric alerts' `gt`).
                operator: monitor.Operator.GreaterThan,
                threshold: 0,
              },
            ],
          },
          actions: { actionGroups: [args.poisonAlert.actionGroupId] },
          tags,
        },
        { parent: this, dependsOn: [runner] },
      );
    }

    this.appName = runner.name;
    this.kind = pulumi.output(asJob ? "job" : "app");
    this.queueName = queue.name;
    this.poisonQueueName = poison.name;
    this.identityClientId = identity.clientId;
    this.registerOutputs({
      appName: this.appName,
      kind: this.kind,
      queueName: this.queueName,
      poisonQueueName: this.poisonQueueName,
      identityClientId: this.identityClientId,
    });
  }
}

/** The resources a component was told to depend on, for its children that must wait for them too. */
function dependencies(opts: pulumi.ComponentResourceOptions | undefined): pulumi.Resource[] {
  const dependsOn = opts?.dependsOn;
  if (!dependsOn) return [];
  const list = Array.isArray(dependsOn) ? dependsOn : [dependsOn];
  return list.filter((d): d is pulumi.Resource => pulumi.Resource.isInstance(d));
}

interface WorkerPlacement {
  storage: StorageRef;
  queue: pulumi.Input<string>;
  poison: pulumi.Input<string>;
  identityClientId: pulumi.Input<string>;
  asJob: boolean;
}

/** The worker reads exactly these (protocol/env.ts); it authenticates as the identity, no key or connection string. */
function workerEnv(spec: RuntimeSpec, at: WorkerPlacement): inputs.app.EnvironmentVarArgs[] {
  const env: inputs.app.EnvironmentVarArgs[] = [
    { name: ENV.backend, value: "azure_containers" },
    { name: ENV.storageAccount, value: at.storage.accountName },
    { name: ENV.blobEndpoint, value: at.storage.blobEndpoint },
    { name: ENV.queueEndpoint, value: at.storage.queueEndpoint },
    { name: ENV.container, value: at.storage.containerName },
    { name: ENV.queue, value: at.queue },
    { name: ENV.poisonQueue, value: at.poison },
    { name: ENV.runtimeName, value: spec.name },
    { name: ENV.runtimeMemory, value: String(spec.memory) },
    { name: ENV.runtimeTimeout, value: String(spec.timeout) },
    { name: ENV.workerProcesses, value: String(spec.workerProcesses) },
    { name: ENV.idlePollMaxMs, value: String(spec.idlePollMaxMs) },
    // The worker fits its own stop into this, keeping its margin inside it.
    { name: ENV.terminationGrace, value: String(spec.terminationGracePeriodSeconds) },
    { name: ENV.signingKey, secretRef: SIGNING_KEY_SECRET },
    { name: ENV.azureClientId, value: at.identityClientId },
  ];
  if (at.asJob) env.push({ name: ENV.oneMessage, value: "1" });
  // `lithops-aca runtime update` bumps the revision: a changed template rolls a new revision, which pulls the image again.
  if (spec.revision > 0) env.push({ name: ENV.runtimeRevision, value: String(spec.revision) });
  return env;
}
