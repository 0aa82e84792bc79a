/**
 * A client that submits a map and is then killed by test/local/reliability-attach.test.ts: once
 * the first calls are done, prints one JSON line with the ids another client needs to
 * re-attach and the pids of the workers it started, then waits to be killed.
 * argv: connection string, signing key, number of calls. Plain JavaScript on the built package
 * (dist/), which loads faster than the sources through tsx.
 */
import { ANY_COMPLETED, FunctionExecutor } from "../../dist/client/index.js";

const [connectionString, signingKey, calls] = process.argv.slice(2);
const fexec = new FunctionExecutor({
  backend: "local",
  maxWorkers: 2,
  progress: false,
  logLevel: "WARNING",
  config: { local: { connection_string: connectionString, visibility_timeout: 3 }, lithops: { signing_key: signingKey } },
});
const fs = await fexec.map(
  async (x) => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    return x * 3;
  },
  Array.from({ length: Number(calls) }, (_, i) => i),
);
const backend = await fexec.backend();
const workerPids = backend.runningWorkers();
await fexec.wait(fs, { returnWhen: ANY_COMPLETED }); // killed mid-job: some calls done, most not
process.stdout.write(`${JSON.stringify({ executorId: fexec.executorId, jobIds: [fs[0].jobId], workerPids })}\n`);
setInterval(() => undefined, 60_000); // wait for SIGKILL
