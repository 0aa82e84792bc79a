/**
 * `npm start`: the embedded local backend end to end. Starts Azurite and local workers,
 * runs a hello-world call, a map with a progress bar and a call that throws, then stops
 * everything.
 */
import { FunctionExecutor, RemoteCallError } from "../client/index.ts";

const started = Date.now();
const fexec = new FunctionExecutor();
try {
  await fexec.callAsync((name: string) => `Hello ${name}, from a worker on Node.js ${process.version}`, "World");
  console.log(await fexec.getResult());

  const squares = await fexec.map(
    async (x: number) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return x * x;
    },
    Array.from({ length: 300 }, (_, i) => i),
  );
  const values = (await fexec.getResult(squares)) as number[];
  console.log(`map of ${values.length} calls: sum of squares = ${values.reduce((a, b) => a + b, 0)}`);

  await fexec.callAsync((x: number) => {
    if (x > 1) throw new RangeError(`${x} is out of range`);
    return x;
  }, 42);
  try {
    await fexec.getResult();
  } catch (error) {
    if (!(error instanceof RemoteCallError)) throw error;
    console.log(`a call failed as expected: ${error.name}: ${error.message}\n${error.remoteStack?.split("\n").slice(0, 2).join("\n")}`);
  }

  const calls = fexec.allFutures().length;
  const ops = fexec.storageOperations();
  console.log(
    `${calls} calls in ${((Date.now() - started) / 1000).toFixed(1)} s, ${await fexec.peakWorkers()} workers, ` +
      `${ops.client + ops.workers} storage requests (${((ops.client + ops.workers) / calls).toFixed(2)} per call)`,
  );
} finally {
  await fexec.close();
}
