import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { QueueServiceClient } from "@azure/storage-queue";
import { DEV_ACCOUNT, isAzuriteCommandLine } from "../../local/azurite.ts";
import { openLocalStorage, type LocalStorage } from "../../local/data-dir.ts";
import { LocalDataDirUnsafeError } from "../../local/errors.ts";
import { sweepOrphanedTempDirs, TEMP_PREFIXES } from "../../local/temp-folders.ts";
import { repoPath } from "../support/package-paths.ts";

/**
 * The local backend is for its user alone: another OS user of the machine cannot read,
 * write or queue anything in a data folder, and the emulator refuses Azurite's public
 * development key. The second user is `nobody`, reached with setpriv (tests run as root
 * here; without root the cross-user part is skipped).
 */
const PROBE = repoPath("test/support/other-user-probe.mjs");
const DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const OTHER_UID = 65534;
const asRoot = process.getuid?.() === 0 && spawnSync("setpriv", ["--version"]).status === 0;

const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8);

function devKeyConnectionString(storage: LocalStorage): string {
  const { blobPort, queuePort } = storage.endpoints;
  return (
    `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};` +
    `BlobEndpoint=http://127.0.0.1:${blobPort}/${DEV_ACCOUNT};QueueEndpoint=http://127.0.0.1:${queuePort}/${DEV_ACCOUNT};`
  );
}

describe("local backend: only its user", () => {
  let root: string;
  let dir: string;
  let storage: LocalStorage;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), "lithops-isolation-"));
    dir = join(root, "data");
    storage = await openLocalStorage(dir);
  });
  after(async () => {
    await storage.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("makes the data folder 0700 and its keys and record 0600", () => {
    assert.equal(mode(dir), "700");
    for (const file of ["signing-key", "account-key", "azurite.json", "azurite.log"]) assert.equal(mode(join(dir, file)), "600", file);
  });

  it("the emulator refuses the well-known development key and takes the folder's", async () => {
    const refused = QueueServiceClient.fromConnectionString(devKeyConnectionString(storage), { retryOptions: { maxTries: 1 } });
    await assert.rejects(refused.getQueueClient("dev-key-queue").create(), (error: { statusCode?: number }) => error.statusCode === 403);
    const accepted = QueueServiceClient.fromConnectionString(storage.connectionString);
    await accepted.getQueueClient("folder-key-queue").create();
    assert.ok(!storage.connectionString.includes(DEV_KEY));
    assert.ok(storage.connectionString.includes(readFileSync(join(dir, "account-key"), "utf8").trim()));
  });

  it("another OS user cannot read, write or queue anything in the folder or its emulator", { skip: !asRoot && "needs root and setpriv" }, () => {
    const { blobPort, queuePort } = storage.endpoints;
    const run = spawnSync(
      "setpriv",
      [`--reuid=${OTHER_UID}`, `--regid=${OTHER_UID}`, "--clear-groups", process.execPath, PROBE, dir, String(blobPort), String(queuePort)],
      { encoding: "utf8", timeout: 60_000, cwd: "/" },
    );
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(run.stdout) as Record<string, string | number>;
    assert.equal(result.uid, OTHER_UID);
    for (const fileAccess of ["listFolder", "readSigningKey", "readAccountKey", "writeFolder"]) assert.equal(result[fileAccess], "EACCES", fileAccess);
    for (const storageAccess of ["listQueues", "queueMessage", "listContainers", "writeBlob"]) assert.equal(result[storageAccess], "HTTP 403", storageAccess);
  });

  it("refuses a data folder others may write, or another user's, with LocalDataDirUnsafeError", { skip: !asRoot && "needs root to chown" }, async () => {
    const shared = join(root, "shared");
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    await assert.rejects(
      openLocalStorage(shared),
      (error: unknown) => error instanceof LocalDataDirUnsafeError && /can be written by other users \(mode 777\)/.test(error.message),
    );
    const foreign = join(root, "foreign");
    mkdirSync(foreign, { mode: 0o700 });
    chownSync(foreign, OTHER_UID, OTHER_UID);
    await assert.rejects(
      openLocalStorage(foreign),
      (error: unknown) => error instanceof LocalDataDirUnsafeError && /belongs to user 65534/.test(error.message),
    );
  });

  it("refuses a key file planted writable by others", async () => {
    const planted = join(root, "planted");
    mkdirSync(planted, { mode: 0o700 });
    writeFileSync(join(planted, "signing-key"), "known-to-someone-else-0123456789");
    chmodSync(join(planted, "signing-key"), 0o666);
    await assert.rejects(openLocalStorage(planted), (error: unknown) => error instanceof LocalDataDirUnsafeError && /key file/.test(error.message));
  });

  it("does not take another user's process, named by a record, for the folder's emulator", { skip: !asRoot && "needs root and setpriv" }, async () => {
    const folder = join(root, "recorded");
    mkdirSync(folder, { mode: 0o700 });
    const impostor = spawn("setpriv", [`--reuid=${OTHER_UID}`, `--regid=${OTHER_UID}`, "--clear-groups", "sleep", "60"], { stdio: "ignore" });
    try {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const { blobPort, queuePort } = storage.endpoints; // ports that answer, as an impostor's would
      writeFileSync(join(folder, "azurite.json"), JSON.stringify({ state: "ready", pid: impostor.pid, blobPort, queuePort }), { mode: 0o600 });
      const own = await openLocalStorage(folder);
      try {
        assert.notEqual(own.endpoints.blobPort, blobPort);
        assert.notEqual((JSON.parse(readFileSync(join(folder, "azurite.json"), "utf8")) as { pid: number }).pid, impostor.pid);
      } finally {
        await own.close();
      }
    } finally {
      impostor.kill("SIGKILL");
    }
  });

  it("knows the folder's emulator by its launcher's file name and its folder, wherever lithops-aca is installed", () => {
    const folder = "/home/someone/.lithops-aca/local";
    const launched = (launcher: string, location: string) => ["/usr/bin/node", launcher, "--location", location, "--blobPort", "0"];
    // The sources and the build, or two projects' installs, share the folder's one Azurite.
    assert.ok(isAzuriteCommandLine(launched("/work/app/node_modules/lithops-aca/dist/local/azurite-launch.cjs", folder), folder));
    assert.ok(isAzuriteCommandLine(launched("/src/lithops-aca/local/azurite-launch.cjs", folder), folder));
    assert.ok(!isAzuriteCommandLine(launched("/src/lithops-aca/local/azurite-launch.cjs", `${folder}-other`), folder), "another folder's emulator");
    assert.ok(!isAzuriteCommandLine(launched("/tmp/not-azurite.cjs", folder), folder), "another program given the folder");
  });

  it("the temp-folder sweep leaves another user's folders alone", { skip: !asRoot && "needs root to chown" }, () => {
    const sweepRoot = join(root, "tmp");
    mkdirSync(sweepRoot);
    const theirs = join(sweepRoot, `${TEMP_PREFIXES.workerLog}theirs`);
    const ours = join(sweepRoot, `${TEMP_PREFIXES.workerLog}ours`);
    for (const folder of [theirs, ours]) {
      mkdirSync(folder);
      writeFileSync(join(folder, "owner.pid"), "999999999"); // no such process
    }
    chownSync(theirs, OTHER_UID, OTHER_UID);
    assert.deepEqual(sweepOrphanedTempDirs(sweepRoot), [ours]);
    assert.ok(statSync(theirs).isDirectory());
  });
});
