import { StorageNoSuchKeyError } from "./errors.ts";
import type { Readable } from "node:stream";
import type { ContainerClient } from "@azure/storage-blob";
import type { ExecutionBackend } from "../runtime-model/backend.ts";
import {
  connectStorage,
  downloadBytes,
  downloadStream,
  isNotFound,
  storageSettingsFromEnv,
  type StorageClients,
  type StorageSettings,
} from "../azure/storage-connection.ts";
import { assertBlobKey, assertContainerName } from "../azure/storage-names.ts";
import { resolveConfig } from "./config.ts";
import { InvalidArgumentError } from "../protocol/errors.ts";

/** What a Storage can be made from: an executor (FunctionExecutor fits), whose backend says where storage is. */
export interface StorageSource {
  readonly config: { readonly storage: StorageSettings };
  backend(): Promise<Pick<ExecutionBackend, "storage">>;
}

export interface ObjectInfo {
  key: string;
  size: number;
  lastModified?: Date;
}

export interface ObjectHead {
  size: number;
  contentType?: string;
  etag?: string;
  lastModified?: Date;
  metadata: Record<string, string>;
}

export interface GetObjectOptions {
  /** An HTTP byte range: 'bytes=first-last' (inclusive) or 'bytes=first-' (to the end). */
  range?: string;
  /** Return a Readable instead of a Buffer: memory stays flat for any size. */
  stream?: boolean;
}

export type ObjectBody = string | Uint8Array | Readable;

/** Upload blocks of this size, this many at once: the memory a streamed putObject holds. */
const UPLOAD_BLOCK_BYTES = 4 * 1024 * 1024;
const UPLOAD_CONCURRENCY = 4;
const DELETE_CONCURRENCY = 16;

/**
 * Lithops's Storage API over Azure Blob Storage (or the local backend's Azurite), with the
 * container ("bucket") first. `new Storage(fexec)` uses an executor's storage (starting
 * its backend if needed); `new Storage()` inside a function running in a worker uses the
 * worker's storage, and elsewhere the storage of the Lithops config file: azure_storage, or
 * on the local backend the data folder's Azurite (started, or shared with the processes
 * already using the folder, on first use; close() or the end of the process lets it go).
 */
export class Storage implements AsyncDisposable {
  /** The configured default container: where job data lives, and a place for the user's objects. */
  readonly bucket: string;
  /** Connects to the storage, once (container() keeps the promise). */
  private readonly connect: () => Promise<StorageClients>;
  private connected?: Promise<StorageClients>;
  /** The local data folder's storage this Storage opened (new Storage() on the local backend; local/ is loaded lazily). */
  private localStorage?: { connectionString: string; close(): Promise<void> };

  constructor(source?: StorageSource) {
    if (source) {
      this.bucket = source.config.storage.container;
      this.connect = async () => connectStorage((await source.backend()).storage);
      return;
    }
    const inWorker = storageSettingsFromEnv(process.env);
    if (inWorker) {
      this.bucket = inWorker.container;
      this.connect = async () => connectStorage(inWorker);
      return;
    }
    const config = resolveConfig();
    this.bucket = config.storage.container;
    if (config.backend !== "local") {
      this.connect = async () => connectStorage(config.storage);
      return;
    }
    const { connectionString, dataDir } = config.local;
    this.connect = async () => {
      if (!connectionString) this.localStorage = await (await import("../local/data-dir.ts")).openLocalStorage(dataDir);
      const clients = connectStorage({ connectionString: connectionString ?? this.localStorage?.connectionString, container: this.bucket });
      // Data is often put before any executor ran on a new data folder: make the default container, as an executor would.
      await clients.container.createIfNotExists();
      return clients;
    };
  }

  /** Lets go of the local data folder's storage (Azurite stops once no process uses it); nothing to do on Azure. */
  async close(): Promise<void> {
    await this.connected?.catch(() => undefined);
    await this.localStorage?.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async putObject(bucket: string, key: string, body: ObjectBody): Promise<void> {
    const blob = (await this.container(bucket)).getBlockBlobClient(assertBlobKey(key));
    await this.translate(bucket, key, async () => {
      if (typeof body === "string") await blob.uploadData(Buffer.from(body));
      else if (body instanceof Uint8Array) await blob.uploadData(body);
      else await blob.uploadStream(body, UPLOAD_BLOCK_BYTES, UPLOAD_CONCURRENCY);
    });
  }

  getObject(bucket: string, key: string, options: GetObjectOptions & { stream: true }): Promise<Readable>;
  getObject(bucket: string, key: string, options?: GetObjectOptions & { stream?: false }): Promise<Buffer>;
  getObject(bucket: string, key: string, options?: GetObjectOptions): Promise<Buffer | Readable>;
  async getObject(bucket: string, key: string, options: GetObjectOptions = {}): Promise<Buffer | Readable> {
    const container = await this.container(bucket);
    assertBlobKey(key);
    const range = options.range === undefined ? undefined : parseRange(options.range);
    return this.translate(bucket, key, async () => {
      if (options.stream) return downloadStream(container, key, range?.start, range?.end);
      // A range is one request (the server clamps its end to the object); a whole object downloads in parallel blocks.
      return range ? readAll(await downloadStream(container, key, range.start, range.end)) : downloadBytes(container, key);
    });
  }

  /**
   * Uploads a local file, streamed in blocks (memory stays flat for any size). Lithops:
   * `upload_file(file_name, bucket, key)`; here the container comes first, as everywhere.
   */
  async uploadFile(bucket: string, key: string, path: string): Promise<void> {
    const blob = (await this.container(bucket)).getBlockBlobClient(assertBlobKey(key));
    await this.translate(bucket, key, () =>
      blob.uploadFile(path, { blockSize: UPLOAD_BLOCK_BYTES, maxSingleShotSize: UPLOAD_BLOCK_BYTES, concurrency: UPLOAD_CONCURRENCY }),
    );
  }

  /** Downloads an object into a local file, streamed (Lithops: `download_file(bucket, key, file_name)`). */
  async downloadFile(bucket: string, key: string, path: string): Promise<void> {
    const blob = (await this.container(bucket)).getBlobClient(assertBlobKey(key));
    await this.translate(bucket, key, () => blob.downloadToFile(path));
  }

  async headObject(bucket: string, key: string): Promise<ObjectHead> {
    const blob = (await this.container(bucket)).getBlobClient(assertBlobKey(key));
    const properties = await this.translate(bucket, key, () => blob.getProperties());
    return {
      size: properties.contentLength ?? 0,
      contentType: properties.contentType,
      etag: properties.etag,
      lastModified: properties.lastModified,
      metadata: properties.metadata ?? {},
    };
  }

  /** Objects under a prefix (all of the container without one), with their sizes. */
  async listObjects(bucket: string, prefix = ""): Promise<ObjectInfo[]> {
    const container = await this.container(bucket);
    assertBlobKey(prefix, { prefix: true });
    return this.translate(bucket, undefined, async () => {
      const objects: ObjectInfo[] = [];
      for await (const blob of container.listBlobsFlat({ prefix: prefix || undefined })) {
        objects.push({ key: blob.name, size: blob.properties.contentLength ?? 0, lastModified: blob.properties.lastModified });
      }
      return objects;
    });
  }

  async listKeys(bucket: string, prefix = ""): Promise<string[]> {
    return (await this.listObjects(bucket, prefix)).map((object) => object.key);
  }

  /** Removes an object; removing one that does not exist is not an error (as in S3 and Lithops). */
  async deleteObject(bucket: string, key: string): Promise<void> {
    const blob = (await this.container(bucket)).getBlobClient(assertBlobKey(key));
    await this.translate(bucket, key, () => blob.deleteIfExists());
  }

  async deleteObjects(bucket: string, keys: readonly string[]): Promise<void> {
    for (const key of keys) assertBlobKey(key);
    // The container is checked and connected once, not once per key.
    const container = await this.container(bucket);
    for (let i = 0; i < keys.length; i += DELETE_CONCURRENCY) {
      await Promise.all(keys.slice(i, i + DELETE_CONCURRENCY).map((key) => this.translate(bucket, key, () => container.getBlobClient(key).deleteIfExists())));
    }
  }

  /**
   * Creates a container (Lithops: `create_bucket`); one that exists already is kept as it is.
   * Its name must be a valid container name (3-63 lowercase letters, digits and single hyphens).
   */
  async createBucket(bucket: string): Promise<void> {
    const container = await this.container(bucket);
    await this.translate(bucket, undefined, () => container.createIfNotExists());
  }

  private async container(bucket: string): Promise<ContainerClient> {
    assertContainerName(bucket, "bucket");
    this.connected ??= this.connect();
    return (await this.connected).blobService.getContainerClient(bucket);
  }

  /** Turns the SDK's 404 and 416 answers into errors that name the object or range. */
  private async translate<T>(bucket: string, key: string | undefined, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      const where = key === undefined ? `container '${bucket}'` : `az://${bucket}/${key}`;
      if (isNotFound(error)) {
        // HEAD answers (getProperties, and downloads that start with one) carry the code only in the details.
        const { code, details } = error as { code?: string; details?: { errorCode?: string } };
        const missingContainer = (code ?? details?.errorCode) === "ContainerNotFound";
        throw new StorageNoSuchKeyError(missingContainer ? `container '${bucket}' does not exist (for ${where})` : `${where} does not exist`);
      }
      if ((error as { statusCode?: number }).statusCode === 416) {
        throw new InvalidArgumentError(`the requested range starts beyond the end of ${where}`);
      }
      throw error;
    }
  }
}

/** Parses 'bytes=first-last' (inclusive) or 'bytes=first-' into [start, end). */
export function parseRange(range: string): { start: number; end?: number } {
  const match = /^bytes=(\d+)-(\d*)$/.exec(range);
  const start = match ? Number(match[1]) : NaN;
  const last = match && match[2] !== "" ? Number(match[2]) : undefined;
  if (!match || !Number.isSafeInteger(start) || (last !== undefined && (!Number.isSafeInteger(last) || last < start))) {
    throw new InvalidArgumentError(`range ${JSON.stringify(range)} is not valid: use 'bytes=first-last' (inclusive, first <= last) or 'bytes=first-'`);
  }
  return { start, end: last === undefined ? undefined : last + 1 };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
