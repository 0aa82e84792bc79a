/**
 * Child process for test/local/progress.test.ts: runs a map of argv[4] calls (default 20) that
 * each take argv[5] ms (default 20), call 13 failing, with the executor's progress option
 * from argv[2] ("on" | "off"). With argv[3] "tty", stderr (a pipe here) pretends to be a
 * 100-column terminal, as a user's would be. Plain JavaScript on the built package
 * (dist/test/support/executor.js, the build of test/support/executor.ts).
 */
import { testExecutor } from "../../dist/test/support/executor.js";

const [progress, tty, calls = "20", callMs = "20"] = process.argv.slice(2);
if (tty === "tty") {
  Object.defineProperty(process.stderr, "isTTY", { value: true, configurable: true });
  Object.defineProperty(process.stderr, "columns", { value: 100, configurable: true });
}
const fexec = testExecutor({ progress: progress === "on" });
try {
  await fexec.map(
    async (x, ms) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      if (x === 13) throw new Error("thirteen");
      return x;
    },
    Array.from({ length: Number(calls) }, (_, i) => i),
    { extraArgs: [Number(callMs)] },
  );
  const results = await fexec.getResult(undefined, { throwExcept: false });
  process.stdout.write(`results ${results.length}\n`);
} finally {
  await fexec.close();
}
