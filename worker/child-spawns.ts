import { ChildProcess } from "node:child_process";

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
