/**
 * Helpers shared by the benchmark scripts: statistics, the machine's description, a
 * memory sampler, child-process runs and the in-process worker-thread pool that stands
 * for the machine's limit.
 */
import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, hostname, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { type StorageProxy, startStorageProxy } from "../local/storage-delay-proxy.ts";

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
export const millis = (ms: number): string => `${ms.toFixed(1)} ms`;
export const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

export interface MachineInfo {
  date: string;
  host: string;
  uname: string;
  cpuModel: string;
  cores: number;
  memoryGb: number;
  node: string;
  loadAverage: string;
}

export function machineInfo(): MachineInfo {
  let uname: string;
  try {
    uname = execFileSync("uname", ["-a"], { encoding: "utf8" }).trim();
  } catch {
    uname = `${process.platform} ${process.arch}`;
  }
  let loadAverage = "";
  try {
    loadAverage = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  } catch {
    loadAverage = "n/a";
  }
  return {
    date: new Date().toISOString(),
    host: hostname(),
    uname,
    cpuModel: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    loadAverage,
  };
}

/** Peak RSS and heap of this process while `run` runs (RSS from the kernel's high-water mark). */
export async function withMemoryPeak<T>(run: () => Promise<T>): Promise<{ value: T; peakRss: number; peakHeap: number }> {
  let peakHeap = process.memoryUsage().heapUsed;
  const timer = setInterval(() => {
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }, 20);
  try {
    const value = await run();
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    return { value, peakRss: process.resourceUsage().maxRSS * 1024, peakHeap };
  } finally {
    clearInterval(timer);
  }
}

const TSX_LOADER = import.meta.resolve("tsx");

/** Runs a bench script in a fresh Node process (with tsx) and parses the JSON on its last stdout line. */
export function runChild<T>(script: string, args: string[] = [], timeoutMs = 600_000): Promise<T> {
  const path = fileURLToPath(new URL(script, import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", TSX_LOADER, path, ...args], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      const last = out.trim().split("\n").pop() ?? "";
      if (code !== 0) {
        reject(new Error(`${script} exited with ${signal ?? code}: ${out.slice(-2000)}`));
        return;
      }
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${script} printed no JSON result: ${out.slice(-2000)}`));
      }
    });
  });
}

/**
 * The limit: `size` worker threads in this process, each running `fn` (a self-contained
 * function, shipped as its source text) one call at a time, fed from one queue.
 */
export class InProcessPool {
  private readonly threads: Worker[];

  constructor(fn: (arg: never) => unknown, size: number) {
    const code = `
      const { parentPort } = require("node:worker_threads");
      const fn = (${fn.toString()});
      parentPort.on("message", (arg) => parentPort.postMessage(fn(arg)));
    `;
    this.threads = Array.from({ length: size }, () => new Worker(code, { eval: true }));
  }

  /** Waits until every thread answered one call (so startup is not timed). */
  async ready(arg: unknown): Promise<void> {
    await Promise.all(this.threads.map((t) => this.call(t, arg)));
  }

  async map(args: readonly unknown[]): Promise<unknown[]> {
    const results: unknown[] = new Array(args.length);
    let next = 0;
    await Promise.all(
      this.threads.map(async (thread) => {
        while (next < args.length) {
          const index = next;
          next += 1;
          results[index] = await this.call(thread, args[index]);
        }
      }),
    );
    return results;
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.terminate()));
  }

  private call(thread: Worker, arg: unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const onMessage = (value: unknown): void => {
        thread.off("error", onError);
        resolve(value);
      };
      const onError = (error: Error): void => {
        thread.off("message", onMessage);
        reject(error);
      };
      thread.once("message", onMessage);
      thread.once("error", onError);
      thread.postMessage(arg);
    });
  }
}

/**
 * An HTTP proxy in front of one Azurite service that counts every request: the ground
 * truth for the storage requests of client, scaler and workers together (it adds a hop,
 * so only the request-count phases go through it, never a timed one).
 */
export function startCountingProxy(targetPort: number, onRequest?: (method: string, url: string) => void): Promise<StorageProxy> {
  return startStorageProxy(targetPort, { onRequest });
}

/** One map of bench/reliability-sustained.ts: its wall time, then heap, RSS and open handles after a full GC. */
export interface SustainedRow {
  map: number;
  ms: number;
  heapUsed: number;
  rss: number;
  handles: number;
  byType: Record<string, number>;
  futures: number;
}

/** The maps of one way of running them (one executor, or one per map), and their growth from map 2 on. */
export interface SustainedMode {
  rows: SustainedRow[];
  heapGrowth: number;
  rssGrowth: number;
  heapPerRetainedFuture?: number;
  handleGrowth: number;
}

/** The JSON line bench/reliability-sustained.ts prints and bench/reliability.ts reads. */
export interface SustainedResult {
  maps: number;
  callsPerMap: number;
  same: SustainedMode;
  fresh: SustainedMode;
}
