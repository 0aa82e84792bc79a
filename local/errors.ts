import { LithopsError } from "../protocol/errors.ts";
export class LocalDataDirBusyError extends LithopsError {
  override name = "LocalDataDirBusyError";
}

/** The data folder, or a file in it, belongs to another user or others may write it: nothing in it can be trusted. */
export class LocalDataDirUnsafeError extends LithopsError {
  override name = "LocalDataDirUnsafeError";
}

/** A runtime's local worker processes end before they start taking messages, again and again: what they printed says why. */
export class WorkerStartError extends LithopsError {
  override name = "WorkerStartError";
}
