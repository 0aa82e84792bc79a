import { existsSync } from "node:fs";
import { openLocalStorage } from "../local/data-dir.ts";
import { JOBS_PREFIX, RUNTIMES_PREFIX } from "../protocol/keys.ts";
import type { RuntimeMetadata } from "../protocol/output.ts";
import { connectStorage, downloadBytes } from "../azure/storage-connection.ts";
import { runtimeQueues } from "../azure/runtime-name.ts";

/** A runtime the local backend ran, from the metadata its workers recorded (`lithops.runtimes/<queue>/metadata.json`). */
export interface LocalRuntime {
  name: string;
  memory: number;
  queue: string;
  nodeVersion: string;
  workerVersion: string;
  startedAt: string;
}

/**
 * Each program's workers record the runtime under the program's own queue (azure/runtime-name.ts's
 * programQueues): the runtime is listed once, as its latest worker recorded it, under the runtime's queue name.
 */
function onePerRuntime(runtimes: LocalRuntime[]): LocalRuntime[] {
  const latest = new Map<string, LocalRuntime>();
  for (const runtime of runtimes) {
    if (runtime.memory === 0) {
      latest.set(`unreadable|${runtime.queue}`, runtime);
      continue;
    }
    const key = `${runtime.name}|${runtime.memory}`;
    const seen = latest.get(key);
    if (!seen || seen.startedAt < runtime.startedAt) latest.set(key, { ...runtime, queue: runtimeQueues(runtime.name, runtime.memory).queue });
  }
  return [...latest.values()];
}

/**
 * What the local backend's persistent data folder holds: the runtimes its workers recorded
 * and how many executors left job data. Starts Azurite on the folder for the time of the
 * reading (so no executor may be using the folder); an absent folder holds nothing.
 */
export async function readLocalState(dir: string, container: string): Promise<{ runtimes: LocalRuntime[]; executors: number }> {
  if (!existsSync(dir)) return { runtimes: [], executors: 0 };
  const storage = await openLocalStorage(dir);
  try {
    const clients = connectStorage({ connectionString: storage.connectionString, container });
    if (!(await clients.container.exists())) return { runtimes: [], executors: 0 };
    const runtimes: LocalRuntime[] = [];
    for await (const blob of clients.container.listBlobsFlat({ prefix: `${RUNTIMES_PREFIX}/` })) {
      const match = /^[^/]+\/([^/]+)\/metadata\.json$/.exec(blob.name);
      if (!match) continue;
      try {
        const metadata = JSON.parse((await downloadBytes(clients.container, blob.name)).toString()) as RuntimeMetadata;
        runtimes.push({
          name: metadata.runtime,
          memory: metadata.memory,
          queue: match[1]!,
          nodeVersion: metadata.nodeVersion,
          workerVersion: metadata.workerVersion,
          startedAt: metadata.startedAt,
        });
      } catch {
        runtimes.push({ name: "(unreadable metadata)", memory: 0, queue: match[1]!, nodeVersion: "", workerVersion: "", startedAt: "" });
      }
    }
    const executors = new Set<string>();
    for await (const item of clients.container.listBlobsByHierarchy("/", { prefix: `${JOBS_PREFIX}/` })) {
      if (item.kind === "prefix") executors.add(item.name);
    }
    runtimes.sort((a, b) => a.name.localeCompare(b.name) || a.memory - b.memory);
    return { runtimes: onePerRuntime(runtimes), executors: executors.size };
  } finally {
    await storage.close();
  }
}
