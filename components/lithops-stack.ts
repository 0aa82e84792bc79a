import * as azure from "@pulumi/azure-native";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { stringify } from "yaml";
import * as names from "../azure/resource-names.ts";
import { DEFAULT_JOB_CONTAINER } from "../azure/storage-names.ts";
import { NODE_MAJOR } from "../protocol/version.ts";
import { RuntimeEnvironment } from "./environment.ts";
import { RuntimeImage } from "./image.ts";
import { RuntimeRegistry, type RuntimeRegistryArgs } from "./registry.ts";
import { LithopsRuntime } from "./runtime.ts";
import { imageKey, imageResourceNames, loadStackConfig, type StackConfig } from "./stack-config.ts";
import { JobStorage, type PrincipalRef } from "./storage.ts";

export interface LithopsStackArgs {
  /** The validated stack config (`loadStackConfig()` reads it from the running stack). */
  config: StackConfig;
  /** Azure region of every resource. */
  location: string;
  /** Folder that Dockerfile paths in the config are relative to (the Pulumi project's root). */
  projectRoot: string;
  /** Docker Hub access token, when the config pushes to Docker Hub. */
  dockerHubToken?: pulumi.Input<string>;
}

export interface DeployedRuntime {
  name: string;
  image: pulumi.Output<string>;
  memory: number;
  queue: pulumi.Output<string>;
  poisonQueue: pulumi.Output<string>;
  appName: pulumi.Output<string>;
  /** A ready `az containerapp logs show` command for this runtime's workers. */
  logsCommand: pulumi.Output<string>;
}

/** What a lithops-aca stack exports: what the client needs, and a ready Lithops-style client config. */
export interface LithopsStackOutputs {
  resourceGroupName: pulumi.Output<string>;
  region: string;
  environmentId: pulumi.Output<string>;
  /** The Log Analytics workspace the workers log to; undefined with an existing environment. */
  logAnalyticsWorkspaceId: pulumi.Output<string> | undefined;
  storageAccountName: pulumi.Output<string>;
  containerName: pulumi.Output<string>;
  blobEndpoint: pulumi.Output<string>;
  queueEndpoint: pulumi.Output<string>;
  registryPrefix: pulumi.Output<string> | undefined;
  runtimes: DeployedRuntime[];
  /** Secret: holds the signing key. `pulumi stack output clientConfig --show-secrets > .lithops_config`. */
  clientConfig: pulumi.Output<string>;
}

/**
 * A whole lithops-aca stack from a config object: storage, environment, registry, images
 * and one runtime per configured (image, memory). The repository's own program is this
 * function over its stack config; a platform team can call it from theirs, or compose
 * the components themselves.
 */
export function lithopsStack(args: LithopsStackArgs): LithopsStackOutputs {
  const { config, location } = args;
  const stack = pulumi.getStack();
  // Cost tags first, so the stack's own tag cannot be overridden by them.
  const tags = { ...config.tags, lithops_stack: stack };

  const client = azure.authorization.getClientConfigOutput();
  const organization = pulumi.getOrganization();
  const suffix = client.subscriptionId.apply((subscription) => names.uniqueSuffix(subscription, organization, pulumi.getProject(), stack));

  const resourceGroupName: pulumi.Output<string> = config.resourceGroupName
    ? pulumi.output(config.resourceGroupName)
    : new azure.resources.ResourceGroup("lithops", { location, tags }).name;

  // Whoever runs the client gets data access; the deployer unless the stack names others.
  const clientPrincipals: PrincipalRef[] = config.clientPrincipalIds
    ? config.clientPrincipalIds.map((id) => ({ key: id, id }))
    : [{ key: "deployer", id: client.objectId }];

  const storage = new JobStorage("storage", {
    resourceGroupName,
    location,
    subscriptionId: client.subscriptionId,
    accountName: suffix.apply(names.storageAccountName),
    containerName: DEFAULT_JOB_CONTAINER,
    sku: config.storage.sku,
    jobDataRetentionDays: config.storage.jobDataRetentionDays,
    protect: config.storage.protect,
    clientPrincipals,
    tags,
  });

  const environment = new RuntimeEnvironment("environment", {
    resourceGroupName,
    location,
    environmentName: names.environmentName(stack),
    logRetentionDays: config.environment.logRetentionDays,
    existing: config.environment.id ? { id: config.environment.id, workloadProfileName: config.environment.workloadProfileName } : undefined,
    tags,
  });

  // Signs queue messages so a worker runs only calls from holders of this stack's key.
  const signingKey = new random.RandomPassword("signing-key", { length: 48, special: false });

  function registryArgs(): RuntimeRegistryArgs {
    const registry = config.registry;
    if (registry.type === "dockerhub") {
      if (!args.dockerHubToken) {
        throw new Error(
          `registry type dockerhub needs a Docker Hub access token to push: pass dockerHubToken to lithopsStack (lithopsStackFromConfig reads the secret ${pulumi.getProject()}:dockerHubToken)`,
        );
      }
      return { kind: "dockerhub", username: registry.username, namespace: registry.namespace, token: args.dockerHubToken };
    }
    const placement = { resourceGroupName, location, tags };
    if (registry.id) return { kind: "existing-acr", id: registry.id, ...placement };
    return {
      kind: "acr",
      registryName: suffix.apply(names.registryName),
      sku: registry.sku,
      untaggedRetentionDays: registry.untaggedRetentionDays,
      ...placement,
    };
  }

  // A registry whenever there are runtimes: built images are pushed to it, and an ACR serves
  // prebuilt ones through cache rules. Docker Hub is needed only to push.
  const needsRegistry = config.registry.type === "acr" ? config.runtimes.length > 0 : config.runtimes.some((r) => r.source.kind === "build");
  const registry = needsRegistry ? new RuntimeRegistry("registry", registryArgs()) : undefined;

  // One image per distinct source: the same image at two memory sizes is built once.
  const imageNames = imageResourceNames(config.runtimes.map((r) => r.source));
  const images = new Map<string, RuntimeImage>();
  const deployed = config.runtimes.map((spec) => {
    const key = imageKey(spec.source);
    let image = images.get(key);
    if (!image) {
      image = new RuntimeImage(imageNames.get(key)!, {
        source: spec.source,
        registry,
        nodeMajor: NODE_MAJOR,
        revision: spec.revision,
        projectRoot: args.projectRoot,
      });
      images.set(key, image);
    }
    const runtime = new LithopsRuntime(spec.resourceName, {
      spec,
      resourceGroupName,
      location,
      subscriptionId: client.subscriptionId,
      environmentId: environment.id,
      workloadProfileName: environment.workloadProfileName,
      storage,
      image: image.ref,
      // Everything comes from the stack's registry, except prebuilt images on a Docker Hub stack (pulled as is).
      pull: spec.source.kind === "build" || registry?.pull.kind === "identity" ? registry?.pull : undefined,
      signingKey: signingKey.result,
      clientPrincipals,
      tags,
      poisonAlert:
        config.poisonAlert && environment.workspaceId ? { workspaceId: environment.workspaceId, actionGroupId: config.poisonAlert.actionGroupId } : undefined,
    });
    return { spec, image, runtime };
  });

  const runtimes: DeployedRuntime[] = deployed.map(({ spec, image, runtime }) => ({
    name: spec.name,
    image: image.ref,
    memory: spec.memory,
    queue: runtime.queueName,
    poisonQueue: runtime.poisonQueueName,
    appName: runtime.appName,
    logsCommand: pulumi.interpolate`az containerapp logs show --resource-group ${resourceGroupName} --name ${runtime.appName} --follow`,
  }));

  // The first runtime is the client's default; a stack with no runtimes names none (the client's own default applies).
  const first = config.runtimes[0];
  const clientConfig = pulumi.secret(
    pulumi
      .all([
        signingKey.result,
        storage.accountName,
        storage.containerName,
        storage.blobEndpoint,
        storage.queueEndpoint,
        resourceGroupName,
        environment.id,
        pulumi.all(runtimes.map((r) => pulumi.all([r.queue, r.poisonQueue, r.appName]))),
      ])
      .apply(([key, account, container, blob, queue, group, environmentIdValue, deployedNames]) =>
        stringify({
          lithops: { backend: "azure_containers", storage: "azure_storage", signing_key: key },
          azure_storage: { storage_account_name: account, storage_bucket: container, blob_endpoint: blob, queue_endpoint: queue },
          azure_containers: {
            resource_group: group,
            region: location,
            environment_id: environmentIdValue,
            ...(first && {
              runtime: first.name,
              runtime_memory: first.memory,
              runtime_timeout: first.timeout,
              max_workers: first.maxWorkers,
              worker_processes: first.workerProcesses,
            }),
            runtimes: config.runtimes.map((spec, i) => ({
              name: spec.name,
              memory: spec.memory,
              queue: deployedNames[i]![0],
              poison_queue: deployedNames[i]![1],
              app: deployedNames[i]![2],
            })),
          },
        }),
      ),
  );

  return {
    resourceGroupName,
    region: location,
    environmentId: environment.id,
    logAnalyticsWorkspaceId: environment.workspaceId,
    storageAccountName: storage.accountName,
    containerName: storage.containerName,
    blobEndpoint: storage.blobEndpoint,
    queueEndpoint: storage.queueEndpoint,
    registryPrefix: registry?.repositoryPrefix,
    runtimes,
    clientConfig,
  };
}

/**
 * The program of a stack configured in its `Pulumi.<stack>.yaml` (the project's keys,
 * `azure-native:location`, the secret Docker Hub token): this repository's index.ts and the
 * command line's inline program are both this call.
 */
export function lithopsStackFromConfig(projectRoot: string): LithopsStackOutputs {
  const config = loadStackConfig(projectRoot);
  return lithopsStack({
    config,
    location: new pulumi.Config("azure-native").require("location"),
    projectRoot,
    dockerHubToken: config.registry.type === "dockerhub" ? new pulumi.Config().requireSecret("dockerHubToken") : undefined,
  });
}
