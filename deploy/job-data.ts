import { connectStorage, isNotFound, type StorageSettings } from "../azure/storage-connection.ts";
import { JOBS_PREFIX, RUNTIMES_PREFIX } from "../protocol/keys.ts";

/**
 * What `clean` deletes from a storage account: the blobs under the given prefixes of the job
 * container (Lithops's job data and runtime metadata), and on the local backend its queues
 * too. Everything else in the account (the user's own objects, other containers) stays.
 */

/** What `clean` deletes, on a stack and on the local backend alike: the job data and the runtime metadata. */
export const CLEANED_PREFIXES: readonly string[] = [`${JOBS_PREFIX}/`, `${RUNTIMES_PREFIX}/`];

/** Deletes at most this many blobs at once: one listing page. */
const PAGE_SIZE = 100;

export interface DeletedData {
  blobs: number;
  queues: number;
}

/**
 * Deletes every blob under `prefixes` in the settings' container; with `queues`, every queue of
 * the account as well (the local backend's runtimes are its queues, and only lithops-aca makes
 * queues there). A container that does not exist holds nothing to delete.
 */
export async function deleteJobData(settings: StorageSettings, prefixes: readonly string[], options: { queues?: boolean } = {}): Promise<DeletedData> {
  const { container, queueService } = connectStorage(settings);
  let blobs = 0;
  if (await container.exists()) {
    for (const prefix of prefixes) {
      for await (const page of container.listBlobsFlat({ prefix }).byPage({ maxPageSize: PAGE_SIZE })) {
        const names = page.segment.blobItems.map((blob) => blob.name);
        await Promise.all(names.map((name) => container.deleteBlob(name).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)))));
        blobs += names.length;
      }
    }
  }
  let queues = 0;
  if (options.queues) {
    for await (const queue of queueService.listQueues()) {
      await queueService.deleteQueue(queue.name);
      queues += 1;
    }
  }
  return { blobs, queues };
}
