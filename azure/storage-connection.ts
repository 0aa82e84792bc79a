import { Readable } from "node:stream";
import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/identity";
import { BlobServiceClient, newPipeline as newBlobPipeline, StorageSharedKeyCredential, type ContainerClient } from "@azure/storage-blob";
import { newPipeline as newQueuePipeline, QueueServiceClient, StorageSharedKeyCredential as QueueSharedKeyCredential } from "@azure/storage-queue";
import { ENV } from "../protocol/env.ts";
import { InvalidArgumentError } from "../protocol/errors.ts";
import { StorageCredentialError, StorageUnreachableError } from "./errors.ts";

/**
 * DefaultAzureCredential, loaded on the first token request: @azure/identity takes about
 * 80 ms to import, which every client and worker on a connection string (the local
 * backend) would pay for nothing.
 */
function lazyDefaultCredential(accountName: string): TokenCredential {
  let credential: Promise<TokenCredential> | undefined;
  return {
    async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
      credential ??= import("@azure/identity").then(({ DefaultAzureCredential }) => new DefaultAzureCredential());
      try {
        return await (await credential).getToken(scopes, options);
      } catch (error) {
        throw credentialError(accountName, error);
      }
    },
  };
}

/** What DefaultAzureCredential's failure means to a user: which credentials it tried and how to provide one. */
export function credentialError(accountName: string, error: unknown): StorageCredentialError {
  const failures = (error as { errors?: Error[] }).errors;
  const tried =
    Array.isArray(failures) && failures.length > 0 ? failures.map((e) => e.message.split("\n")[0].split(".")[0]).join("; ") : (error as Error).message;
  return new StorageCredentialError(
    `no Azure credential for storage account '${accountName}' (azure_storage.storage_account_name): DefaultAzureCredential tried environment variables, ` +
      "workload identity, managed identity, Azure CLI, Azure PowerShell and Azure Developer CLI, and none gave a token " +
      `(${tried}). Sign in with \`az login\` (and a role such as Storage Blob Data Contributor and Storage Queue Data Contributor on the account), ` +
      "or set azure_storage.storage_account_key or connection_string in the config",
    { cause: error },
  );
}

/** Codes of a request that got no answer at all (name resolution, connection, TLS setup). */
const CONNECTION_FAILURES = new Set(["ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "REQUEST_SEND_ERROR"]);

/** Core pipeline policy API (@azure/core-rest-pipeline), as much of it as the guard below uses. */
interface CorePipeline {
  addPolicy(
    policy: { name: string; sendRequest(request: unknown, next: (request: unknown) => Promise<unknown>): Promise<unknown> },
    options: { afterPhase: "Retry" },
  ): void;
}

/**
 * Fails the requests of an Azure endpoint that has never answered at once, not after the
 * retries meant for outages: a wrong account name or endpoint is a setting to fix. Sits
 * inside the SDK's retry policy; once one response came, failures are left to the retries.
 */
function guardFirstContact(client: BlobServiceClient | QueueServiceClient, settings: StorageSettings, setting: string): void {
  let answered = false;
  const pipeline = (client as unknown as { storageClientContext: { pipeline: CorePipeline } }).storageClientContext.pipeline;
  pipeline.addPolicy(
    {
      name: "lithopsFirstContact",
      async sendRequest(request, next) {
        try {
          const response = await next(request);
          answered = true;
          return response;
        } catch (error) {
          if (answered || !CONNECTION_FAILURES.has((error as { code?: string }).code ?? "")) throw error;
          const reason = (error as Error).message.split("\n")[0];
          throw new StorageUnreachableError(
            `storage account '${settings.accountName}' cannot be reached at ${client.url} (${reason}): check ${setting}, ` +
              "and that this machine can reach Azure Storage (network, firewall, private endpoint)",
            { cause: error },
          );
        }
      },
    },
    { afterPhase: "Retry" },
  );
}

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

/**
 * Counts the requests the SDK clients send, so jobs can report their storage cost. It is
 * a request policy factory in the storage SDKs' own pipeline, counted once per request
 * (retries included in the one count).
 */
export class RequestCounter {
  count = 0;
  private reported = 0;

  /**
   * Requests not reported yet, plus `ahead` requests about to be made (counted now, not
   * again later): lets a worker attach every request it makes, idle polls included, to
   * the batch outputs it writes, without counting any request twice.
   */
  unreported(ahead = 0): number {
    const count = this.count + ahead - this.reported;
    this.reported = Math.max(this.reported, this.count + ahead);
    return Math.max(0, count);
  }
  readonly factory = {
    create: (nextPolicy: { sendRequest(request: unknown): Promise<unknown> }) => ({
      sendRequest: (request: unknown): Promise<unknown> => {
        this.count += 1;
        return nextPolicy.sendRequest(request);
      },
    }),
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
  let blob: BlobServiceClient;
  let queue: QueueServiceClient;
  if (settings.connectionString) {
    blob = BlobServiceClient.fromConnectionString(settings.connectionString);
    queue = QueueServiceClient.fromConnectionString(settings.connectionString);
  } else if (settings.accountName) {
    const blobUrl = settings.blobEndpoint ?? `https://${settings.accountName}.blob.core.windows.net`;
    const queueUrl = settings.queueEndpoint ?? `https://${settings.accountName}.queue.core.windows.net`;
    if (settings.accountKey) {
      blob = new BlobServiceClient(blobUrl, new StorageSharedKeyCredential(settings.accountName, settings.accountKey));
      queue = new QueueServiceClient(queueUrl, new QueueSharedKeyCredential(settings.accountName, settings.accountKey));
    } else {
      const credential = lazyDefaultCredential(settings.accountName);
      blob = new BlobServiceClient(blobUrl, credential);
      queue = new QueueServiceClient(queueUrl, credential);
    }
  } else {
    throw new InvalidArgumentError("storage settings need a connection string or a storage account name (azure_storage.storage_account_name)");
  }
  // Rebuilt on our own pipelines: same endpoint and credential, plus retries and the request counter.
  const credentialOf = (client: BlobServiceClient | QueueServiceClient) =>
    (client as unknown as { credential: Parameters<typeof newBlobPipeline>[0] }).credential;
  const blobPipeline = newBlobPipeline(credentialOf(blob), { retryOptions: RETRY_OPTIONS });
  blobPipeline.factories.push(counter.factory as unknown as (typeof blobPipeline.factories)[number]);
  const queuePipeline = newQueuePipeline(credentialOf(queue), { retryOptions: RETRY_OPTIONS });
  queuePipeline.factories.push(counter.factory as unknown as (typeof queuePipeline.factories)[number]);
  const blobService = new BlobServiceClient(blob.url, blobPipeline);
  const queueService = new QueueServiceClient(queue.url, queuePipeline);
  // An emulator's connection string (the local backend) keeps its retries: it rides over an Azurite restart.
  if (!settings.connectionString) {
    guardFirstContact(blobService, settings, settings.blobEndpoint ? "azure_storage.blob_endpoint" : "azure_storage.storage_account_name");
    guardFirstContact(queueService, settings, settings.queueEndpoint ? "azure_storage.queue_endpoint" : "azure_storage.storage_account_name");
  }
  return { blobService, queueService, container: blobService.getContainerClient(settings.container), counter };
}

/** Downloads a blob (or a byte range of it) into one Buffer. */
export async function downloadBytes(container: ContainerClient, key: string, start = 0, end?: number): Promise<Buffer> {
  const count = end === undefined ? undefined : end - start;
  if (count === 0) return Buffer.alloc(0);
  if (count !== undefined) return container.getBlockBlobClient(key).downloadToBuffer(start, count);
  // To the end: one GET. downloadToBuffer would first ask for the size with a HEAD, and a HEAD
  // answered 404 (a client polling for an output not written yet) closes the keep-alive connection.
  const chunks: Buffer[] = [];
  for await (const chunk of await downloadStream(container, key, start)) chunks.push(chunk as Buffer);
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}

/**
 * Streams a blob's bytes [start, end) (to its end when end is undefined) in one request,
 * resuming where it broke off if the connection drops: memory stays flat for any size.
 */
export async function downloadStream(container: ContainerClient, key: string, start = 0, end?: number): Promise<Readable> {
  const count = end === undefined ? undefined : end - start;
  // A count of 0 would mean "to the end" to the SDK.
  if (count === 0) return Readable.from([]);
  const response = await container.getBlobClient(key).download(start, count, { maxRetryRequests: 5 });
  return response.readableStreamBody as Readable;
}

/**
 * Whether a blob exists, asked with a one-byte GET: the SDK's exists() is a HEAD, and a HEAD
 * answered 404 closes the keep-alive connection, so the next request pays a new connection
 * (a TLS handshake on Azure).
 */
export async function blobExists(container: ContainerClient, key: string): Promise<boolean> {
  try {
    const response = await container.getBlockBlobClient(key).download(0, 1);
    response.readableStreamBody?.resume(); // drain the byte so the connection is free again
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    if ((error as { statusCode?: number }).statusCode === 416) return true; // exists, but empty
    throw error;
  }
}

export function isNotFound(error: unknown): boolean {
  return (error as { statusCode?: number }).statusCode === 404;
}

/**
 * The storage a worker was given, or undefined outside a worker: what code running inside
 * a call (nested executors, Storage, StorageObject) connects with.
 */
export function storageSettingsFromEnv(env: NodeJS.ProcessEnv): StorageSettings | undefined {
  const container = env[ENV.container];
  if (!container || !env[ENV.queue]) return undefined;
  return {
    connectionString: env[ENV.connectionString] || undefined,
    accountName: env[ENV.storageAccount] || undefined,
    blobEndpoint: env[ENV.blobEndpoint] || undefined,
    queueEndpoint: env[ENV.queueEndpoint] || undefined,
    container,
  };
}
