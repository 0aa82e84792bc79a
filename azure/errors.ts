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

/**
 * An Azure storage endpoint that never answered: a wrong account name or endpoint, or no
 * network. Raised at the first request, without retries, naming the setting to check.
 */
export class StorageUnreachableError extends LithopsError {
  override name = "StorageUnreachableError";
}

/** No Azure credential could sign requests to the storage account: names what was tried and how to sign in. */
export class StorageCredentialError extends LithopsError {
  override name = "StorageCredentialError";
}
