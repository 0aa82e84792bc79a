/**
 * What the package costs outside this repository, in one run (`npx tsx bench/packaging.ts`):
 * - install size of the packed package in an empty project, without and with the optional
 *   peers (the Pulumi providers, plotting);
 * - the worker bundle, and the files the image adds over the Node.js base image (the
 *   staged context's worker folder: no Docker engine runs here);
 * - the worker's start, from spawn to its first queue receive: the bundle on plain Node
 *   against the TypeScript sources under tsx, as the worker started before the bundle;
 * - a user program's start to its first result on the local backend (installed package,
 *   plain node), cold (nothing running) and warm (another process serves the storage).
 * Writes bench/results/<date>-packaging.md.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stageImageContext, treeBytes } from "../components/image-context.ts";
import { DEFAULT_DOCKERFILE } from "../components/stack-config.ts";
import { connectionStringFor, startAzurite } from "../local/azurite.ts";
import { connectStorage } from "../azure/storage-connection.ts";
import { ENV } from "../protocol/env.ts";
import { BUNDLE_DIR, packageRoot, WORKER_BUNDLE } from "../protocol/version.ts";
import { packPackage, removeTrial, runOk, userEnv, userProject } from "../test/support/package-trial.ts";
import { machineInfo, mb, median, millis, startCountingProxy } from "./lib.ts";

const SAMPLES = 5;
/** The last commit whose worker ran from the TypeScript sources under tsx. */
const TSX_WORKER_COMMIT = "c86d122";

/** Disk usage as `du -sk` reports it (blocks, as the 534 MB was measured), in bytes. */
function diskBytes(dir: string): number {
  return Number(execFileSync("du", ["-sk", dir], { encoding: "utf8" }).split("\t")[0]) * 1024;
}

const NPM_INSTALL = ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"];

/** `npm install lithops-aca` in an empty project, then the optional peers added. */
function installSizes(dir: string, tarball: string): { withoutPeers: number; withPeers: number } {
  const app = join(dir, "install-size");
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), '{ "name": "install-size", "private": true }\n');
  runOk("npm", [...NPM_INSTALL, tarball], app);
  const withoutPeers = diskBytes(join(app, "node_modules"));
  const manifest = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { peerDependencies: Record<string, string> };
  runOk("npm", [...NPM_INSTALL, ...Object.entries(manifest.peerDependencies).map(([name, range]) => `${name}@${range}`)], app);
  return { withoutPeers, withPeers: diskBytes(join(app, "node_modules")) };
}

function imageAddition(): { bundleBytes: number; workerLayerBytes: number } {
  const bundleDir = join(packageRoot(), BUNDLE_DIR);
  const bundleBytes = readdirSync(bundleDir)
    .filter((f) => f.endsWith(".mjs"))
    .reduce((sum, f) => sum + statSync(join(bundleDir, f)).size, 0);
  const staging = mkdtempSync(join(tmpdir(), "bench-stage-"));
  try {
    const staged = stageImageContext(DEFAULT_DOCKERFILE, staging, "default");
    return { bundleBytes, workerLayerBytes: treeBytes(join(staged.dir, ".lithops-aca-worker")) };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Milliseconds from spawning `args` (a worker) to its first receive on its queue. */
async function workerStartMs(args: string[], cwd: string): Promise<number[]> {
  const azurite = await startAzurite();
  const samples: number[] = [];
  try {
    for (let i = 0; i < SAMPLES; i += 1) {
      const queue = `bench-start-${i}`;
      let spawned = 0;
      let firstReceive: (() => void) | undefined;
      const received = new Promise<void>((resolve) => (firstReceive = resolve));
      const proxy = await startCountingProxy(azurite.queuePort, (method, url) => {
        if (method === "GET" && url.startsWith(`/devstoreaccount1/${queue}/messages`)) firstReceive?.();
      });
      const storage = connectStorage({ connectionString: azurite.connectionString, container: "bench-start" });
      await storage.container.createIfNotExists();
      await storage.queueService.createQueue(queue);
      await storage.queueService.createQueue(`${queue}-poison`);
      spawned = performance.now();
      const worker = spawn(process.execPath, args, {
        cwd,
        stdio: "ignore",
        env: {
          ...process.env,
          [ENV.backend]: "local",
          [ENV.connectionString]: connectionStringFor(azurite.blobPort, proxy.port, azurite.accountKey),
          [ENV.container]: "bench-start",
          [ENV.queue]: queue,
          [ENV.poisonQueue]: `${queue}-poison`,
          [ENV.runtimeName]: "default",
        },
      });
      await received;
      samples.push(performance.now() - spawned);
      worker.kill("SIGKILL");
      await proxy.close();
    }
  } finally {
    await azurite.stop();
  }
  return samples;
}

const FIRST_RESULT = `import { FunctionExecutor } from "lithops-aca";
const started = performance.now();
const fexec = new FunctionExecutor();
await fexec.callAsync((x) => x + 7, 3);
const result = await fexec.getResult();
const fromExecutorMs = performance.now() - started;
await fexec.close();
if (result !== 10) throw new Error("expected 10, got " + result);
console.log(JSON.stringify({ sinceProcessStartMs: Date.now() - performance.timeOrigin, fromExecutorMs }));
`;

const HOLDER = `import { Storage } from "lithops-aca";
const storage = new Storage();
await storage.listKeys(storage.bucket);
console.log("ready");
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
`;

function firstResult(app: string): { sinceProcessStartMs: number; fromExecutorMs: number } {
  const out = runOk(process.execPath, ["first-result.mjs"], app);
  return JSON.parse(out.trim().split("\n").pop()!) as { sinceProcessStartMs: number; fromExecutorMs: number };
}

async function firstResults(app: string): Promise<{ cold: number[]; warm: number[]; coldFromExecutor: number[]; warmFromExecutor: number[] }> {
  writeFileSync(join(app, "first-result.mjs"), FIRST_RESULT);
  writeFileSync(join(app, "holder.mjs"), HOLDER);
  const cold = Array.from({ length: SAMPLES }, () => firstResult(app));
  const holder = spawn(process.execPath, ["holder.mjs"], { cwd: app, env: userEnv(), stdio: ["pipe", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    holder.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("ready") && resolve());
    holder.on("exit", (code) => reject(new Error(`the storage holder exited with ${code}`)));
  });
  const warm = Array.from({ length: SAMPLES }, () => firstResult(app));
  holder.removeAllListeners("exit");
  holder.stdin.end();
  return {
    cold: cold.map((r) => r.sinceProcessStartMs),
    coldFromExecutor: cold.map((r) => r.fromExecutorMs),
    warm: warm.map((r) => r.sinceProcessStartMs),
    warmFromExecutor: warm.map((r) => r.fromExecutorMs),
  };
}

function tsxWorkerTree(): string {
  const dir = mkdtempSync(join(tmpdir(), "bench-tsx-worker-"));
  execFileSync("git", ["worktree", "add", "--detach", dir, TSX_WORKER_COMMIT], { cwd: packageRoot(), stdio: "ignore" });
  execFileSync("ln", ["-s", join(packageRoot(), "node_modules"), join(dir, "node_modules")]);
  return dir;
}

const machine = machineInfo();
const { dir, tarball } = packPackage();
const oldTree = tsxWorkerTree();
try {
  const sizes = installSizes(dir, tarball);
  const image = imageAddition();
  const bundleStart = await workerStartMs([join(packageRoot(), WORKER_BUNDLE)], packageRoot());
  const tsxStart = await workerStartMs(["--import", "tsx", "worker/main.ts"], oldTree);
  const starts = await firstResults(userProject(dir, tarball));
  const lines = [
    `# Packaging: install size, image addition, start times (${machine.date.slice(0, 10)})`,
    "",
    `Machine: ${machine.host}, ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGb} GB, Node ${machine.node}, load ${machine.loadAverage}.`,
    `Command: \`npx tsx bench/packaging.ts\`. Times are medians of ${SAMPLES} runs, in one run of this script; compare ratios, not absolute values.`,
    "",
    "| What | Measured | Target |",
    "|---|---|---|",
    `| \`npm install lithops-aca\` (tarball) without the optional peers, on disk (du) | ${mb(sizes.withoutPeers)} | at most 350 MB (534 MB before) |`,
    `| with every optional peer (Pulumi providers, vega) | ${mb(sizes.withPeers)} | |`,
    `| worker bundle (dist/bundle/*.mjs) | ${(image.bundleBytes / 1024 / 1024).toFixed(1)} MB | |`,
    `| files the image adds over the Node.js base (staged worker folder) | ${(image.workerLayerBytes / 1024 / 1024).toFixed(1)} MB | at most 20 MB |`,
    `| worker spawn to first queue receive: bundle, plain node | ${millis(median(bundleStart))} | at most half of tsx |`,
    `| worker spawn to first queue receive: sources under tsx (${TSX_WORKER_COMMIT}) | ${millis(median(tsxStart))} | |`,
    `| user program start to first result, cold (Azurite started) | ${millis(median(starts.cold))} | at most 2 s |`,
    `| of which from \`new FunctionExecutor()\` | ${millis(median(starts.coldFromExecutor))} | |`,
    `| user program start to first result, warm (storage served by another process) | ${millis(median(starts.warm))} | |`,
    `| of which from \`new FunctionExecutor()\` | ${millis(median(starts.warmFromExecutor))} | |`,
    "",
    `Samples (ms): bundle start ${bundleStart.map((v) => v.toFixed(0)).join(", ")}; tsx start ${tsxStart.map((v) => v.toFixed(0)).join(", ")}; ` +
      `cold ${starts.cold.map((v) => v.toFixed(0)).join(", ")}; warm ${starts.warm.map((v) => v.toFixed(0)).join(", ")}.`,
    "",
  ];
  const resultsDir = join(packageRoot(), "bench/results");
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${machine.date.slice(0, 10)}-packaging.md`);
  writeFileSync(file, lines.join("\n"));
  console.log(lines.join("\n"));
  console.log(`written to ${file}`);
} finally {
  removeTrial(dir);
  execFileSync("git", ["worktree", "remove", "--force", oldTree], { cwd: packageRoot(), stdio: "ignore" });
}
