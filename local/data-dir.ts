import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { startAzurite } from "./azurite.ts";
import { LithopsError } from "../protocol/errors.ts";

/**
 * A persistent home for the local backend's storage: Azurite keeps its data in this folder
 * between runs, so what ran locally (job data, the runtimes' recorded metadata) is still
 * there for `lithops-aca runtime list -b local` and `clean -b local`. Without it (the
 * default for a FunctionExecutor) the local backend keeps its storage in a temporary
 * folder it removes on close. One process at a time uses a folder: a lock file holds the
 * owner's pid, and a lock left by a process that died is taken over.
 */

/** Where the command line keeps the local backend's data unless `local.data_dir` says otherwise. */
export const DEFAULT_LOCAL_DATA_DIR = join(homedir(), ".lithops-aca", "local");

const LOCK_FILE = "lithops-aca.lock";

export class LocalDataDirBusyError extends LithopsError {
  override name = "LocalDataDirBusyError";
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Takes the folder's lock (creating the folder); throws LocalDataDirBusyError while another live process holds it. */
export function lockDataDir(dir: string): { release(): void } {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    let fd: number;
    try {
      fd = openSync(path, "wx");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      let owner = Number.NaN;
      try {
        owner = Number((JSON.parse(readFileSync(path, "utf8")) as { pid?: unknown }).pid);
      } catch {
        // A lock being written right now, or garbage: treat a second failure as busy below.
      }
      if (Number.isInteger(owner) && owner > 0 && !alive(owner)) {
        rmSync(path, { force: true });
        continue;
      }
      throw new LocalDataDirBusyError(
        `the local backend's data folder ${dir} is in use by process ${Number.isInteger(owner) ? owner : "(unknown)"}: ` +
          "close that executor (or wait for its command to end) and retry, or use another folder with `local.data_dir`",
      );
    }
    writeSync(fd, JSON.stringify({ pid: process.pid, since: new Date().toISOString() }));
    closeSync(fd);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        try {
          unlinkSync(path);
        } catch {
          // Already gone (a clean removed the folder).
        }
      },
    };
  }
  throw new LocalDataDirBusyError(`the local backend's data folder ${dir} is locked (${path}); remove that file if no lithops-aca process is running`);
}

export interface LocalStorage {
  dir: string;
  /** Azurite's connection string: give it to the local backend as `local.connection_string`. */
  connectionString: string;
  /** Stops Azurite (its data stays in the folder) and releases the lock. */
  close(): Promise<void>;
}

/** Starts Azurite on the folder's data, holding the folder's lock until close(). */
export async function openLocalStorage(dir: string): Promise<LocalStorage> {
  const lock = lockDataDir(dir);
  try {
    const azurite = await startAzurite({ location: dir });
    let closed = false;
    return {
      dir,
      connectionString: azurite.connectionString,
      close: async () => {
        if (closed) return;
        closed = true;
        try {
          await azurite.stop();
        } finally {
          lock.release();
        }
      },
    };
  } catch (error) {
    lock.release();
    throw error;
  }
}

function sizeOf(path: string): number {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((total, entry) => total + sizeOf(join(path, entry)), 0);
}

/** Removes everything the local backend keeps in the folder (job data, runtime metadata, queues); returns the bytes freed. */
export function cleanLocalDataDir(dir: string): { existed: boolean; bytes: number } {
  if (!existsSync(dir)) return { existed: false, bytes: 0 };
  const lock = lockDataDir(dir);
  const bytes = sizeOf(dir);
  try {
    for (const entry of readdirSync(dir)) {
      if (entry !== LOCK_FILE) rmSync(join(dir, entry), { recursive: true, force: true });
    }
  } finally {
    lock.release();
  }
  rmSync(dir, { recursive: true, force: true });
  return { existed: true, bytes };
}
