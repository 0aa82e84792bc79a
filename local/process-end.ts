import { readFileSync, statSync } from "node:fs";

/**
 * What the local backend undoes when the client process ends without close(): an exit
 * (process.exit, the end of the program, an uncaught exception) or a catchable signal
 * (SIGINT, SIGTERM, SIGHUP). The cleanups are synchronous: nothing asynchronous runs once
 * the process is exiting. A SIGKILL runs nothing here: then the workers' watchdog stops
 * them (parent-watchdog.cjs) and the next start of the local backend sweeps what is left.
 *
 * Signals: while a cleanup is registered, one listener per signal is installed (and removed
 * with the last cleanup). When the signal comes and that listener is the only one, it first
 * gives the interrupt steps (onInterrupt: asynchronous, such as cancelling the unfinished
 * calls in storage) up to INTERRUPT_GRACE_MS, then runs the cleanups and raises the signal
 * again, so the process ends as it would have without lithops-aca (the shell sees 130 for
 * SIGINT, 143 for SIGTERM). A second signal during the grace ends it at once. When the user
 * has a listener of their own, the user decides: nothing is done at the signal, and the
 * cleanups run at 'exit' if the user's handler ends the process (the interrupt steps do not:
 * call close() from the handler to cancel).
 */

type Cleanup = () => void;
type InterruptStep = () => Promise<void>;

const cleanups = new Set<Cleanup>();
const interruptSteps = new Set<InterruptStep>();
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
/** How long a signal waits for the interrupt steps: a few storage requests, with room for a loaded machine. */
export const INTERRUPT_GRACE_MS = 3000;
let interrupting = false;

/** Runs `cleanup` once when the process ends (see above); the returned function unregisters it. */
export function onProcessEnd(cleanup: Cleanup): () => void {
  if (cleanups.size === 0) install();
  cleanups.add(cleanup);
  return () => {
    if (cleanups.delete(cleanup) && cleanups.size === 0) uninstall();
  };
}

/**
 * Runs `step` when a signal ends the process, before the cleanups (see above), for as long as
 * a cleanup is registered; the returned function unregisters it.
 */
export function onInterrupt(step: InterruptStep): () => void {
  interruptSteps.add(step);
  return () => {
    interruptSteps.delete(step);
  };
}

/**
 * Whether a process with this pid runs (EPERM: it exists but belongs to someone else). A
 * zombie does not: an orphan that ended waits for PID 1 to reap it, which some inits do
 * only every few seconds (Linux: the state in /proc).
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat[stat.lastIndexOf(")") + 2] !== "Z"; // the state follows the command name, which may hold ")"
  } catch {
    return true; // no /proc (not Linux), or it ended just now
  }
}

/**
 * Whether the process runs as this user: its /proc folder's owner on Linux; elsewhere, that
 * signalling it is not refused (EPERM: another user's). False when it does not exist.
 */
export function runsAsThisUser(pid: number): boolean {
  try {
    return statSync(`/proc/${pid}`).uid === process.getuid?.();
  } catch {
    // No /proc (not Linux), or the process ended just now: ask the kernel below.
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A process's arguments (Linux), or undefined where they cannot be read. */
export function processArgs(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(0, -1);
  } catch {
    return undefined;
  }
}

function runAll(): void {
  for (const cleanup of [...cleanups]) {
    cleanups.delete(cleanup);
    try {
      cleanup();
    } catch {
      // The process is ending: one failed cleanup must not keep the others from running.
    }
  }
  uninstall();
}

function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return;
  const end = () => {
    runAll();
    process.kill(process.pid, signal);
  };
  if (interrupting || interruptSteps.size === 0) {
    end();
    return;
  }
  interrupting = true;
  const steps = [...interruptSteps].map((step) => step().catch(() => undefined));
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise((resolve) => {
    timer = setTimeout(resolve, INTERRUPT_GRACE_MS);
  });
  Promise.race([Promise.all(steps), grace]).then(() => {
    clearTimeout(timer);
    end();
  });
}

function install(): void {
  process.on("exit", runAll);
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

function uninstall(): void {
  process.off("exit", runAll);
  for (const signal of SIGNALS) process.off(signal, onSignal);
}
