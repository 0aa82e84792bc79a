import { readdirSync, readFileSync } from "node:fs";

/** A process as /proc shows it; `start` (clock ticks since boot) tells it from a later process given the same pid. */
export interface ProcessEntry {
  pid: number;
  ppid: number;
  /** Its process group: a process spawned with `detached: true` leads a group of its own. */
  pgrp: number;
  start: string;
}

/** The machine's processes (Linux); empty where there is no /proc, so only the pids given are signalled. */
function processTable(): Map<number, ProcessEntry> {
  const table = new Map<number, ProcessEntry>();
  let names: string[];
  try {
    names = readdirSync("/proc");
  } catch {
    return table;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // After the command name (which may hold spaces and ")"): state, ppid, pgrp, ..., starttime (field 22).
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      table.set(Number(name), { pid: Number(name), ppid: Number(fields[1]), pgrp: Number(fields[2]), start: fields[19] });
    } catch {
      // It ended while the table was read.
    }
  }
  return table;
}

/**
 * The processes `roots` and everything they started that still descends from them. A root
 * that is gone is left out; without /proc, the roots are kept as they are (no start time to check later).
 */
export function processTrees(roots: Iterable<number>): ProcessEntry[] {
  const table = processTable();
  const children = new Map<number, ProcessEntry[]>();
  for (const entry of table.values()) children.set(entry.ppid, [...(children.get(entry.ppid) ?? []), entry]);
  const found = new Map<number, ProcessEntry>();
  const visit = (entry: ProcessEntry): void => {
    if (found.has(entry.pid)) return;
    found.set(entry.pid, entry);
    for (const child of children.get(entry.pid) ?? []) visit(child);
  };
  for (const pid of roots) {
    const entry = table.size === 0 ? { pid, ppid: 0, pgrp: 0, start: "" } : table.get(pid);
    if (entry) visit(entry);
  }
  return [...found.values()];
}

/** Every process that descends from `parent`: its children, theirs, and so on. */
export function descendantsOf(parent: number): ProcessEntry[] {
  const children = [...processTable().values()].filter((entry) => entry.ppid === parent);
  return processTrees(children.map((entry) => entry.pid));
}

/** Of `entries`, those still running as the same processes (same pid and start time), with what they started since. */
export function stillRunning(entries: readonly ProcessEntry[]): ProcessEntry[] {
  const table = processTable();
  const same = entries.filter((entry) => {
    const now = table.get(entry.pid);
    return now === undefined ? table.size === 0 : now.start === entry.start;
  });
  return same.length === 0 ? [] : processTrees(same.map((entry) => entry.pid));
}

/**
 * Sends `signal` to each process, and to the whole group of one that leads a group of its
 * own (a detached child: its group holds what it started even after that left its tree).
 * A process that is gone already is no error.
 */
export function signalProcesses(entries: readonly ProcessEntry[], signal: NodeJS.Signals): void {
  for (const entry of entries) {
    try {
      process.kill(entry.pgrp === entry.pid ? -entry.pid : entry.pid, signal);
    } catch {
      // ESRCH: it ended meanwhile; EPERM: it is no longer ours (another process has the pid).
    }
  }
}
