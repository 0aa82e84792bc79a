import { InvalidRuntimeNameError } from "./errors.ts";
import { createHash } from "node:crypto";

/**
 * A runtime is named like Lithops names it: `default`, or a container image reference
 * (`myaccount/runtimename:tag`, lower case). From the name and memory we derive the
 * Azure names (Container App, queues), which client, worker, local backend and Pulumi
 * components must agree on.
 */
const IMAGE_REFERENCE =
  /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

export const DEFAULT_RUNTIME = "default";

export function assertRuntimeName(name: string, key = "runtime"): string {
  if (name === DEFAULT_RUNTIME || (name.length <= 255 && IMAGE_REFERENCE.test(name))) return name;
  throw new InvalidRuntimeNameError(
    `${key}: ${JSON.stringify(name)} is not a runtime name; use 'default' or an image reference in lower case such as 'myaccount/runtimename:tag'`,
  );
}

/** Container App names: 2-32 chars, lower case letters, digits and single hyphens, starting with a letter. */
export const APP_NAME_MAX = 32;

/** Base name of a runtime's Azure resources: `lithops-<name>-<memory>`, with a hash when too long or when the name had to be changed to fit. */
export function runtimeResourceName(name: string, memoryMb: number): string {
  assertRuntimeName(name);
  const slug = `lithops-${name}-${memoryMb}`
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/-$/, "");
  // '/', ':', '.' and '_' all become '-', so such names get a hash: 'a/b:c' and 'a/b-c' must not share a queue.
  if (slug.length <= APP_NAME_MAX && /^[a-z0-9-]+$/.test(name)) return slug;
  const hash = createHash("sha256").update(`${name}|${memoryMb}`).digest("hex").slice(0, 6);
  return `${slug.slice(0, APP_NAME_MAX - hash.length - 1).replace(/-$/, "")}-${hash}`;
}

export interface RuntimeQueues {
  queue: string;
  poisonQueue: string;
}

export function runtimeQueues(name: string, memoryMb: number): RuntimeQueues {
  const base = runtimeResourceName(name, memoryMb);
  return { queue: base, poisonQueue: `${base}-poison` };
}
