import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Azurite's fixed development account: public, documented, useless outside the emulator. */
export const DEV_ACCOUNT = "devstoreaccount1";
export const DEV_ACCOUNT_KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

export interface AzuriteOptions {
  /** Folder for Azurite's data; a temporary folder (removed on stop) when not given. */
  location?: string;
  /** Fixed ports, e.g. to restart on the same endpoints; free ports when not given. */
  blobPort?: number;
  queuePort?: number;
}

export interface Azurite {
  blobEndpoint: string;
  queueEndpoint: string;
  connectionString: string;
  location: string;
  blobPort: number;
  queuePort: number;
  /** Stops the emulator (and removes its temporary data folder if it made one). */
  stop(): Promise<void>;
  /** Synchronous kill, for process exit. */
  kill(): void;
}

const STARTUP_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

/** Stops a child process of the local backend when the client process dies (see the file). */
export const PARENT_WATCHDOG = fileURLToPath(new URL("./parent-watchdog.cjs", import.meta.url));

function azuriteEntry(): string {
  return createRequire(import.meta.url).resolve("azurite/dist/src/azurite.js");
}

/**
 * Starts Azurite from its npm package in a child process on loopback. Telemetry is off
 * (nothing leaves the machine) and API versions are not checked, so SDKs newer than the
 * emulator still work.
 */
export async function startAzurite(options: AzuriteOptions = {}): Promise<Azurite> {
  const ownsLocation = options.location === undefined;
  const location = options.location ?? mkdtempSync(join(tmpdir(), "lithops-azurite-"));
  const child = spawn(
    process.execPath,
    [
      "--require", PARENT_WATCHDOG,
      azuriteEntry(),
      "--blobHost", "127.0.0.1",
      "--queueHost", "127.0.0.1",
      "--tableHost", "127.0.0.1",
      "--blobPort", String(options.blobPort ?? 0),
      "--queuePort", String(options.queuePort ?? 0),
      "--tablePort", "0",
      "--location", location,
      "--disableTelemetry",
      "--skipApiVersionCheck",
      "--loose",
    ],
    { stdio: ["ignore", "pipe", "pipe", "ipc"] },
  );
  child.channel?.unref();
  const { blobPort, queuePort } = await waitForPorts(child);
  child.stdout?.resume();
  child.stderr?.resume();
  child.unref();
  const blobEndpoint = `http://127.0.0.1:${blobPort}/${DEV_ACCOUNT}`;
  const queueEndpoint = `http://127.0.0.1:${queuePort}/${DEV_ACCOUNT}`;
  return {
    blobEndpoint,
    queueEndpoint,
    location,
    blobPort,
    queuePort,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_ACCOUNT_KEY};BlobEndpoint=${blobEndpoint};QueueEndpoint=${queueEndpoint};`,
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
    const ports: { blob?: number; queue?: number } = {};
    const timer = setTimeout(() => fail(new Error(`Azurite did not start within ${STARTUP_TIMEOUT_MS / 1000} s:\n${output}`)), STARTUP_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      for (const match of output.matchAll(/Azurite (Blob|Queue) service is successfully listening at http:\/\/[^:]+:(\d+)/g)) {
        ports[match[1] === "Blob" ? "blob" : "queue"] = Number(match[2]);
      }
      if (ports.blob && ports.queue) {
        cleanup();
        resolve({ blobPort: ports.blob, queuePort: ports.queue });
      }
    };
    const onExit = (code: number | null): void => fail(new Error(`Azurite exited with code ${code} before it was ready:\n${output}`));
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
