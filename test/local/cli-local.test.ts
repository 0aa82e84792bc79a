import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CLI_BIN } from "../support/package-paths.ts";
import { lockDataDir, openLocalStorage } from "../../local/data-dir.ts";
import { Storage } from "../../client/index.ts";
import { executorWithObjects, testExecutor } from "../support/executor.ts";

/**
 * The local backend's commands, for real: `hello -b local` runs a function on Azurite and
 * local workers with the data kept in a folder (local.data_dir), `runtime list -b local`
 * reads what the workers recorded there, `clean -b local` removes it (and only it: the user's
 * own objects stay). Each runs the package's bin as a user would.
 */

let scratch: string;
let dataDir: string;
let config: string;

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI_BIN, ...args, "-c", config], {
    encoding: "utf8",
    timeout: 90_000,
    env: { ...process.env, LITHOPS_STACK: "" },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

before(() => {
  scratch = mkdtempSync(join(tmpdir(), "cli-local-"));
  dataDir = join(scratch, "local-data");
  config = join(scratch, "config.yaml");
  writeFileSync(config, `local:\n  data_dir: ${dataDir}\n  max_workers: 1\n`);
});

after(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe("cli on the local backend (for real)", () => {
  it("runtime list -b local on a folder that was never used lists nothing and creates nothing", () => {
    const { status, stdout, stderr } = cli("runtime", "list", "-b", "local");
    assert.equal(status, 0, stderr);
    assert.match(stdout, /No runtimes deployed on the local backend/);
    assert.equal(existsSync(dataDir), false);
  });

  it("hello -b local runs a function and says lithops-aca works", () => {
    const { status, stdout, stderr } = cli("hello", "-b", "local", "-s", "azure_storage");
    assert.equal(status, 0, stderr);
    assert.match(stdout, new RegExp(`Azurite with its data in ${dataDir.replace(/[/\\.]/g, "\\$&")}`));
    assert.match(stdout, /Hello .+! lithops-aca is working as expected :\)/);
    assert.ok(existsSync(dataDir), "the local data folder was kept");
  });

  it("runtime list -b local shows the runtime the workers recorded, with its Node.js version", () => {
    const { status, stdout, stderr } = cli("runtime", "list", "-b", "local");
    assert.equal(status, 0, stderr);
    assert.match(stdout, /Runtime Name\s+Memory Size\s+Node\.js\s+lithops-aca Version/);
    assert.match(stdout, new RegExp(`default\\s+512 MB\\s+${process.version.replace(/\./g, "\\.")}\\s+\\d+\\.\\d+\\.\\d+`));
    assert.match(stdout, /Total runtimes: 1 \(local backend, job data of 1 executor kept/);
  });

  it("while another process uses the folder, list and clean refuse and name that process", () => {
    const lock = lockDataDir(dataDir);
    try {
      for (const args of [
        ["runtime", "list", "-b", "local"],
        ["clean", "-b", "local"],
      ]) {
        const { status, stderr } = cli(...args);
        assert.equal(status, 1);
        assert.match(stderr, new RegExp(`data folder .* is in use by process ${process.pid}: close that executor`));
      }
    } finally {
      lock.release();
    }
    assert.ok(existsSync(dataDir), "nothing was removed");
  });

  it("clean -b local removes the job data, runtime metadata and runtime queues; the config stays; list is empty again", () => {
    const { status, stdout, stderr } = cli("clean", "-b", "local");
    assert.equal(status, 0, stderr);
    assert.match(
      stdout,
      /Local backend cleaned: [1-9]\d* objects of job data and runtime metadata \(lithops\.jobs\/, lithops\.runtimes\/, lithops\.deliveries\/\) and [1-9]\d* runtime queues deleted; other objects and the config kept/,
    );
    assert.ok(existsSync(config));
    assert.match(cli("runtime", "list", "-b", "local").stdout, /No runtimes deployed on the local backend/);
    assert.match(cli("clean", "-b", "local").stdout, /Nothing to clean: no job data, runtime metadata or runtime queues/);
  });

  it("a user's object put with Storage survives clean -b local; the job data around it does not", async () => {
    const local = { config: { local: { data_dir: dataDir } } };
    const { fexec, storage } = await executorWithObjects({ "inputs/words.txt": "one two three", "lithops.jobs.txt": "mine too" }, local);
    try {
      assert.equal(await fexec.getResult(await fexec.callAsync((x: number) => x + 1, 1)), 2);
      assert.ok((await storage.listKeys(storage.bucket, "lithops.jobs/")).length > 0, "the call left job data");
    } finally {
      await fexec.close();
    }
    const { status, stderr } = cli("clean", "-b", "local");
    assert.equal(status, 0, stderr);
    const after = testExecutor(local);
    try {
      const kept = new Storage(after);
      assert.deepEqual((await kept.listKeys(kept.bucket)).sort(), ["inputs/words.txt", "lithops.jobs.txt"]);
      assert.equal((await kept.getObject(kept.bucket, "inputs/words.txt")).toString(), "one two three");
    } finally {
      await after.close();
    }
  });

  it("a lock left by a process that died is taken over", async () => {
    const dead = spawnSync(process.execPath, ["-e", "process.exit(0)"]).pid!;
    const dir = join(scratch, "stale");
    const lock = lockDataDir(dir);
    lock.release();
    writeFileSync(join(dir, "lithops-aca.lock"), JSON.stringify({ pid: dead }));
    const storage = await openLocalStorage(dir);
    await storage.close();
    assert.match(storage.connectionString, /BlobEndpoint=http:\/\/127\.0\.0\.1:\d+/);
  });
});
