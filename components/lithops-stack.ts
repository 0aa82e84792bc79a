import * as authorization from "@pulumi/azure-native/authorization/index.js";
import * as resources from "@pulumi/azure-native/resources/index.js";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { stringify } from "yaml";
import * as names from "../azure/resource-names.ts";
import { DEFAULT_JOB_CONTAINER } from "../azure/storage-names.ts";
import { NODE_MAJOR } from "../protocol/version.ts";
import { RuntimeEnvironment } from "./environment.ts";
import { RuntimeImage } from "./image.ts";
import { InstanceNames } from "./instance-names.ts";
import { RuntimeRegistry, type RuntimeRegistryArgs } from "./registry.ts";
import { LithopsRuntime, type RegistryPull } from "./runtime.ts";
import {
  DEFAULT_STACK_NAME,
  imageKey,
  imageResourceNames,
  LITHOPS_STACK_TYPE,
  loadStackConfig,
  parseStackConfig,
  readStackConfig,
  type RuntimeEntry,
  type StackConfig,
} from "./stack-config.ts";
import { JobStorage, type PrincipalRef } from "./storage.ts";

/** The environment the runtimes run in: one the stack creates (the default), or an existing one. */
export interface EnvironmentArgs {
  /** An existing Container Apps environment (resource id, Lithops's `environment_id`); by default the stack creates one with a Log Analytics workspace. */
  id?: string;
  /** Workload profile the runtimes run on; set it for an existing workload-profiles environment (the stack's own uses `Consumption`). */
  workloadProfileName?: string;
  /** Days the workspace keeps logs, 30-730; default 30. */
  logRetentionDays?: number;
  /** The environment's Consumption-cores quota, 1-100000; default 100 (Azure's default). Runtimes may not need more vCPU than this at maxWorkers. */
  coreQuota?: number;
}

/** Where runtime images are pushed and pulled: an Azure Container Registry (the default) or Docker Hub. */
export interface RegistryArgs {
  /** `acr` (default) or `dockerhub`. */
  type: string;
  /** acr: an existing registry (resource id, any subscription); by default the stack creates one when it has runtimes. */
  id?: string;
  /** acr: SKU of the registry the stack creates, `Basic` (default), `Standard` or `Premium`. */
  sku?: string;
  /** acr: days untagged manifests are kept in a registry the stack creates, 1-3650; default 7. */
  untaggedRetentionDays?: number;
  /** dockerhub: the Docker Hub user name (4-30 lower case letters or digits). */
  username?: string;
  /** dockerhub: organization to push to; the user's own namespace by default. */
  namespace?: string;
}

/** The storage account of job data and queues. */
export interface StorageArgs {
  /** Days job data (`lithops.jobs/...`) is kept before a lifecycle rule deletes it, 1-36500; default 7. */
  jobDataRetentionDays?: number;
  /** `Standard_LRS` (default), `Standard_ZRS`, `Standard_GRS` or `Standard_RAGRS`. */
  sku?: string;
  /** Pulumi `protect` on the storage account, so `pulumi destroy` and replacements stop at it; default false. */
  protect?: boolean;
}

/** An alert when a runtime moves a message to its poison queue. */
export interface PoisonAlertArgs {
  /** The action group (resource id) to notify. */
  actionGroupId: string;
}

/** One runtime, as an entry of the stack config's `lithops-aca:runtimes`. */
export interface RuntimeArgs {
  /** `default`, or an image reference in lower case (Lithops's runtime name), e.g. `myaccount/imaging:01`. */
  name: string;
  /** A prebuilt image to run as is; default: the name when it is an image reference. */
  image?: string;
  /** A Dockerfile to build, relative to `projectRoot` (the build context); the default runtime's ships with the package. */
  dockerfile?: string;
  /** Memory of a worker replica in MB, from Container Apps' table (512 ... 8192); default 2048. The CPU follows from it. */
  memory?: number;
  /** Seconds a call may run, 1-86400; default 600. Up to 600 the runtime is a Container App; above, a Container Apps Job. */
  timeout?: number;
  /** Most replicas (or job executions) at once, 1-1000; default 30. */
  maxWorkers?: number;
  /** Calls run in parallel per replica, 1-256; default 1. */
  workerProcesses?: number;
  /** Seconds between KEDA's queue checks, 1-3600; default 10. */
  pollingInterval?: number;
  /** Seconds without messages before replicas scale back to zero, 0-86400; default 300. */
  cooldownPeriod?: number;
  /** Longest pause in ms between an idle worker's queue polls, 10-60000; default 1000. */
  idlePollMaxMs?: number;
  /** Bump to rebuild the image and roll a new revision (`lithops-aca runtime update` does); default 0. */
  revision?: number;
}

/**
 * A lithops-aca stack as plain data: the keys of the stack config (`Pulumi.<stack>.yaml`,
 * validated by the same schema), plus where to deploy.
 */
export interface LithopsStackArgs {
  /** The runtimes; default: the default runtime alone. `[]` is a stack with storage, environment and signing key but no runtimes. */
  runtimes?: RuntimeArgs[];
  /** An existing resource group to deploy into; by default the stack creates its own. */
  resourceGroupName?: string;
  /** The Container Apps environment; default: one the stack creates. */
  environment?: EnvironmentArgs;
  /** Where images go; default: an Azure Container Registry the stack creates. */
  registry?: RegistryArgs;
  /** The job storage account's settings. */
  storage?: StorageArgs;
  /** Cost tags set on every resource that takes tags; default none. */
  tags?: { [name: string]: string };
  /** Object ids of the users, groups or service principals that run the client; default: the deploying identity. */
  clientPrincipalIds?: string[];
  /** An alert when a runtime moves a message to its poison queue; default none. */
  poisonAlert?: PoisonAlertArgs;
  /** Docker Hub access token, needed to push when `registry.type` is `dockerhub` (kept secret). */
  dockerHubToken?: pulumi.Input<string>;
  /** Azure region of every resource; default: the stack's `azure-native:location`. */
  location?: string;
  /** Folder the runtimes' Dockerfile paths are relative to (the Pulumi project's root); default: the current folder. */
  projectRoot?: string;
}

export interface DeployedRuntime {
  name: string;
  image: pulumi.Output<string>;
  memory: number;
  /** `app` or `job`. */
  kind: pulumi.Output<string>;
  queue: pulumi.Output<string>;
  poisonQueue: pulumi.Output<string>;
  appName: pulumi.Output<string>;
  /** A ready `az containerapp logs show` (or `az containerapp job logs show`) command for this runtime's workers. */
  logsCommand: pulumi.Output<string>;
}

/** The keys of the args that are not stack config keys. */
const PLACEMENT_KEYS = ["location", "projectRoot", "dockerHubToken"] as const;

/**
 * A whole lithops-aca stack: storage, environment, registry, images and one runtime per
 * configured (image, memory), every resource a child of this component. The repository's
 * program is one `LithopsStack` over its stack config; a platform team can declare any number
 * in its own program (each gets its own Azure names), or compose the sub-components itself.
 */
export class LithopsStack extends pulumi.ComponentResource {
  readonly resourceGroupName: pulumi.Output<string>;
  readonly region: pulumi.Output<string>;
  readonly environmentId: pulumi.Output<string>;
  /** The Log Analytics workspace the workers log to; undefined with an existing environment. */
  readonly logAnalyticsWorkspaceId: pulumi.Output<string | undefined>;
  readonly storageAccountName: pulumi.Output<string>;
  readonly containerName: pulumi.Output<string>;
  readonly blobEndpoint: pulumi.Output<string>;
  readonly queueEndpoint: pulumi.Output<string>;
  readonly registryPrefix: pulumi.Output<string | undefined>;
  readonly runtimes: pulumi.Output<pulumi.Unwrap<DeployedRuntime>[]>;
  /** Secret: holds the signing key. `pulumi stack output clientConfig --show-secrets > .lithops_config`. */
  readonly clientConfig: pulumi.Output<string>;

  constructor(name: string, args: LithopsStackArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    // Validated before the component registers, so bad args leave nothing behind.
    const projectRoot = args.projectRoot ?? process.cwd();
    const location = args.location ?? new pulumi.Config("azure-native").require("location");
    const raw = Object.fromEntries(Object.entries(args).filter(([key, value]) => value !== undefined && !(PLACEMENT_KEYS as readonly string[]).includes(key)));
    const config = parseStackConfig(raw, {
      namespace: `LithopsStack(${JSON.stringify(name)}) args`,
      projectRoot,
      dockerHubTokenSet: args.dockerHubToken !== undefined,
    });
    super(LITHOPS_STACK_TYPE, name, {}, opts);
    const entries: RuntimeEntry[] = args.runtimes ?? config.runtimes.map((r) => ({ name: r.name }));
    const stack = pulumi.getStack();
    const instance = new InstanceNames(name, stack);
    // The instance of the package's own program aliases its children to the URNs they had at the stack's root.
    const moved = (oldName: string): pulumi.ComponentResourceOptions =>
      name === DEFAULT_STACK_NAME ? { parent: this, aliases: [{ name: oldName, parent: pulumi.rootStackResource }] } : { parent: this };
    // Cost tags first, so the stack's own tag cannot be overridden by them.
    const tags = { ...config.tags, lithops_stack: stack };

    const client = authorization.getClientConfigOutput({ parent: this });
    const organization = pulumi.getOrganization();
    const suffix = client.subscriptionId.apply((subscription) => names.uniqueSuffix(...instance.suffixParts(subscription, organization, pulumi.getProject())));

    const resourceGroupName: pulumi.Output<string> = config.resourceGroupName
      ? pulumi.output(config.resourceGroupName)
      : new resources.ResourceGroup(name, { location, tags }, moved(name)).name;

    // Whoever runs the client gets data access; the deployer unless the stack names others.
    const clientPrincipals: PrincipalRef[] = config.clientPrincipalIds
      ? config.clientPrincipalIds.map((id) => ({ key: id, id }))
      : [{ key: "deployer", id: client.objectId }];

    const storage = new JobStorage(
      instance.child("storage"),
      {
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
      },
      moved("storage"),
    );

    const environment = new RuntimeEnvironment(
      instance.child("environment"),
      {
        resourceGroupName,
        location,
        environmentName: instance.environmentName(),
        logRetentionDays: config.environment.logRetentionDays,
        existing: config.environment.id ? { id: config.environment.id, workloadProfileName: config.environment.workloadProfileName } : undefined,
        tags,
      },
      moved("environment"),
    );

    // Signs queue messages so a worker runs only calls from holders of this stack's key.
    const signingKey = new random.RandomPassword(instance.child("signing-key"), { length: 48, special: false }, moved("signing-key"));

    const registry = needsRegistry(config)
      ? new RuntimeRegistry(instance.child("registry"), registryArgs(config, args, { resourceGroupName, location, tags, suffix, instance }), moved("registry"))
      : undefined;
    const pull: RegistryPull | undefined =
      registry?.pull.kind === "identity"
        ? { server: registry.pull.server, identityId: registry.pull.identityId }
        : registry?.pull.kind === "password"
          ? { server: registry.pull.server, username: registry.pull.username, password: registry.pull.password }
          : undefined;
    // The apps wait for the stack's pull grant, made with the registry.
    const pullGrant = registry?.pull.kind === "identity" ? [registry.pull.grant] : [];

    // One image per distinct source: the same image at two memory sizes is built once.
    const imageNames = imageResourceNames(
      config.runtimes.map((r) => r.source),
      name,
    );
    const oldImageNames = imageResourceNames(
      config.runtimes.map((r) => r.source),
      "",
    );
    const images = new Map<string, RuntimeImage>();
    const deployed = config.runtimes.map((spec, i) => {
      const key = imageKey(spec.source);
      let image = images.get(key);
      if (!image) {
        image = new RuntimeImage(
          imageNames.get(key)!,
          { source: spec.source, registry, nodeMajor: NODE_MAJOR, revision: spec.revision, projectRoot },
          moved(oldImageNames.get(key)!.slice(1)),
        );
        images.set(key, image);
      }
      const runtime = new LithopsRuntime(
        instance.runtime(spec.resourceName),
        {
          runtime: entries[i]!,
          azureName: instance.azureName(spec.resourceName),
          resourceGroupName,
          location,
          subscriptionId: client.subscriptionId,
          environmentId: environment.id,
          workloadProfileName: environment.workloadProfileName,
          storage,
          image: image.ref,
          // Everything comes from the stack's registry, except prebuilt images on a Docker Hub stack (pulled as is).
          registry: spec.source.kind === "build" || registry?.pull.kind === "identity" ? pull : undefined,
          signingKey: signingKey.result,
          clientPrincipals,
          tags,
          poisonAlert:
            config.poisonAlert && environment.workspaceId
              ? { workspaceId: environment.workspaceId, actionGroupId: config.poisonAlert.actionGroupId }
              : undefined,
        },
        { ...moved(spec.resourceName), dependsOn: pullGrant },
      );
      return { spec, image, runtime };
    });

    const runtimes: DeployedRuntime[] = deployed.map(({ spec, image, runtime }) => ({
      name: spec.name,
      image: image.ref,
      memory: spec.memory,
      kind: runtime.kind,
      queue: runtime.queueName,
      poisonQueue: runtime.poisonQueueName,
      appName: runtime.appName,
      logsCommand: pulumi.interpolate`az containerapp ${runtime.kind.apply((k) => (k === "job" ? "job logs" : "logs"))} show --resource-group ${resourceGroupName} --name ${runtime.appName} --follow`,
    }));

    this.resourceGroupName = resourceGroupName;
    this.region = pulumi.output(location);
    this.environmentId = environment.id;
    this.logAnalyticsWorkspaceId = pulumi.output(environment.workspaceId);
    this.storageAccountName = storage.accountName;
    this.containerName = storage.containerName;
    this.blobEndpoint = storage.blobEndpoint;
    this.queueEndpoint = storage.queueEndpoint;
    this.registryPrefix = pulumi.output(registry?.repositoryPrefix);
    this.runtimes = pulumi.output(runtimes);
    this.clientConfig = clientConfigText(config, { signingKey, storage, resourceGroupName, location, environmentId: environment.id, runtimes });
    this.registerOutputs(this.outputs());
  }

  /** The stack's outputs, as a program exports them (`export = stack.outputs()` or one `export const` each). */
  outputs(): Record<string, pulumi.Output<unknown>> {
    return {
      resourceGroupName: this.resourceGroupName,
      region: this.region,
      environmentId: this.environmentId,
      logAnalyticsWorkspaceId: this.logAnalyticsWorkspaceId,
      storageAccountName: this.storageAccountName,
      containerName: this.containerName,
      blobEndpoint: this.blobEndpoint,
      queueEndpoint: this.queueEndpoint,
      registryPrefix: this.registryPrefix,
      runtimes: this.runtimes,
      clientConfig: this.clientConfig,
    };
  }
}

/**
 * A registry whenever there are runtimes: built images are pushed to it, and an ACR serves
 * prebuilt ones through cache rules. Docker Hub is needed only to push.
 */
function needsRegistry(config: StackConfig): boolean {
  return config.registry.type === "acr" ? config.runtimes.length > 0 : config.runtimes.some((r) => r.source.kind === "build");
}

interface RegistryPlacement {
  resourceGroupName: pulumi.Input<string>;
  location: string;
  tags: Record<string, string>;
  suffix: pulumi.Output<string>;
  instance: InstanceNames;
}

function registryArgs(config: StackConfig, args: LithopsStackArgs, at: RegistryPlacement): RuntimeRegistryArgs {
  const registry = config.registry;
  if (registry.type === "dockerhub") {
    // parseStackConfig refused a Docker Hub stack that builds without a token.
    return { kind: "dockerhub", username: registry.username, namespace: registry.namespace, token: args.dockerHubToken! };
  }
  const placement = {
    resourceGroupName: at.resourceGroupName,
    location: at.location,
    tags: at.tags,
    pullIdentityName: at.instance.azureName("lithops-registry-pull"),
  };
  if (registry.id) return { kind: "existing-acr", id: registry.id, ...placement };
  return {
    kind: "acr",
    registryName: at.suffix.apply(names.registryName),
    sku: registry.sku,
    untaggedRetentionDays: registry.untaggedRetentionDays,
    ...placement,
  };
}

interface ClientConfigParts {
  signingKey: random.RandomPassword;
  storage: JobStorage;
  resourceGroupName: pulumi.Output<string>;
  location: string;
  environmentId: pulumi.Output<string>;
  runtimes: DeployedRuntime[];
}

/** A Lithops-style client config (`.lithops_config`), secret because it holds the signing key. */
function clientConfigText(config: StackConfig, parts: ClientConfigParts): pulumi.Output<string> {
  // The first runtime is the client's default; a stack with no runtimes names none (the client's own default applies).
  const first = config.runtimes[0];
  const { storage } = parts;
  return pulumi.secret(
    pulumi
      .all([
        parts.signingKey.result,
        storage.accountName,
        storage.containerName,
        storage.blobEndpoint,
        storage.queueEndpoint,
        parts.resourceGroupName,
        parts.environmentId,
        pulumi.all(parts.runtimes.map((r) => pulumi.all([r.queue, r.poisonQueue, r.appName]))),
      ])
      .apply(([key, account, container, blob, queue, group, environmentIdValue, deployedNames]) =>
        stringify({
          lithops: { backend: "azure_containers", storage: "azure_storage", signing_key: key },
          azure_storage: { storage_account_name: account, storage_bucket: container, blob_endpoint: blob, queue_endpoint: queue },
          azure_containers: {
            resource_group: group,
            region: parts.location,
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
}

/**
 * The stack of a Pulumi project configured in its `Pulumi.<stack>.yaml` (the project's keys,
 * `azure-native:location`, the secret Docker Hub token): this repository's index.ts and the
 * command line's inline program are both this call.
 */
export function lithopsStackFromConfig(projectRoot: string): LithopsStack {
  // Validated here first, so that a bad value is reported under its config key.
  const config = loadStackConfig(projectRoot);
  const { raw } = readStackConfig();
  return new LithopsStack(DEFAULT_STACK_NAME, {
    ...(raw as LithopsStackArgs),
    projectRoot,
    dockerHubToken: config.registry.type === "dockerhub" ? new pulumi.Config().getSecret("dockerHubToken") : undefined,
  });
}
