import { readFileSync } from "node:fs";

const MB = 1024 * 1024;

/** Where cgroup v2 and v1 give a container's memory limit (v2 says `max` when there is none). */
const CGROUP_LIMIT_FILES = ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"];
/**
 * The kernel ends the whole container once its cgroup reaches the limit, and resident memory is
 * not all it counts (page cache, kernel memory): a call is stopped a little before.
 */
const CGROUP_SHARE = 0.95;

/** The resident memory a worker process may reach, and what the limit is called in an error. */
export interface MemoryLimit {
  bytes: number;
  /** E.g. `runtime_memory 512 MB` or `the container's memory limit (1024 MB)`. */
  describe: string;
}

/** The container's memory limit in bytes, if this process runs in a cgroup that has one. */
export function cgroupMemoryLimit(files: string[] = CGROUP_LIMIT_FILES): number | undefined {
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8").trim();
    } catch {
      continue;
    }
    const bytes = Number(text);
    // cgroup v1 says "no limit" with a number near 2^63.
    if (Number.isSafeInteger(bytes) && bytes > 0) return bytes;
    return undefined;
  }
  return undefined;
}

/** The lower of the runtime's memory and what the container allows. */
export function memoryLimit(runtimeMemoryMb: number, cgroupBytes = cgroupMemoryLimit()): MemoryLimit {
  const runtime = { bytes: runtimeMemoryMb * MB, describe: `runtime_memory ${runtimeMemoryMb} MB` };
  if (cgroupBytes === undefined || cgroupBytes * CGROUP_SHARE >= runtime.bytes) return runtime;
  return { bytes: Math.floor(cgroupBytes * CGROUP_SHARE), describe: `the container's memory limit (${Math.round(cgroupBytes / MB)} MB)` };
}
