import { readFileSync } from "node:fs";
import { descendantsOf, type ProcessEntry, processTrees, signalProcesses, stillRunning } from "./process-tree.ts";

/** How long a call's processes get to exit on SIGTERM before they are killed. */
export const CHILD_GRACE_MS = 2000;

/** Every tracker of this process, so the worker's exit can end what their calls started. */
const trackers = new Set<CallChildren>();

function endAllAtExit(): void {
  for (const tracker of trackers) tracker.killAllNow();
  // The pool runs in the worker process, which starts no process of its own: every child left
  // is a call's, including those no thread reported (a spawnSync or execSync still running,
  // whose blocked thread would otherwise hold the exit until that child ends).
  signalProcesses(descendantsOf(process.pid), "SIGKILL");
}

/**
 * The child processes each running call started (its thread reports every spawn and exit:
 * worker/child-spawns.ts), ended with the call: when its outcome is settled, whether it
 * returned, timed out, was cancelled or lost its thread, each process the call started that
 * still runs, and what those started in turn, gets SIGTERM, then SIGKILL after
 * CHILD_GRACE_MS. The child of a spawnSync/execSync/execFileSync the call is blocked in has
 * no pid its thread can report: the thread names its own task instead (worker/child-spawns.ts),
 * and that task's children are ended with the call. When the worker process exits (after
 * SIGTERM's drain, a one-message job, an uncaught error), whatever is left is killed at
 * once: nothing asynchronous runs then.
 */
export class CallChildren {
  private readonly byCall = new Map<number, Set<number>>();
  /** The Linux task id of the thread each call is blocked in a synchronous spawn in. */
  private readonly blocked = new Map<number, number>();
  /** Processes sent SIGTERM and not yet SIGKILLed. */
  private readonly ending = new Set<ProcessEntry>();

  constructor() {
    if (trackers.size === 0) process.on("exit", endAllAtExit);
    trackers.add(this);
  }

  spawned(seq: number, pid: number): void {
    const pids = this.byCall.get(seq) ?? new Set();
    pids.add(pid);
    this.byCall.set(seq, pids);
  }

  exited(seq: number, pid: number): void {
    this.byCall.get(seq)?.delete(pid);
  }

  blockedIn(seq: number, task: number): void {
    this.blocked.set(seq, task);
  }

  returned(seq: number): void {
    this.blocked.delete(seq);
  }

  /** Ends the processes call `seq` started that still run. */
  end(seq: number): void {
    const pids = [...(this.byCall.get(seq) ?? []), ...this.syncChildren(seq)];
    this.byCall.delete(seq);
    if (pids.length === 0) return;
    const entries = processTrees(pids);
    signalProcesses(entries, "SIGTERM");
    for (const entry of entries) this.ending.add(entry);
    setTimeout(() => {
      for (const entry of entries) this.ending.delete(entry);
      signalProcesses(stillRunning(entries), "SIGKILL");
    }, CHILD_GRACE_MS).unref();
  }

  /**
   * The children of the thread call `seq` is blocked in a synchronous spawn in. Those of other
   * calls sharing the thread are ended too, rightly: a blocked call ends only with its
   * thread, and with it every call the thread runs.
   */
  private syncChildren(seq: number): number[] {
    const task = this.blocked.get(seq);
    this.blocked.delete(seq);
    if (task === undefined) return [];
    try {
      return readFileSync(`/proc/${process.pid}/task/${task}/children`, "utf8").split(" ").filter(Boolean).map(Number);
    } catch {
      // The thread is gone, or the kernel does not list children: the spawn's own timeout ends the child.
      return [];
    }
  }

  /** Kills, synchronously, every process a call started that may still run. */
  killAllNow(): void {
    const pids = [...this.byCall.values()].flatMap((set) => [...set]);
    this.byCall.clear();
    signalProcesses([...processTrees(pids), ...stillRunning([...this.ending])], "SIGKILL");
    this.ending.clear();
  }
}
