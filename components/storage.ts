import * as storage from "@pulumi/azure-native/storage/index.js";
import * as pulumi from "@pulumi/pulumi";
import { DELIVERIES_PREFIX, JOBS_PREFIX, RUNTIMES_PREFIX } from "../protocol/keys.ts";
import { assignRole } from "./roles.ts";

/** A principal given data access, under a stable key (its logical name in the stack). */
export interface PrincipalRef {
  /** A name for the principal unique in the stack, part of its role assignments' resource names (e.g. `deployer`). */
  key: string;
  /** The principal's object id (user, group or service principal). */
  id: pulumi.Input<string>;
}

export interface JobStorageArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  subscriptionId: pulumi.Input<string>;
  /** Globally unique account name (3-24 lower case letters and digits). */
  accountName: pulumi.Input<string>;
  containerName: string;
  sku: string;
  /** Job data and runtime records older than this many days are deleted by a lifecycle rule. */
  jobDataRetentionDays: number;
  /** Pulumi `protect` on the account: destroying or replacing it needs an explicit unprotect. */
  protect?: boolean;
  /** Whoever runs the client: read and write job data in the container. */
  clientPrincipals: PrincipalRef[];
  tags: Record<string, string>;
}

/**
 * Blob types the lifecycle rule expires: every type the client and worker write (block
 * blobs for data, outputs and records; append blobs for the redelivery attempt logs).
 */
export const EXPIRED_BLOB_TYPES = ["blockBlob", "appendBlob"] as const;

/**
 * Days a delivery marker (replay protection, `lithops.deliveries/`) is kept. The worker accepts
 * a message for at most 7 days and an hour (worker/queue-consumer.ts, Azure's default message
 * time-to-live), so a marker must outlive that, whatever the job data's retention.
 */
export const DELIVERY_MARKER_RETENTION_DAYS = 8;

/**
 * The storage account that carries jobs: the blob container for job data and, per
 * runtime, the queues (created by the runtime component). Identities only: shared-key
 * access is off, so no account key exists that could leak.
 */
export class JobStorage extends pulumi.ComponentResource {
  readonly accountName: pulumi.Output<string>;
  readonly accountId: pulumi.Output<string>;
  readonly containerName: pulumi.Output<string>;
  readonly containerId: pulumi.Output<string>;
  readonly blobEndpoint: pulumi.Output<string>;
  readonly queueEndpoint: pulumi.Output<string>;

  constructor(name: string, args: JobStorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lithops-aca:index:JobStorage", name, {}, opts);
    const account = new storage.StorageAccount(
      `${name}-account`,
      {
        accountName: args.accountName,
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        kind: storage.Kind.StorageV2,
        sku: { name: args.sku },
        minimumTlsVersion: storage.MinimumTlsVersion.TLS1_2,
        enableHttpsTrafficOnly: true,
        allowBlobPublicAccess: false,
        allowSharedKeyAccess: false,
        defaultToOAuthAuthentication: true,
        allowCrossTenantReplication: false,
        tags: args.tags,
      },
      // Unset unless asked for, so a `protect` on the stack component still reaches the account.
      { parent: this, protect: args.protect || undefined },
    );
    const container = new storage.BlobContainer(
      `${name}-jobs`,
      {
        containerName: args.containerName,
        accountName: account.name,
        resourceGroupName: args.resourceGroupName,
        publicAccess: storage.PublicAccess.None,
      },
      { parent: this },
    );
    new storage.ManagementPolicy(
      `${name}-lifecycle`,
      {
        // Azure allows exactly one policy per account, named "default".
        managementPolicyName: "default",
        accountName: account.name,
        resourceGroupName: args.resourceGroupName,
        policy: {
          rules: [
            {
              name: "expire-job-data",
              type: storage.RuleType.Lifecycle,
              enabled: true,
              definition: {
                // Runtime records too (rejected messages; the metadata is rewritten by every worker start).
                filters: {
                  blobTypes: [...EXPIRED_BLOB_TYPES],
                  prefixMatch: [`${args.containerName}/${JOBS_PREFIX}/`, `${args.containerName}/${RUNTIMES_PREFIX}/`],
                },
                actions: { baseBlob: { delete: { daysAfterModificationGreaterThan: args.jobDataRetentionDays } } },
              },
            },
            {
              name: "expire-delivery-markers",
              type: storage.RuleType.Lifecycle,
              enabled: true,
              definition: {
                filters: { blobTypes: [...EXPIRED_BLOB_TYPES], prefixMatch: [`${args.containerName}/${DELIVERIES_PREFIX}/`] },
                actions: { baseBlob: { delete: { daysAfterModificationGreaterThan: DELIVERY_MARKER_RETENTION_DAYS } } },
              },
            },
          ],
        },
      },
      { parent: this },
    );
    for (const principal of args.clientPrincipals) {
      assignRole(`${name}-client-${principal.key}-blob`, { role: "blobDataContributor", scope: container.id, principalId: principal.id }, args.subscriptionId, {
        parent: this,
      });
    }

    this.accountName = account.name;
    this.accountId = account.id;
    this.containerName = container.name;
    this.containerId = container.id;
    this.blobEndpoint = account.primaryEndpoints.blob;
    this.queueEndpoint = account.primaryEndpoints.queue;
    this.registerOutputs({
      accountName: this.accountName,
      containerName: this.containerName,
      blobEndpoint: this.blobEndpoint,
      queueEndpoint: this.queueEndpoint,
    });
  }
}
