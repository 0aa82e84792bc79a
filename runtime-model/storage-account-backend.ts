import { connectStorage, downloadBytes, isNotFound, type StorageClients } from "../azure/storage-connection.ts";
import type { Backend, ExecutionBackend, JobDocument, JobStorage, RuntimeTarget } from "./backend.ts";

/** Messages sent at once to a queue. */
const SEND_CONCURRENCY = 16;

/** Job documents as blobs of the backend's container. */
export class BlobJobStorage implements JobStorage {
  constructor(private readonly clients: StorageClients) {}

  async put(key: string, bytes: Uint8Array): Promise<void> {
    await this.clients.container.getBlockBlobClient(key).uploadData(bytes);
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await downloadBytes(this.clients.container, key);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async *list(prefix: string): AsyncIterable<JobDocument> {
    for await (const blob of this.clients.container.listBlobsFlat({ prefix })) yield { name: blob.name, etag: blob.properties.etag ?? "" };
  }

  async *listFolders(prefix: string): AsyncIterable<string> {
    for await (const item of this.clients.container.listBlobsByHierarchy("/", { prefix })) if (item.kind === "prefix") yield item.name;
  }

  async delete(key: string): Promise<void> {
    await this.clients.container.deleteBlob(key).catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
  }

  requests(): number {
    return this.clients.counter.count;
  }
}

/** A local or Azure backend as the executor uses it: job documents in its container, calls on its queues. */
export class StorageAccountBackend implements Backend {
  readonly jobs: BlobJobStorage;
  private readonly clients: StorageClients;

  constructor(readonly account: ExecutionBackend) {
    this.clients = connectStorage(account.storage);
    this.jobs = new BlobJobStorage(this.clients);
  }

  get signingKey(): string | undefined {
    return this.account.signingKey;
  }

  prepareRuntime(name: string, memory: number, queue?: string): Promise<RuntimeTarget> {
    return this.account.prepareRuntime(name, memory, queue);
  }

  async send(target: RuntimeTarget, messages: readonly string[]): Promise<void> {
    const queue = this.clients.queueService.getQueueClient(target.queue);
    for (let i = 0; i < messages.length; i += SEND_CONCURRENCY) {
      await Promise.all(messages.slice(i, i + SEND_CONCURRENCY).map((text) => queue.sendMessage(text)));
    }
    this.account.submitted(target, messages.length);
  }

  peakWorkers(): number | undefined {
    return this.account.peakWorkers();
  }

  workerStartFailure(): Error | undefined {
    return this.account.workerStartFailure?.();
  }

  close(): Promise<void> {
    return this.account.close();
  }
}
