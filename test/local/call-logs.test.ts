import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { connectStorage } from "../../azure/storage-connection.ts";
import type { LocalBackend } from "../../local/local-backend.ts";
import { outputKey } from "../../protocol/keys.ts";
import { decodeBatchOutput, encodeBatchOutput, MAX_CALL_LOG_BYTES, TRUNCATED_LOG_MARKER } from "../../protocol/output.ts";
import { suiteExecutor } from "../support/executor.ts";
import { CLI_BIN } from "../support/package-paths.ts";
import { sleep } from "../support/processes.ts";

/**
 * Each call's console output is captured by its worker (worker/call-thread.ts) and stored
 * with its outcome: future.logs() returns it, `lithops-aca logs get` prints a job's,
 * `lithops-aca logs poll` follows new ones. The CLI runs as a user would run it, on the
 * same local data folder as the executor (test/support/executor.ts sets it for both).
 */
describe("call logs on the local backend", () => {
  const fexec = suiteExecutor();
  const cliEnv = { ...process.env, LITHOPS_STACK: "", LITHOPS_CONFIG_FILE: "" };

  it("future.logs() holds the call's stdout and stderr, capped with a marker, and is empty for a silent call", { timeout: 60_000 }, async () => {
    const futures = await fexec().map(
      (kind: string) => {
        if (kind === "loud") process.stdout.write("x".repeat(100 * 1024));
        if (kind === "mixed") {
          console.log("to stdout", 1);
          console.error("to stderr");
        }
        return kind;
      },
      ["mixed", "silent", "loud"],
    );
    assert.deepEqual(await fexec().getResult(futures), ["mixed", "silent", "loud"]);
    assert.equal(await futures[0].logs(), "to stdout 1\nto stderr\n");
    assert.equal(await futures[1].logs(), "");
    const loud = await futures[2].logs();
    assert.equal(loud, `${"x".repeat(MAX_CALL_LOG_BYTES)}${TRUNCATED_LOG_MARKER}`);
  });

  it("a call that fails keeps what it printed before", { timeout: 60_000 }, async () => {
    const future = await fexec().callAsync(() => {
      console.log("about to fail");
      throw new Error("failed on purpose");
    }, null);
    await fexec().getResult(future, { throwExcept: false });
    assert.equal(await future.logs(), "about to fail\n");
  });

  it("`logs get <executorId>/<jobId>` prints each call's output under a header; a bad job is refused naming it", { timeout: 90_000 }, async () => {
    const futures = await fexec().map((n: number) => console.log(`call ${n} says hello`), [0, 1]);
    await fexec().getResult(futures);
    const job = `${fexec().executorId}/${futures[0].jobId}`;
    const result = spawnSync(process.execPath, [CLI_BIN, "logs", "get", job, "-b", "local"], { encoding: "utf8", timeout: 60_000, env: cliEnv });
    assert.equal(result.status, 0, result.stderr);
    const lines = result.stdout.trim().split("\n");
    assert.equal(lines.length, 4, result.stdout);
    assert.match(lines[0], new RegExp(`^--- ${job}/00000 on \\S+ \\(success\\) ---$`));
    assert.equal(lines[1], "call 0 says hello");
    assert.match(lines[2], new RegExp(`^--- ${job}/00001 on \\S+ \\(success\\) ---$`));
    assert.equal(lines[3], "call 1 says hello");

    const bad = spawnSync(process.execPath, [CLI_BIN, "logs", "get", "no/such/job", "-b", "local"], { encoding: "utf8", timeout: 60_000, env: cliEnv });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /job "no\/such\/job" is not valid .*<executorId>\/<jobId>/);
  });

  it("`logs get` checks each output's MAC with the data folder's key: an output forged in storage is refused, not printed", { timeout: 90_000 }, async () => {
    const future = await fexec().callAsync(() => console.log("the genuine output"), null);
    await fexec().getResult(future);
    const job = `${fexec().executorId}/${future.jobId}`;
    const key = outputKey(future.executorId, future.jobId, 0);
    const { container } = connectStorage(((await fexec().backend()) as LocalBackend).storage);
    const genuine = decodeBatchOutput(await container.getBlockBlobClient(key).downloadToBuffer(), undefined, key);
    const forged = { ...genuine, calls: genuine.calls.map((call) => ({ ...call, logs: "a forged line\n" })) };
    await container.getBlockBlobClient(key).uploadData(encodeBatchOutput(forged, "a-key-the-attacker-made-up-0123456789", undefined));
    const result = spawnSync(process.execPath, [CLI_BIN, "logs", "get", job, "-b", "local"], { encoding: "utf8", timeout: 60_000, env: cliEnv });
    assert.equal(result.status, 1, result.stdout);
    assert.doesNotMatch(result.stdout, /a forged line/);
    assert.match(result.stderr, new RegExp(`batch output ${key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} .*its results were not read`));
  });

  it("`logs poll` prints the output of calls that finish while it runs, and stops on Ctrl-C", { timeout: 90_000 }, async () => {
    const poll = spawn(process.execPath, [CLI_BIN, "logs", "poll", fexec().executorId, "-b", "local"], { env: cliEnv });
    let stdout = "";
    let stderr = "";
    poll.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    poll.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => poll.on("exit", resolve));
    try {
      // Submitted once poll is following: only output that appears after it starts is printed.
      for (let waited = 0; !stderr.includes("Following the logs") && poll.exitCode === null && waited < 60_000; waited += 100) await sleep(100);
      assert.match(stderr, /Following the logs/);
      const futures = await fexec().map((n: number) => console.log(`polled call ${n}`), [0, 1, 2]);
      await fexec().getResult(futures);
      for (let waited = 0; !stdout.includes("polled call 2") && waited < 20_000; waited += 100) await sleep(100);
      for (const n of [0, 1, 2]) assert.match(stdout, new RegExp(`/${futures[0].jobId}/0000${n} on \\S+ \\(success\\) ---\\npolled call ${n}\\n`));
      assert.doesNotMatch(stdout, /says hello/, "output from before poll started is not printed");
    } finally {
      poll.kill("SIGINT");
    }
    assert.equal(await exited, 0, stderr);
  });
});
