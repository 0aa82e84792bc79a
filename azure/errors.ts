import { LithopsError } from "../protocol/errors.ts";
export class InvalidRuntimeNameError extends LithopsError {
  override name = "InvalidRuntimeNameError";
}

/**
 * Names built from user input before they reach Azure Storage: container names, blob keys
 * and `az://container/key` URIs. Checked on the client, so that a bad name fails with a
 * message naming it instead of an HTTP 400 (or a key that escapes its prefix) later.
 */
export class InvalidStorageNameError extends LithopsError {
  override name = "InvalidStorageNameError";
}
