import * as azure from "@pulumi/azure-native";
import * as pulumi from "@pulumi/pulumi";
import { ENV } from "../protocol/env.ts";
import { containerMemoryString } from "../runtime-model/memory.ts";
import { PACKAGE_VERSION } from "../protocol/version.ts";
import { containerApp } from "./container-apps.ts";
import type { PullAccess } from "./registry.ts";
import { assignRole } from "./roles.ts";
import type { RuntimeSpec } from "./stack-config.ts";
import type { PrincipalRef } from "./storage.ts";

const SIGNING_KEY_SECRET = "signing-key";
const REGISTRY_PASSWORD_SECRET = "registry-password";

/** What a runtime needs of the job storage. */
export interface StorageRef {
  accountName: pulumi.Input<string>;
  containerName: pulumi.Input<string>;
  containerId: pulumi.Input<string>;
  blobEndpoint: pulumi.Input<string>;
  queueEndpoint: pulumi.Input<string>;
}

export interface LithopsRuntimeArgs {
  spec: RuntimeSpec;
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  subscriptionId: pulumi.Input<string>;
  environmentId: pulumi.Input<string>;
  /** Set when the environment has workload profiles. */
  workloadProfileName?: string;
  storage: StorageRef;
  /** Image reference; a digest for built images. */
  image: pulumi.Input<string>;
  /** How to pull the image: the stack registry's pull identity (or Docker Hub credentials); none for a public image pulled as is. */
  pull?: PullAccess;
  /** HMAC key the worker checks messages with (secret). */
  signingKey: pulumi.Input<string>;
  /** Whoever runs the client: may send to this runtime's queue and watch both queues. */
  clientPrincipals: PrincipalRef[];
  tags: Record<string, string>;
  /** Set to alert when this runtime moves a message to its poison queue. */
  poisonAlert?: { workspaceId: pulumi.Input<string>; actionGroupId: string };
}

/** Text every poison-queue move of the worker logs (worker/queue-consumer.ts); the alert searches for it. */
export const POISON_LOG_TEXT = "to the poison queue";

/**
 * One runtime (image + memory), as `lithops runtime deploy` makes it: its queue and
 * poison queue, a user-assigned identity with least-privilege roles, and a Container
 * App that KEDA scales from 0 to maxWorkers on the queue's length.
 */
export class LithopsRuntime extends pulumi.ComponentResource {
  readonly appName: pulumi.Output<string>;
  readonly queueName: pulumi.Output<string>;
  readonly poisonQueueName: pulumi.Output<string>;
  readonly identityClientId: pulumi.Output<string>;

  constructor(name: string, args: LithopsRuntimeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lithops-aca:index:LithopsRuntime", name, {}, opts);
    const { spec, storage } = args;
    const child = { parent: this };
    const tags = {
      ...args.tags,
      type: "lithops-runtime",
      runtime_name: spec.name,
      runtime_memory: String(spec.memory),
      lithops_version: PACKAGE_VERSION,
    };

    const queue = new azure.storage.Queue(
      `${name}-queue`,
      { queueName: spec.queue, accountName: storage.accountName, resourceGroupName: args.resourceGroupName },
      child,
    );
    const poison = new azure.storage.Queue(
      `${name}-poison`,
      { queueName: spec.poisonQueue, accountName: storage.accountName, resourceGroupName: args.resourceGroupName },
      child,
    );
    const identity = new azure.managedidentity.UserAssignedIdentity(
      `${name}-identity`,
      { resourceName: `${spec.resourceName}-id`, resourceGroupName: args.resourceGroupName, location: args.location, tags },
      child,
    );

    const worker = { principalId: identity.principalId, principalType: "ServicePrincipal" as const };
    const grants = [
      // Also what the KEDA scale rule reads the queue length with.
      assignRole(`${name}-queue-contributor`, { role: "queueDataContributor", scope: queue.id, ...worker }, args.subscriptionId, child),
      assignRole(`${name}-poison-sender`, { role: "queueDataMessageSender", scope: poison.id, ...worker }, args.subscriptionId, child),
      assignRole(`${name}-blob-contributor`, { role: "blobDataContributor", scope: storage.containerId, ...worker }, args.subscriptionId, child),
    ];
    // The stack's pull identity was granted AcrPull with the registry; the app waits for that grant too.
    if (args.pull?.kind === "identity") grants.push(args.pull.grant);
    for (const principal of args.clientPrincipals) {
      const client = { principalId: principal.id };
      const prefix = `${name}-client-${principal.key}`;
      assignRole(`${prefix}-send`, { role: "queueDataMessageSender", scope: queue.id, ...client }, args.subscriptionId, child);
      assignRole(`${prefix}-read`, { role: "queueDataReader", scope: queue.id, ...client }, args.subscriptionId, child);
      assignRole(`${prefix}-poison-read`, { role: "queueDataReader", scope: poison.id, ...client }, args.subscriptionId, child);
    }

    const secrets: azure.types.input.app.SecretArgs[] = [{ name: SIGNING_KEY_SECRET, value: pulumi.secret(args.signingKey) }];
    const registries: azure.types.input.app.RegistryCredentialsArgs[] = [];
    const identities: pulumi.Input<string>[] = [identity.id];
    if (args.pull?.kind === "identity") {
      identities.push(args.pull.identityId);
      registries.push({ server: args.pull.server, identity: args.pull.identityId });
    } else if (args.pull?.kind === "password") {
      secrets.push({ name: REGISTRY_PASSWORD_SECRET, value: args.pull.password });
      registries.push({ server: args.pull.server, username: args.pull.username, passwordSecretRef: REGISTRY_PASSWORD_SECRET });
    }

    // The worker reads exactly these (protocol/env.ts); it authenticates as the identity, no key or connection string.
    const env: azure.types.input.app.EnvironmentVarArgs[] = [
      { name: ENV.backend, value: "azure_containers" },
      { name: ENV.storageAccount, value: storage.accountName },
      { name: ENV.blobEndpoint, value: storage.blobEndpoint },
      { name: ENV.queueEndpoint, value: storage.queueEndpoint },
      { name: ENV.container, value: storage.containerName },
      { name: ENV.queue, value: queue.name },
      { name: ENV.poisonQueue, value: poison.name },
      { name: ENV.runtimeName, value: spec.name },
      { name: ENV.runtimeMemory, value: String(spec.memory) },
      { name: ENV.runtimeTimeout, value: String(spec.timeout) },
      { name: ENV.workerProcesses, value: String(spec.workerProcesses) },
      { name: ENV.idlePollMaxMs, value: String(spec.idlePollMaxMs) },
      // The worker fits its own stop into this, keeping its margin inside it.
      { name: ENV.terminationGrace, value: String(spec.terminationGracePeriodSeconds) },
      { name: ENV.signingKey, secretRef: SIGNING_KEY_SECRET },
      { name: ENV.azureClientId, value: identity.clientId },
    ];
    // `lithops-aca runtime update` bumps the revision: a changed template rolls a new revision, which pulls the image again.
    if (spec.revision > 0) env.push({ name: ENV.runtimeRevision, value: String(spec.revision) });

    const app = containerApp(
      `${name}-app`,
      {
        resourceName: spec.resourceName,
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        userAssignedIdentities: identities,
        tags,
        properties: {
          environmentId: args.environmentId,
          workloadProfileName: args.workloadProfileName,
          configuration: { activeRevisionsMode: azure.app.ActiveRevisionsMode.Single, secrets, registries },
          template: {
            containers: [
              {
                name: "worker",
                image: args.image,
                resources: { cpu: spec.cpu, memory: containerMemoryString(spec.memory) },
                env,
              },
            ],
            terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds,
            scale: {
              minReplicas: 0,
              maxReplicas: spec.maxWorkers,
              pollingInterval: spec.pollingInterval,
              cooldownPeriod: spec.cooldownPeriod,
              rules: [
                {
                  name: "queue-length",
                  azureQueue: {
                    accountName: storage.accountName,
                    queueName: queue.name,
                    // One message is one call (or batch) per worker process.
                    queueLength: spec.workerProcesses,
                    identity: identity.id,
                  },
                },
              ],
            },
          },
        },
      },
      // The first revision pulls the image and reads the queue as the identities: grant first.
      { parent: this, dependsOn: grants },
    );

    if (args.poisonAlert) {
      new azure.monitor.ScheduledQueryRule(
        `${name}-poison-alert`,
        {
          ruleName: `${spec.resourceName}-poison`,
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
                query: `ContainerAppConsoleLogs_CL | where ContainerAppName_s == "${spec.resourceName}" and Log_s has "${POISON_LOG_TEXT}"`,
                timeAggregation: azure.monitor.TimeAggregation.Count,
                operator: azure.monitor.ConditionOperator.GreaterThan,
                threshold: 0,
              },
            ],
          },
          actions: { actionGroups: [args.poisonAlert.actionGroupId] },
          tags,
        },
        { parent: this, dependsOn: [app] },
      );
    }

    this.appName = app.name;
    this.queueName = queue.name;
    this.poisonQueueName = poison.name;
    this.identityClientId = identity.clientId;
    this.registerOutputs({
      appName: this.appName,
      queueName: this.queueName,
      poisonQueueName: this.poisonQueueName,
      identityClientId: this.identityClientId,
    });
  }
}
