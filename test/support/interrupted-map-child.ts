/**
 * A program that test/local/program-queues.test.ts interrupts: it maps 200 calls of 2 s on
 * two local workers and prints "running <executorId>" once both run, then waits for SIGINT (Ctrl-C).
 */
import type { LocalBackend } from "../../local/local-backend.ts";
import { testExecutor } from "./executor.ts";

const fexec = testExecutor({ maxWorkers: 2 });
const backend = (await fexec.backend()) as LocalBackend;
await fexec.map(
  async (x: number) => {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    return x;
  },
  Array.from({ length: 200 }, (_, i) => i),
);
while (backend.runningWorkers().length < 2) await new Promise((resolve) => setTimeout(resolve, 50));
process.stdout.write(`running ${fexec.executorId}\n`);
setInterval(() => undefined, 60_000);
