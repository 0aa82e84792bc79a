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
  return queuesNamed(runtimeResourceName(name, memoryMb));
}

/** A runtime queue and its poison queue, named after it. */
export function queuesNamed(queue: string): RuntimeQueues {
  return { queue, poisonQueue: `${queue}-poison` };
}

/** Program ids: what programQueues appends, short enough that every queue name stays within Azure's 63 characters. */
export const PROGRAM_ID_PATTERN = /^[a-z0-9]{4,12}$/;

/**
 * The queues of one program's calls to a runtime on the local backend: the runtime's queues
 * with the program's id appended, so that programs sharing a data folder never run each
 * other's calls (only a program that attaches to a job starts workers on its queue).
 */
export function programQueues(runtime: RuntimeQueues, programId: string): RuntimeQueues {
  if (!PROGRAM_ID_PATTERN.test(programId)) {
    throw new InvalidRuntimeNameError(`program id ${JSON.stringify(programId)} is not valid: use 4-12 lower-case letters or digits`);
  }
  return queuesNamed(`${runtime.queue}-${programId}`);
}
