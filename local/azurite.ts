import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { createRequire } from "node:module";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { LithopsError } from "../protocol/errors.ts";
import { ownedTempDir, TEMP_PREFIXES } from "./temp-folders.ts";

/**
 * The emulator's account name. Its well-known development key is public, so every user of the
 * machine could reach storage that accepted it: each emulator here runs with a random key of
 * its own instead (AZURITE_ACCOUNTS lists the only accounts Azurite then accepts), the data
 * folder's kept 0600 beside its signing key (local/data-dir.ts).
 */
export const DEV_ACCOUNT = "devstoreaccount1";

/** A new random account key (Azurite takes any base64 key; 64 bytes, as Azure's). */
export function newAccountKey(): string {
  return randomBytes(64).toString("base64");
}

/** The environment that makes Azurite accept `accountKey` for DEV_ACCOUNT and nothing else (not the development key). */
export function azuriteEnv(accountKey: string): NodeJS.ProcessEnv {
  return { ...process.env, AZURITE_ACCOUNTS: `${DEV_ACCOUNT}:${accountKey}` };
}

export interface AzuriteOptions {
  /** Folder for Azurite's data; a temporary folder (removed on stop) when not given. */
  location?: string;
  /** Fixed ports, e.g. to restart on the same endpoints; free ports when not given. */
  blobPort?: number;
  queuePort?: number;
  /** The account key (a data folder's: local/data-dir.ts's folderAccountKey); a new random one when not given. */
  accountKey?: string;
}

export interface Azurite {
  blobEndpoint: string;
  queueEndpoint: string;
  connectionString: string;
  accountKey: string;
  location: string;
  blobPort: number;
  queuePort: number;
  /** Stops the emulator (and removes its temporary data folder if it made one). */
  stop(): Promise<void>;
  /** Synchronous kill, for process exit. */
  kill(): void;
}

/** How long Azurite may take to listen (a loaded machine can be slow). */
export const STARTUP_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

/** Stops a child process of the local backend when the client process dies (see the file). */
export const PARENT_WATCHDOG = fileURLToPath(new URL("./parent-watchdog.cjs", import.meta.url));

/** Starts the emulator's blob and queue services (azurite-server.cjs), lighter to start than the azurite package's own entry (see the files). */
const AZURITE_LAUNCH = fileURLToPath(new URL("./azurite-launch.cjs", import.meta.url));

/** The azurite package's own entry, which an earlier release of this package ran: such an Azurite may still serve a data folder. */
function packageEntry(): string {
  return createRequire(import.meta.url).resolve("azurite/dist/src/azurite.js");
}

/** Azurite's connection string on loopback with these ports and its account key. */
export function connectionStringFor(blobPort: number, queuePort: number, accountKey: string): string {
  const blobEndpoint = `http://127.0.0.1:${blobPort}/${DEV_ACCOUNT}`;
  const queueEndpoint = `http://127.0.0.1:${queuePort}/${DEV_ACCOUNT}`;
  return `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${accountKey};BlobEndpoint=${blobEndpoint};QueueEndpoint=${queueEndpoint};`;
}

/**
 * Node's arguments that run Azurite's blob and queue services (azurite-launch.cjs) on loopback,
 * with parent-watchdog.cjs preloaded. Telemetry is off (nothing leaves the machine) and API
 * versions are not checked, so SDKs newer than the emulator still work. Port 0: a free port.
 */
export function azuriteArgs(location: string, blobPort = 0, queuePort = 0): string[] {
  return [
    "--require",
    PARENT_WATCHDOG,
    AZURITE_LAUNCH,
    "--blobHost",
    "127.0.0.1",
    "--queueHost",
    "127.0.0.1",
    "--blobPort",
    String(blobPort),
    "--queuePort",
    String(queuePort),
    "--location",
    location,
    "--disableTelemetry",
    "--silent", // no access log: the shared Azurite's output goes to a file in the data folder
    "--skipApiVersionCheck",
    "--loose",
  ];
}

/**
 * Whether a process's command line (its arguments) is azuriteArgs' Azurite on `location` (or an
 * earlier release's, which ran the package's entry). The launcher is recognised by its file
 * name, wherever it is installed: programs of one user on one data folder may run lithops-aca
 * from different places (two projects, the sources and the build), and must share one Azurite.
 */
export function isAzuriteCommandLine(args: readonly string[], location: string): boolean {
  const at = args.indexOf("--location");
  const launched = args.some((arg) => basename(arg) === basename(AZURITE_LAUNCH)) || args.includes(packageEntry());
  return launched && at >= 0 && args[at + 1] === location;
}

/** The blob and queue ports Azurite's output says it listens on, once it has said both. */
export function listeningPorts(output: string): { blobPort: number; queuePort: number } | undefined {
  const ports: { blob?: number; queue?: number } = {};
  for (const match of output.matchAll(/Azurite (Blob|Queue) service is successfully listening at http:\/\/[^:]+:(\d+)/g)) {
    ports[match[1] === "Blob" ? "blob" : "queue"] = Number(match[2]);
  }
  return ports.blob && ports.queue ? { blobPort: ports.blob, queuePort: ports.queue } : undefined;
}

/**
 * Starts a private Azurite, a child of this process that stops when this process dies (the
 * IPC watchdog). The local backend itself shares one Azurite per data folder (data-dir.ts);
 * this one is for tests and benchmarks that want storage of their own.
 */
export async function startAzurite(options: AzuriteOptions = {}): Promise<Azurite> {
  const ownsLocation = options.location === undefined;
  const location = options.location ?? ownedTempDir(TEMP_PREFIXES.azurite);
  const accountKey = options.accountKey ?? newAccountKey();
  const child = spawn(process.execPath, azuriteArgs(location, options.blobPort, options.queuePort), {
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    env: azuriteEnv(accountKey),
  });
  child.channel?.unref();
  const { blobPort, queuePort } = await waitForPorts(child);
  child.stdout?.resume();
  child.stderr?.resume();
  child.unref();
  return {
    blobEndpoint: `http://127.0.0.1:${blobPort}/${DEV_ACCOUNT}`,
    queueEndpoint: `http://127.0.0.1:${queuePort}/${DEV_ACCOUNT}`,
    location,
    blobPort,
    queuePort,
    connectionString: connectionStringFor(blobPort, queuePort, accountKey),
    accountKey,
    stop: async () => {
      await stopChild(child);
      if (ownsLocation) rmSync(location, { recursive: true, force: true });
    },
    kill: () => {
      child.kill("SIGKILL");
      if (ownsLocation) rmSync(location, { recursive: true, force: true });
    },
  };
}

function waitForPorts(child: ChildProcess): Promise<{ blobPort: number; queuePort: number }> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => fail(new LithopsError(`Azurite did not start within ${STARTUP_TIMEOUT_MS / 1000} s:\n${output}`)), STARTUP_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const ports = listeningPorts(output);
      if (ports) {
        cleanup();
        resolve(ports);
      }
    };
    const onExit = (code: number | null): void => fail(new LithopsError(`Azurite exited with code ${code} before it was ready:\n${output}`));
    function cleanup(): void {
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.stderr?.off("data", onData);
      child.off("exit", onExit);
    }
    function fail(error: Error): void {
      cleanup();
      child.kill("SIGKILL");
      reject(error);
    }
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.on("exit", onExit);
  });
}

/** SIGTERM, then SIGKILL if the child has not exited in time. */
export async function stopChild(child: ChildProcess, timeoutMs = STOP_TIMEOUT_MS): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const killed = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      child.kill("SIGKILL");
      resolve();
    }, timeoutMs);
  });
  await Promise.race([exited, killed]);
  clearTimeout(timer);
  await exited;
}
