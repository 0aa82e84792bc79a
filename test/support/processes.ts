import { existsSync, readdirSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { processAlive } from "../../local/process-end.ts";

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether the process runs (a zombie waiting to be reaped does not). */
export function isAlive(pid: number): boolean {
  return processAlive(pid);
}

/** Waits up to `ms` for the processes to exit (checking every 100 ms); returns the pids still alive then. */
export async function aliveAfter(pids: readonly number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  while (pids.some(isAlive) && Date.now() < deadline) await sleep(100);
  return pids.filter(isAlive);
}

/** The direct child processes of `parent` with their command lines (Linux: read from /proc; elsewhere none). */
export function childProcesses(parent: number): { pid: number; command: string }[] {
  if (!existsSync("/proc/self/stat")) return [];
  const children: { pid: number; command: string }[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Fields after the command name (which may hold spaces): state, ppid, ...
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === parent) children.push({ pid: Number(entry), command: readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ") });
    } catch {
      // The process ended while we looked.
    }
  }
  return children;
}

/** Whether nothing listens on the loopback port any more. */
export function portRefusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(true));
  });
}
