/**
 * Child process for test/progress.test.ts: runs a 20-call map (one call fails) with the
 * executor's progress option from argv[2] ("on" | "off"). With argv[3] "tty", stderr (a
 * pipe here) pretends to be a 100-column terminal, as a user's would be.
 */
import { testExecutor } from "./executor.ts";

const [progress, tty] = process.argv.slice(2);
if (tty === "tty") {
  Object.defineProperty(process.stderr, "isTTY", { value: true, configurable: true });
  Object.defineProperty(process.stderr, "columns", { value: 100, configurable: true });
}
const fexec = testExecutor({ progress: progress === "on" });
try {
  await fexec.map(async (x: number) => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (x === 13) throw new Error("thirteen");
    return x;
  }, Array.from({ length: 20 }, (_, i) => i));
  const results = (await fexec.getResult(undefined, { throwExcept: false })) as unknown[];
  process.stdout.write(`results ${results.length}\n`);
} finally {
  await fexec.close();
}
