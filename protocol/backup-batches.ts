/**
 * Batch numbers of backup copies (`speculative`, client/speculation.ts): a batch's backup is
 * queued as batch number + BACKUP_BATCH_OFFSET, so that its status document has a key of its
 * own and whoever reads a job's outputs (the client, a reducer reading its maps' results)
 * knows from the number alone which batch a document stands for.
 */
export const BACKUP_BATCH_OFFSET = 2 ** 40;

export function backupBatchOf(batch: number): number {
  return batch + BACKUP_BATCH_OFFSET;
}

/** The batch a status document's number stands for: itself, or the batch a backup copies. */
export function originalBatchOf(batch: number): number {
  return batch >= BACKUP_BATCH_OFFSET ? batch - BACKUP_BATCH_OFFSET : batch;
}
