import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, describe, it } from "node:test";
import { Storage, type StorageObject } from "../../client/index.ts";
import { openLocalStorage } from "../../local/data-dir.ts";
import type { LocalBackend } from "../../local/local-backend.ts";
import { connectStorage } from "../../azure/storage-connection.ts";
import { executorPrefix } from "../../protocol/keys.ts";
import { testExecutor } from "../support/executor.ts";
import { portRefusesConnections, sleep } from "../support/processes.ts";
import { MODULE_EXEC_ARGV, runningModule } from "../support/package-paths.ts";

/**
 * The local backend's storage lives in a data folder that outlives executors and processes,
 * and several processes use it at once through one Azurite. The child processes inherit
 * this process's temporary data folder (test/support/executor.ts).
 */

const CHILD = runningModule("test/support/local-storage-child");

async function runChild<T>(...args: string[]): Promise<T> {
  const { stdout } = await promisify(execFile)(process.execPath, [...MODULE_EXEC_ARGV, CHILD, ...args], { timeout: 90_000 });
  return JSON.parse(stdout) as T;
}

async function untilRefused(port: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!(await portRefusesConnections(port))) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

describe("local storage shared by processes and kept between them", () => {
  const fexec = testExecutor();
  after(async () => {
    await fexec.close();
  });

  it("data put with new Storage() in one process is there for a map in another", async () => {
    const { bucket } = await runChild<{ bucket: string }>("put", "shared-input/greeting.txt", "put by another process");
    const futures = await fexec.map(async (object: StorageObject) => (await object.data()).toString(), `az://${bucket}/shared-input/`);
    assert.deepEqual(await fexec.getResult(futures), ["put by another process"]);
  });

  it("two processes map at once on the same data folder, through the one Azurite already serving it", async () => {
    const { blobPort } = ((await fexec.backend()) as LocalBackend).azuriteEndpoints!;
    const [first, second] = await Promise.all([
      runChild<{ results: number[]; blobPort: number }>("map", "30"),
      runChild<{ results: number[]; blobPort: number }>("map", "30"),
    ]);
    const expected = Array.from({ length: 30 }, (_, i) => i * 2);
    assert.deepEqual(first.results, expected);
    assert.deepEqual(second.results, expected);
    assert.deepEqual([first.blobPort, second.blobPort], [blobPort, blobPort]);
  });

  it("results stay after the executor closes; Azurite stops once the last process using the folder is gone", async () => {
    const futures = await fexec.map((x: number) => x + 1, [1, 2, 3]);
    assert.deepEqual(await fexec.getResult(futures), [2, 3, 4]);
    const { blobPort } = ((await fexec.backend()) as LocalBackend).azuriteEndpoints!;
    await fexec.close();
    assert.equal(await untilRefused(blobPort, 3000), true, "Azurite still answers after its last user left");

    await using storage = new Storage();
    const kept = await storage.listKeys(storage.bucket, executorPrefix(fexec.executorId));
    assert.ok(kept.length > 0, "the closed executor's job data is still in the data folder");
  });
});

describe("a data folder whose Azurite record is damaged or stale", () => {
  const scratch = mkdtempSync(join(tmpdir(), "lithops-record-test-"));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  // A pid that no process has any more: a node process that already exited.
  const deadPid = spawnSync(process.execPath, ["-e", ""]).pid;
  const records = {
    "not JSON": "{ half a record",
    "JSON without a pid": JSON.stringify({ state: "ready", blobPort: 1, queuePort: 2 }),
    "ready, but its Azurite is dead": JSON.stringify({ state: "ready", pid: deadPid, blobPort: 1, queuePort: 2 }),
    "locked by a process that died": JSON.stringify({ state: "locked", pid: deadPid }),
  };

  for (const [what, text] of Object.entries(records)) {
    it(`${what}: it is replaced by a record of a new Azurite, which serves the folder`, async () => {
      const dir = mkdtempSync(join(scratch, "data-"));
      writeFileSync(join(dir, "azurite.json"), text);
      const storage = await openLocalStorage(dir);
      try {
        const record = JSON.parse(readFileSync(join(dir, "azurite.json"), "utf8")) as { state: string; blobPort: number };
        assert.deepEqual([record.state, record.blobPort], ["ready", storage.endpoints.blobPort]);
        const { container } = connectStorage({ connectionString: storage.connectionString, container: "probe" });
        await container.createIfNotExists();
        assert.equal(await container.exists(), true);
      } finally {
        await storage.close();
      }
    });
  }
});
