export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits up to `ms` for the processes to exit (checking every 100 ms); returns the pids still alive then. */
export async function aliveAfter(pids: readonly number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  while (pids.some(isAlive) && Date.now() < deadline) await sleep(100);
  return pids.filter(isAlive);
}
