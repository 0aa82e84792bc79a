import { fileURLToPath } from "node:url";
import * as azure from "@pulumi/azure-native";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { stringify } from "yaml";
import { NODE_MAJOR } from "./protocol/version.ts";
import { RuntimeEnvironment } from "./components/environment.ts";
import { RuntimeImage } from "./components/image.ts";
import * as names from "./components/names.ts";
import { RuntimeRegistry, type RuntimeRegistryArgs } from "./components/registry.ts";
import { LithopsRuntime } from "./components/runtime.ts";
import { DEFAULT_JOB_CONTAINER, loadStackConfig, type ImageSource } from "./components/stack-config.ts";
import { JobStorage, type PrincipalRef } from "./components/storage.ts";

/**
 * The lithops-aca stack: stack config -> storage, environment, registry, images and one
 * runtime per configured (image, memory) -> what the client needs, as outputs.
 */
const projectRoot = fileURLToPath(new URL(".", import.meta.url));
const config = loadStackConfig(projectRoot);
const location = new pulumi.Config("azure-native").require("location");
const stack = pulumi.getStack();
const tags = { lithops_stack: stack };

const client = azure.authorization.getClientConfigOutput();
const organization = pulumi.getOrganization();
const suffix = client.subscriptionId.apply((subscription) =>
  names.uniqueSuffix(subscription, organization, pulumi.getProject(), stack),
);

export const resourceGroupName: pulumi.Output<string> = config.resourceGroupName
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
  clientPrincipals,
  tags,
});

const environment = new RuntimeEnvironment("environment", {
  resourceGroupName,
  location,
  environmentName: names.environmentName(stack),
  logRetentionDays: config.environment.logRetentionDays,
  existing: config.environment.id
    ? { id: config.environment.id, workloadProfileName: config.environment.workloadProfileName }
    : undefined,
  tags,
});

// Signs queue messages so a worker runs only calls from holders of this stack's key.
const signingKey = new random.RandomPassword("signing-key", { length: 48, special: false });

function registryArgs(): RuntimeRegistryArgs {
  const registry = config.registry;
  if (registry.type === "dockerhub") {
    return {
      kind: "dockerhub",
      username: registry.username,
      namespace: registry.namespace,
      token: new pulumi.Config().requireSecret("dockerHubToken"),
    };
  }
  if (registry.id) return { kind: "existing-acr", id: registry.id };
  return { kind: "acr", resourceGroupName, location, registryName: suffix.apply(names.registryName), sku: registry.sku, tags };
}

// A registry only when something is built: prebuilt images need none.
const registry = config.runtimes.some((r) => r.source.kind === "build")
  ? new RuntimeRegistry("registry", registryArgs())
  : undefined;

// One image per distinct source: the same image at two memory sizes is built once.
const images = new Map<string, RuntimeImage>();
const imageNames = new Set<string>();
function imageFor(source: ImageSource, revision: number): RuntimeImage {
  const key = source.kind === "build" ? `${source.repository}:${source.tag}` : source.image;
  let image = images.get(key);
  if (!image) {
    // 'a/b:1' and 'a-b:1' slug alike; the second gets a hash so the two logical names (URNs) differ.
    let name = `image-${key.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
    if (imageNames.has(name)) name += `-${names.uniqueSuffix(key).slice(0, 6)}`;
    imageNames.add(name);
    image = new RuntimeImage(name, {
      source,
      registry,
      nodeMajor: NODE_MAJOR,
      revision,
    });
    images.set(key, image);
  }
  return image;
}

const deployed = config.runtimes.map((spec) => {
  const image = imageFor(spec.source, spec.revision);
  const runtime = new LithopsRuntime(spec.resourceName, {
    spec,
    resourceGroupName,
    location,
    subscriptionId: client.subscriptionId,
    environmentId: environment.id,
    workloadProfileName: environment.workloadProfileName,
    storage,
    image: image.ref,
    // Prebuilt images are pulled anonymously; built ones from the stack's registry.
    pull: spec.source.kind === "build" ? registry?.pull : undefined,
    signingKey: signingKey.result,
    clientPrincipals,
    tags,
  });
  return { spec, image, runtime };
});

export const region = location;
export const environmentId = environment.id;
export const storageAccountName = storage.accountName;
export const containerName = storage.containerName;
export const blobEndpoint = storage.blobEndpoint;
export const queueEndpoint = storage.queueEndpoint;
export const registryPrefix = registry?.repositoryPrefix;
export const runtimes = deployed.map(({ spec, image, runtime }) => ({
  name: spec.name,
  image: image.ref,
  memory: spec.memory,
  queue: runtime.queueName,
  poisonQueue: runtime.poisonQueueName,
  appName: runtime.appName,
}));

// The first runtime is the client's default; a stack with no runtimes names none (the client's own default applies).
const first = config.runtimes[0];
/** A Lithops-style config for the client: `pulumi stack output clientConfig --show-secrets > .lithops_config`. */
export const clientConfig = pulumi.secret(
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
