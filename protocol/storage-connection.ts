import { DefaultAzureCredential } from "@azure/identity";
import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from "@azure/storage-blob";
import { QueueServiceClient, StorageSharedKeyCredential as QueueSharedKeyCredential } from "@azure/storage-queue";
import type { PipelineRequest, PipelineResponse, SendRequest } from "@azure/core-rest-pipeline";

/**
 * How client and worker reach Azure Storage (or Azurite): a connection string, an
 * account key, or Entra ID through DefaultAzureCredential (a managed identity in the
 * Container App, `az login` on a laptop).
 */
export interface StorageSettings {
  connectionString?: string;
  accountName?: string;
  accountKey?: string;
  blobEndpoint?: string;
  queueEndpoint?: string;
  container: string;
}

/** Counts the requests an SDK client sends, so jobs can report their storage cost. */
export class RequestCounter {
  count = 0;
  readonly policy = {
    name: "lithopsRequestCounter",
    sendRequest: (request: PipelineRequest, next: SendRequest): Promise<PipelineResponse> => {
      this.count += 1;
      return next(request);
    },
  };
}

export interface StorageClients {
  blobService: BlobServiceClient;
  container: ContainerClient;
  queueService: QueueServiceClient;
  counter: RequestCounter;
}

// Storage throttles with 500/503; a few retries with backoff ride over it and over an emulator restart.
const RETRY_OPTIONS = { maxTries: 6, retryDelayInMs: 200, maxRetryDelayInMs: 5000 };

export function connectStorage(settings: StorageSettings, counter = new RequestCounter()): StorageClients {
  const options = {
    retryOptions: RETRY_OPTIONS,
    additionalPolicies: [{ policy: counter.policy, position: "perCall" as const }],
  };
  let blobService: BlobServiceClient;
  let queueService: QueueServiceClient;
  if (settings.connectionString) {
    blobService = BlobServiceClient.fromConnectionString(settings.connectionString, options);
    queueService = QueueServiceClient.fromConnectionString(settings.connectionString, options);
  } else if (settings.accountName) {
    const blobUrl = settings.blobEndpoint ?? `https://${settings.accountName}.blob.core.windows.net`;
    const queueUrl = settings.queueEndpoint ?? `https://${settings.accountName}.queue.core.windows.net`;
    if (settings.accountKey) {
      blobService = new BlobServiceClient(blobUrl, new StorageSharedKeyCredential(settings.accountName, settings.accountKey), options);
      queueService = new QueueServiceClient(queueUrl, new QueueSharedKeyCredential(settings.accountName, settings.accountKey), options);
    } else {
      const credential = new DefaultAzureCredential();
      blobService = new BlobServiceClient(blobUrl, credential, options);
      queueService = new QueueServiceClient(queueUrl, credential, options);
    }
  } else {
    throw new Error("storage settings need a connection string or a storage account name (azure_storage.storage_account_name)");
  }
  return { blobService, queueService, container: blobService.getContainerClient(settings.container), counter };
}

/** Downloads a blob (or a byte range of it) into one Buffer. */
export async function downloadBytes(container: ContainerClient, key: string, start = 0, end?: number): Promise<Buffer> {
  const count = end === undefined ? undefined : end - start;
  if (count === 0) return Buffer.alloc(0);
  return container.getBlockBlobClient(key).downloadToBuffer(start, count);
}

export function isNotFound(error: unknown): boolean {
  return (error as { statusCode?: number }).statusCode === 404;
}
