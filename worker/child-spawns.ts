import childProcess, { ChildProcess } from "node:child_process";
import { readlinkSync } from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { CHILD_GRACE_MS } from "./call-children.ts";

/** ChildProcess's own start method, which every asynchronous spawn goes through (@types/node does not declare it). */
interface Startable {
  spawn(this: ChildProcess, options: unknown): unknown;
}

/**
 * Tells `onSpawn` of every child process this thread starts asynchronously: spawn, exec,
 * execFile and fork all start theirs through ChildProcess.prototype.spawn, which is this
 * thread's own (each worker thread has its own copy of the built-in modules), so calls in
 * other threads are not affected. It runs in the spawning code's async context, so the
 * caller can tell which call started the process.
 */
export function reportSpawns(onSpawn: (child: ChildProcess) => void): void {
  const prototype = ChildProcess.prototype as unknown as Startable;
  const start = prototype.spawn;
  prototype.spawn = function reportedSpawn(this: ChildProcess, options: unknown) {
    const result = start.call(this, options);
    if (this.pid !== undefined) onSpawn(this);
    return result;
  };
}

/** What the thread's synchronous starters ask of the call they run in. */
export interface SyncSpawnWatch {
  /** When the pool ends the call for its timeout (ms since the epoch). */
  deadline: number;
  /** Told before the thread blocks in the spawn, with the thread's Linux task id (absent without /proc). */
  starting(task: number): void;
  returned(): void;
}

/** The synchronous starters; execSync and execFileSync call the module's own spawnSync, not the export, so each is wrapped. */
const SYNC_STARTERS = ["spawnSync", "execSync", "execFileSync"] as const;
type SyncStarter = (...args: unknown[]) => unknown;

/**
 * How long past the call's deadline a synchronous child is killed by its own timeout: the
 * pool ends the child and what it started at the deadline (SIGTERM, SIGKILL CHILD_GRACE_MS
 * later); this timeout only backs that up (no /proc). Were it the deadline itself, it could
 * kill the child first, leaving the child's own children outside any tree the pool can find.
 */
const SYNC_BACKSTOP_MS = CHILD_GRACE_MS + 1000;

/** This thread's Linux task id, which the children it forks name as their parent (/proc/<pid>/task/<tid>/children). */
let ownTask: number | undefined | null = null;
function threadTask(): number | undefined {
  if (ownTask === null) {
    try {
      ownTask = Number(readlinkSync("/proc/thread-self").split("/").pop());
    } catch {
      ownTask = undefined;
    }
  }
  return ownTask;
}

/** Where a starter's options are: execSync(command, options); spawnSync and execFileSync(file, args?, options?). */
function optionsIndex(name: (typeof SYNC_STARTERS)[number], args: unknown[]): number {
  if (name === "execSync") return 1;
  const second = args[1];
  return second !== null && typeof second === "object" && !Array.isArray(second) ? 1 : 2;
}

/** `options` with a timeout of at most `limitMs` (SIGKILL unless the caller chose a signal); a caller's own smaller timeout is kept. */
function limitedOptions(options: unknown, limitMs: number): unknown {
  if (options !== undefined && options !== null && typeof options !== "object") return options;
  const given = (options ?? {}) as { timeout?: unknown; killSignal?: unknown };
  if (typeof given.timeout === "number" && given.timeout > 0 && given.timeout <= limitMs) return options;
  return { ...given, timeout: Math.max(1, Math.ceil(limitMs)), killSignal: given.killSignal ?? "SIGKILL" };
}

/**
 * Makes this thread's spawnSync, execSync and execFileSync (CommonJS exports and, through
 * syncBuiltinESMExports, ESM named imports alike) end with the call that runs them: each is
 * told the call's deadline, and the call is told the thread's task before it blocks, so that
 * the pool can find and end the child, whose pid nothing can report while the thread is
 * blocked, when the call ends (worker/call-children.ts). Outside a call they are unchanged.
 */
export function limitSyncSpawns(watchFor: () => SyncSpawnWatch | undefined): void {
  const exported = childProcess as unknown as Record<(typeof SYNC_STARTERS)[number], SyncStarter>;
  for (const name of SYNC_STARTERS) {
    const start = exported[name];
    exported[name] = function limitedSyncStart(this: unknown, ...args: unknown[]) {
      const watch = watchFor();
      if (!watch) return start.apply(this, args);
      const at = optionsIndex(name, args);
      args[at] = limitedOptions(args[at], watch.deadline + SYNC_BACKSTOP_MS - Date.now());
      const task = threadTask();
      if (task !== undefined) watch.starting(task);
      try {
        return start.apply(this, args);
      } finally {
        watch.returned();
      }
    };
  }
  syncBuiltinESMExports();
}
