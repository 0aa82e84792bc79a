import { InvalidStorageNameError } from "./errors.ts";

/** Azure: 3-63 characters, lower-case letters, digits and single hyphens, starting and ending with a letter or digit. */
export const CONTAINER_NAME = /^(?=.{3,63}$)[a-z0-9]+(?:-[a-z0-9]+)*$/;
export const MAX_BLOB_KEY_LENGTH = 1024;

/** The blob container for job data when none is configured: the stack creates it, the client and the local backend use it. */
export const DEFAULT_JOB_CONTAINER = "lithops-jobs";
const MAX_KEY_SEGMENTS = 254;
// C0 and C1 control characters and DEL: Azure rejects or mangles them in URLs and XML listings.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export function assertContainerName(name: string, what = "container"): string {
  if (typeof name !== "string" || !CONTAINER_NAME.test(name)) {
    throw new InvalidStorageNameError(
      `${what} ${JSON.stringify(String(name).slice(0, 80))} is not a valid Azure container name: use 3-63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit`,
    );
  }
  return name;
}

/**
 * A blob key (or, with `prefix`, a key prefix that may end with '/' or be empty): at most
 * 1,024 characters, no control characters, no backslash, no '.' or '..' path segments,
 * no trailing dot (Azure drops it), at most 254 segments.
 */
export function assertBlobKey(key: string, options: { prefix?: boolean; what?: string } = {}): string {
  const what = options.what ?? (options.prefix ? "key prefix" : "key");
  const fail = (why: string): never => {
    throw new InvalidStorageNameError(`${what} ${JSON.stringify(String(key).slice(0, 80))} is not a valid blob key: ${why}`);
  };
  if (typeof key !== "string") return fail("not a string");
  if (key.length === 0) return options.prefix ? key : fail("it is empty");
  if (key.length > MAX_BLOB_KEY_LENGTH) fail(`it is longer than ${MAX_BLOB_KEY_LENGTH} characters`);
  if (CONTROL.test(key)) fail("it contains a control character");
  if (key.includes("\\")) fail("it contains a backslash");
  const segments = key.split("/");
  if (segments.length > MAX_KEY_SEGMENTS) fail(`it has more than ${MAX_KEY_SEGMENTS} path segments`);
  if (segments.some((segment) => segment === "." || segment === "..")) fail("it contains a '.' or '..' path segment");
  if (key.startsWith("/")) fail("it starts with '/'");
  if (!options.prefix && key.endsWith("/")) fail("it ends with '/' (that is a prefix, not an object)");
  if (/\.\/*$/.test(key)) fail("it ends with a dot");
  return key;
}

export interface StorageUri {
  container: string;
  key: string;
}

/**
 * Parses `az://container/key` (an object) or, with `prefix`, `az://container/prefix/`
 * (`az://container` alone is the whole container).
 */
export function parseStorageUri(uri: string, options: { prefix?: boolean } = {}): StorageUri {
  const match = typeof uri === "string" ? /^az:\/\/([^/]*)(?:\/(.*))?$/s.exec(uri) : null;
  if (!match) {
    throw new InvalidStorageNameError(`${JSON.stringify(String(uri).slice(0, 80))} is not a storage URI: use az://container/key`);
  }
  const container = assertContainerName(match[1], `container of ${JSON.stringify(uri.slice(0, 80))}`);
  const key = assertBlobKey(match[2] ?? "", { prefix: options.prefix, what: `key of ${JSON.stringify(uri.slice(0, 80))}` });
  return { container, key };
}
