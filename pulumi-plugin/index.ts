/**
 * What Pulumi's component analyzer reads to write the provider's schema (the runtime entry is
 * index.js). Its classes declare the public shape of the package's real components in the
 * types the analyzer accepts: args interfaces and outputs of strings, numbers, booleans,
 * arrays and objects, never a union. The args are the package's own interfaces, so their
 * documentation is the schema's; test/pulumi/plugin-schema.test.ts checks that every output
 * declared here is one the real component has.
 */
import * as pulumi from "@pulumi/pulumi";
import type { LithopsRuntimeArgs as PackageRuntimeArgs, LithopsStackArgs, RuntimeArgs } from "../dist/components/index.js";

/** One deployed runtime of a LithopsStack. */
export interface DeployedRuntime {
  /** The runtime's name (`default` or an image reference). */
  name: string;
  /** The image its workers run; a digest for built images. */
  image: string;
  /** Memory of a worker replica in MB. */
  memory: number;
  /** `app` (a Container App, timeout up to 600 s) or `job` (a Container Apps Job, above). */
  kind: string;
  /** The queue the client sends its calls to. */
  queue: string;
  /** Where messages that failed too often go. */
  poisonQueue: string;
  /** The Container App's or Job's name. */
  appName: string;
  /** A ready `az containerapp logs show` (or `az containerapp job logs show`) command for this runtime's workers. */
  logsCommand: string;
}

/**
 * A whole lithops-aca stack: storage, Container Apps environment, registry, images and one
 * runtime per configured (image, memory), every resource a child of this component. Its args
 * are the keys of the stack config, each with the same default and validation.
 */
export declare class LithopsStack extends pulumi.ComponentResource {
  /** The resource group the stack deployed into. */
  readonly resourceGroupName: pulumi.Output<string>;
  /** The Azure region of its resources. */
  readonly region: pulumi.Output<string>;
  /** The Container Apps environment (resource id) the runtimes run in. */
  readonly environmentId: pulumi.Output<string>;
  /** The job storage account's name. */
  readonly storageAccountName: pulumi.Output<string>;
  /** The job data container's name. */
  readonly containerName: pulumi.Output<string>;
  /** The storage account's blob endpoint. */
  readonly blobEndpoint: pulumi.Output<string>;
  /** The storage account's queue endpoint. */
  readonly queueEndpoint: pulumi.Output<string>;
  /** The deployed runtimes. */
  readonly runtimes: pulumi.Output<DeployedRuntime[]>;
  /** The client's configuration (`.lithops_config`), secret: it holds the signing key. */
  readonly clientConfig: pulumi.Output<string>;
  constructor(name: string, args: LithopsStackArgs, opts?: pulumi.ComponentResourceOptions);
}

/** LithopsRuntime's args, with the runtime entry typed as the stack config's `runtimes` entries (the package's own type is the config schema's input type, which the analyzer cannot read). */
export interface LithopsRuntimeArgs extends PackageRuntimeArgs {
  /** The runtime, as an entry of the stack config's `runtimes` list, with the same defaults. */
  runtime: RuntimeArgs;
}

/**
 * One runtime (image + memory) in an existing environment and storage account: its queue and
 * poison queue, a least-privilege identity, and a Container App (timeout up to 600 s) or an
 * event-driven Container Apps Job (above) that runs its calls.
 */
export declare class LithopsRuntime extends pulumi.ComponentResource {
  /** The Container App's or the Job's name. */
  readonly appName: pulumi.Output<string>;
  /** `app` (a Container App) or `job` (a Container Apps Job, for a timeout above 600 s). */
  readonly kind: pulumi.Output<string>;
  /** The queue the runtime's workers read calls from. */
  readonly queueName: pulumi.Output<string>;
  /** The queue failed messages are moved to. */
  readonly poisonQueueName: pulumi.Output<string>;
  /** The client id of the runtime's user-assigned identity. */
  readonly identityClientId: pulumi.Output<string>;
  constructor(name: string, args: LithopsRuntimeArgs, opts?: pulumi.ComponentResourceOptions);
}
