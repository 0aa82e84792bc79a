import { LocalDataDirBusyError, LocalDataDirUnsafeError } from "./errors.ts";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, closeSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join, resolve } from "node:path";
import { LithopsError } from "../protocol/errors.ts";
import { azuriteArgs, azuriteEnv, connectionStringFor, isAzuriteCommandLine, listeningPorts, newAccountKey, STARTUP_TIMEOUT_MS } from "./azurite.ts";
import { onProcessEnd, processAlive, processArgs, runsAsThisUser } from "./process-end.ts";

/**
 * The local backend's data folder (`local.data_dir`, default ~/.lithops-aca/local): Azurite
 * keeps the local storage here, so job data, runtime metadata and the user's own objects
 * outlive executors and processes, as Lithops's localhost storage does.
 *
 * Several processes use one folder at once through one Azurite. The first process that
 * needs it starts Azurite detached (its own process group, so a Ctrl-C meant for one client
 * does not stop everyone's storage) and records its pid and ports in `azurite.json`; later
 * processes find the record, check that the process answers, and connect. Each process
 * using the folder holds a lease: a file named by its pid in `users/`. Azurite stops when
 * the last lease is gone, not after an idle timeout: a watchdog inside the Azurite process
 * (parent-watchdog.cjs) checks the leases every 200 ms and drops those of dead processes,
 * so nothing keeps running once the last program using the folder has ended, even if it
 * was killed with SIGKILL. The price: programs run one after another each start Azurite
 * (about 1.5 s); programs running at the same time share it.
 *
 * `azurite.json` states: starting (pid: the process starting Azurite, then Azurite's),
 * ready (pid and ports of Azurite), stopping (Azurite saw no lease and is shutting down:
 * wait, then start a new one), locked (pid: a process that needs the folder to itself,
 * `clean -b local`). A record whose pid is dead is stale and removed by whoever finds it.
 * The record is created with link() (atomic, fails if it exists) and replaced with
 * rename(), so nobody reads half a record.
 *
 * Only its owner uses a folder: it is made 0700 and its files 0600, and a folder (or key
 * file) owned by another user or writable by others is refused (LocalDataDirUnsafeError),
 * since whoever can write it could plant keys or a record of their own. Azurite runs with
 * the folder's random account key (`account-key`), never the public development key. The
 * record is trusted because nobody else can write it; the process it names is used only if
 * it runs as this user with the command line of this folder's Azurite (Linux: /proc), so a
 * server another user started on a port a dead Azurite left is never taken for it.
 */

const RECORD_FILE = "azurite.json";
const LOG_FILE = "azurite.log";
const LEASES_DIR = "users";
const SIGNING_KEY_FILE = "signing-key";
const ACCOUNT_KEY_FILE = "account-key";
/** What parent-watchdog.cjs reads in the shared Azurite's environment: where the leases and the record are. */
const SHARED_AZURITE_ENV = "LITHOPS_SHARED_AZURITE";

const POLL_MS = 50;
/** How long close() waits for the Azurite it was the last user of to exit. */
const STOP_TIMEOUT_MS = 10_000;

interface ServerRecord {
  state: "starting" | "ready" | "stopping" | "locked";
  pid: number;
  blobPort?: number;
  queuePort?: number;
}

interface Ports {
  blobPort: number;
  queuePort: number;
}

/** The local storage of a data folder, held open by this process until close(). */
export interface LocalStorage {
  dir: string;
  /** Azurite's connection string: give it to the local backend as `local.connection_string`. */
  connectionString: string;
  /** Where Azurite listens and keeps its data. */
  endpoints: { location: string; blobPort: number; queuePort: number };
  /** The key every process using this folder signs invocations with (the folder's workers share the runtime queues). */
  signingKey: string;
  /** Gives up this holder's use; Azurite stops once no process uses the folder (waited for, bounded). */
  close(): Promise<void>;
  /** Stops the folder's Azurite now, leases kept: a storage outage, for fault tests. */
  stopServer(): Promise<void>;
  /** Starts Azurite again on the same ports after stopServer(). */
  startServer(): Promise<void>;
}

/** This process's use of a folder, shared by the executors and Storage objects it opens on it. */
interface Holding {
  holders: number;
  ports: Promise<Ports>;
  forgetOnEnd: () => void;
}

const holdings = new Map<string, Holding>();

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Uses the folder's Azurite (starting it if no process runs it) until close(). */
export async function openLocalStorage(dataDir: string): Promise<LocalStorage> {
  const dir = ownFolder(dataDir);
  let holding = holdings.get(dir);
  if (!holding) {
    takeLease(dir);
    holding = { holders: 0, ports: serve(dir), forgetOnEnd: onProcessEnd(() => dropLease(dir)) };
    holdings.set(dir, holding);
  }
  holding.holders += 1;
  let ports: Ports;
  try {
    ports = await holding.ports;
  } catch (error) {
    holding.holders -= 1;
    if (holding.holders === 0 && holdings.get(dir) === holding) leave(dir, holding);
    throw error;
  }
  const current = holding;
  let closed = false;
  return {
    dir,
    connectionString: connectionStringFor(ports.blobPort, ports.queuePort, folderAccountKey(dir)),
    endpoints: { location: dir, ...ports },
    signingKey: folderSigningKey(dir),
    close: async () => {
      if (closed) return;
      closed = true;
      current.holders -= 1;
      if (current.holders > 0) return;
      const server = readRecord(dir);
      leave(dir, current);
      if (server && server.state !== "locked") await untilStoppedUnlessUsed(dir, server.pid);
    },
    stopServer: () => stopServer(dir),
    startServer: async () => {
      current.ports = serveOnPorts(dir, ports);
      await current.ports;
    },
  };
}

/**
 * Takes the folder for this process alone (for `clean -b local`): refused with
 * LocalDataDirBusyError, naming the processes, while any other process uses it.
 */
export function lockDataDir(dataDir: string): { release(): void } {
  const dir = ownFolder(dataDir);
  const lock: ServerRecord = { state: "locked", pid: process.pid };
  for (let attempt = 0; !createRecord(dir, lock); attempt += 1) {
    const record = readRecord(dir);
    // A running Azurite serves programs: name them (their leases), not the emulator.
    if (record && processAlive(record.pid)) throw record.state === "locked" ? busy(dir, [record.pid]) : busy(dir, liveLeases(dir), record.pid);
    if (record) removeRecordIf(dir, record);
    if (attempt >= 2) throw busy(dir, []);
  }
  const users = liveLeases(dir).filter((pid) => pid !== process.pid);
  if (users.length > 0) {
    removeRecordIf(dir, lock);
    throw busy(dir, users);
  }
  return { release: () => removeRecordIf(dir, lock) };
}

function busy(dir: string, pids: number[], azuritePid?: number): LocalDataDirBusyError {
  const who = `${pids.length === 0 ? "another process" : `process ${pids.join(", ")}`}${azuritePid === undefined ? "" : ` (through its Azurite, process ${azuritePid})`}`;
  return new LocalDataDirBusyError(
    `the local backend's data folder ${dir} is in use by ${who}: close that executor (or wait for its command to end) and retry, ` +
      "or use another folder with `local.data_dir`",
  );
}

function leave(dir: string, holding: Holding): void {
  holdings.delete(dir);
  holding.forgetOnEnd();
  dropLease(dir);
}

// --- Leases -------------------------------------------------------------------------------

function leasePath(dir: string, pid = process.pid): string {
  return join(dir, LEASES_DIR, String(pid));
}

function takeLease(dir: string): void {
  mkdirSync(join(dir, LEASES_DIR), { recursive: true, mode: 0o700 });
  writeFileSync(leasePath(dir), new Date().toISOString(), { mode: 0o600 });
}

function dropLease(dir: string): void {
  rmSync(leasePath(dir), { force: true });
}

/** The pids holding a lease on the folder; leases of dead processes are removed on the way. */
function liveLeases(dir: string): number[] {
  let names: string[];
  try {
    names = readdirSync(join(dir, LEASES_DIR));
  } catch {
    return [];
  }
  const live: number[] = [];
  for (const name of names) {
    const pid = Number(name);
    if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) live.push(pid);
    else rmSync(join(dir, LEASES_DIR, name), { force: true });
  }
  return live;
}

// --- The record of the folder's Azurite -----------------------------------------------------

/** Creates `path` with `text` unless it exists (link() is atomic): whether this call created it. */
function createExclusive(path: string, text: string, mode = 0o600): boolean {
  const staging = `${path}.${process.pid}.${randomBytes(4).toString("hex")}`;
  writeFileSync(staging, text, { mode });
  try {
    linkSync(staging, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    rmSync(staging, { force: true });
  }
}

function createRecord(dir: string, record: ServerRecord): boolean {
  return createExclusive(join(dir, RECORD_FILE), JSON.stringify(record));
}

function writeRecord(dir: string, record: ServerRecord): void {
  const staging = join(dir, `${RECORD_FILE}.${process.pid}`);
  writeFileSync(staging, JSON.stringify(record), { mode: 0o600 });
  renameSync(staging, join(dir, RECORD_FILE));
}

/** The record, or undefined when there is none (an unreadable one is removed). */
function readRecord(dir: string): ServerRecord | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, RECORD_FILE), "utf8");
  } catch {
    return undefined;
  }
  try {
    const record = JSON.parse(text) as ServerRecord;
    if (Number.isInteger(record.pid)) return record;
  } catch {
    // Not ours or damaged: nobody can use it.
  }
  rmSync(join(dir, RECORD_FILE), { force: true });
  return undefined;
}

function removeRecordIf(dir: string, expected: ServerRecord): void {
  const record = readRecord(dir);
  if (record && record.pid === expected.pid && record.state === expected.state) rmSync(join(dir, RECORD_FILE), { force: true });
}

/** Whether an HTTP server answers on the port (any answer: Azurite refuses unsigned requests). */
function answering(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path: "/", method: "HEAD", timeout: 2000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
    req.end();
  });
}

// --- Serving --------------------------------------------------------------------------------

/** The ports of the folder's Azurite: the running one if it answers, else one this process starts. */
async function serve(dir: string, wanted?: Ports): Promise<Ports> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    const record = readRecord(dir);
    if (!record) {
      if (createRecord(dir, { state: "starting", pid: process.pid })) return startShared(dir, wanted);
      continue;
    }
    if (!processAlive(record.pid)) {
      removeRecordIf(dir, record);
      continue;
    }
    if (record.state === "locked") throw busy(dir, [record.pid]);
    if (record.state === "ready" && !isFolderAzurite(record.pid, dir)) {
      // Our folder's record, but the pid now names another process (reused after Azurite died): stale.
      removeRecordIf(dir, record);
      continue;
    }
    if (record.state === "ready" && record.blobPort && record.queuePort && (await answering(record.blobPort))) {
      return { blobPort: record.blobPort, queuePort: record.queuePort };
    }
    if (Date.now() > deadline) {
      throw new LithopsError(
        `the Azurite of the local data folder ${dir} (pid ${record.pid}, ${record.state}) did not answer within ${STARTUP_TIMEOUT_MS / 1000} s; its output is in ${join(dir, LOG_FILE)}`,
      );
    }
    await sleep(POLL_MS);
  }
}

/** serve() on fixed ports, retried while the previous Azurite's ports are not free again yet. */
async function serveOnPorts(dir: string, ports: Ports): Promise<Ports> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await serve(dir, ports);
    } catch (error) {
      if (attempt >= 10 || error instanceof LocalDataDirBusyError) throw error;
      await sleep(500);
    }
  }
}

/** Starts the folder's Azurite (this process created the `starting` record) and records it as ready. */
async function startShared(dir: string, wanted?: Ports): Promise<Ports> {
  const logPath = join(dir, LOG_FILE);
  const logFd = openSync(logPath, "w", 0o600);
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, azuriteArgs(dir, wanted?.blobPort, wanted?.queuePort), {
      detached: true,
      stdio: ["ignore", logFd, logFd],
      env: { ...azuriteEnv(folderAccountKey(dir)), [SHARED_AZURITE_ENV]: JSON.stringify({ leases: join(dir, LEASES_DIR), record: join(dir, RECORD_FILE) }) },
    });
  } finally {
    closeSync(logFd);
  }
  child.unref();
  child.on("error", () => undefined); // a failed spawn shows as an exit below
  const pid = child.pid;
  try {
    if (pid === undefined) throw new LithopsError(`could not start Azurite for the local data folder ${dir}`);
    writeRecord(dir, { state: "starting", pid });
    const ports = await portsFromLog(logPath, child);
    writeRecord(dir, { state: "ready", pid, ...ports });
    return ports;
  } catch (error) {
    child.kill("SIGKILL");
    rmSync(join(dir, RECORD_FILE), { force: true });
    throw error;
  }
}

async function portsFromLog(logPath: string, child: ChildProcess): Promise<Ports> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    const output = readFileSync(logPath, "utf8");
    const ports = listeningPorts(output);
    if (ports) return ports;
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new LithopsError(`Azurite exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output}`);
    }
    if (Date.now() > deadline) throw new LithopsError(`Azurite did not start within ${STARTUP_TIMEOUT_MS / 1000} s:\n${output}`);
    // Its ports are on the critical path of a cold start: looked for often (a read of a few lines).
    await sleep(10);
  }
}

async function stopServer(dir: string): Promise<void> {
  const record = readRecord(dir);
  if (!record || record.state === "locked" || !processAlive(record.pid)) return;
  process.kill(record.pid, "SIGTERM");
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (processAlive(record.pid)) {
    if (Date.now() > deadline) process.kill(record.pid, "SIGKILL");
    await sleep(POLL_MS);
  }
  removeRecordIf(dir, record);
}

/** After this process left: waits (bounded) for Azurite's process to end, unless other processes still use the folder. */
async function untilStoppedUnlessUsed(dir: string, pid: number): Promise<void> {
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (Date.now() < deadline && liveLeases(dir).length === 0 && processAlive(pid)) await sleep(POLL_MS);
}

// --- Ownership and keys -----------------------------------------------------------------------

/** The process running `pid` is this user's Azurite for `dir` (where /proc cannot tell the command line, its owner alone decides). */
function isFolderAzurite(pid: number, dir: string): boolean {
  if (!runsAsThisUser(pid)) return false;
  const args = processArgs(pid);
  return args === undefined || isAzuriteCommandLine(args, dir);
}

/** Refuses a path another user owns or others may write (group or world write bit); `what` names it in the error. */
function assertOwned(path: string, what: string): void {
  const stat = lstatSync(path);
  const uid = process.getuid?.();
  if (stat.isSymbolicLink()) throw new LocalDataDirUnsafeError(`${what} ${path} is a symbolic link: use a real folder of your own for local.data_dir`);
  if (uid !== undefined && stat.uid !== uid) {
    throw new LocalDataDirUnsafeError(
      `${what} ${path} belongs to user ${stat.uid}, not to you (${uid}): its keys and emulator cannot be trusted; use a folder of your own for local.data_dir`,
    );
  }
  if ((stat.mode & 0o022) !== 0) {
    throw new LocalDataDirUnsafeError(
      `${what} ${path} can be written by other users (mode ${(stat.mode & 0o777).toString(8)}): they could plant keys or a fake emulator; ` +
        `remove it (or run chmod go-w on it) and retry, or use another folder for local.data_dir`,
    );
  }
}

/** The data folder, made 0700 if new; refused if not the user's own; readable by others: made private. */
function ownFolder(dataDir: string): string {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  assertOwned(dir, "the local data folder");
  if ((lstatSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700); // a folder made by an older release: private from now on
  return dir;
}

/** A secret of the folder (readable by its owner only), made on first use; refused if someone else could have written it. */
function folderSecret(dir: string, name: string, make: () => string): string {
  const path = join(dir, name);
  createExclusive(path, make());
  assertOwned(path, "the key file");
  if ((lstatSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  return readFileSync(path, "utf8").trim();
}

/** The folder's signing key: every process using the folder signs and checks invocations with it. */
function folderSigningKey(dir: string): string {
  return folderSecret(dir, SIGNING_KEY_FILE, () => randomBytes(32).toString("base64url"));
}

/** The account key of the folder's Azurite: the one function every client of it (client, workers, scaler, Storage, CLI) gets it from. */
export function folderAccountKey(dataDir: string): string {
  return folderSecret(ownFolder(dataDir), ACCOUNT_KEY_FILE, newAccountKey);
}
