import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { processAlive } from "./process-end.ts";

/**
 * The local backend's temporary folders (the workers' log, a private Azurite's data) carry
 * the pid of the process that made them, so that a folder whose process was killed before
 * it could remove it (SIGKILL) is removed by the next start of the local backend.
 */

export const TEMP_PREFIXES = { workerLog: "lithops-local-", azurite: "lithops-azurite-" } as const;
const OWNER_FILE = "owner.pid";

/** A new temporary folder owned by this process. */
export function ownedTempDir(prefix: (typeof TEMP_PREFIXES)[keyof typeof TEMP_PREFIXES]): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(dir, OWNER_FILE), String(process.pid));
  return dir;
}

/** Removes this user's temporary folders whose owner process is gone (never another user's); returns their paths. */
export function sweepOrphanedTempDirs(root = tmpdir()): string[] {
  const removed: string[] = [];
  for (const entry of readdirSync(root)) {
    if (!Object.values(TEMP_PREFIXES).some((prefix) => entry.startsWith(prefix))) continue;
    const dir = join(root, entry);
    if (!ownedByThisUser(dir)) continue;
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, OWNER_FILE), "utf8"));
    } catch {
      continue; // no owner recorded (being made right now, or not ours): leave it
    }
    if (Number.isInteger(owner) && owner > 0 && !processAlive(owner)) {
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    }
  }
  return removed;
}

/** A real folder (not a link to one) owned by this user. */
function ownedByThisUser(path: string): boolean {
  try {
    const stat = lstatSync(path);
    return stat.isDirectory() && (process.getuid === undefined || stat.uid === process.getuid());
  } catch {
    return false;
  }
}
