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
 * CHILD_GRACE_MS. When the worker process exits (after SIGTERM's drain, a one-message job,
 * an uncaught error), whatever is left is killed at once: nothing asynchronous runs then.
 * Not ended with its call: the child of a spawnSync/execSync the call is stopped in (no
 * thread can say whose it is); it goes at the worker's exit.
 */
export class CallChildren {
  private readonly byCall = new Map<number, Set<number>>();
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

  /** Ends the processes call `seq` started that still run. */
  end(seq: number): void {
    const pids = this.byCall.get(seq);
    this.byCall.delete(seq);
    if (!pids || pids.size === 0) return;
    const entries = processTrees(pids);
    signalProcesses(entries, "SIGTERM");
    for (const entry of entries) this.ending.add(entry);
    setTimeout(() => {
      for (const entry of entries) this.ending.delete(entry);
      signalProcesses(stillRunning(entries), "SIGKILL");
    }, CHILD_GRACE_MS).unref();
  }

  /** Kills, synchronously, every process a call started that may still run. */
  killAllNow(): void {
    const pids = [...this.byCall.values()].flatMap((set) => [...set]);
    this.byCall.clear();
    signalProcesses([...processTrees(pids), ...stillRunning([...this.ending])], "SIGKILL");
    this.ending.clear();
  }
}
