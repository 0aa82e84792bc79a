// `npm run build`: the package's JavaScript and declarations (tsc, into dist/), the files
// tsc does not copy, the worker bundle (esbuild, into dist/bundle/) that runtime images
// and local workers run on plain Node, and the tests' JavaScript (into dist/test/,
// left out of the package), which `npm test` runs without a loader.
import { execFileSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const only = process.argv[2]; // "bundle": the worker bundle alone (what the tests need after a worker change)

if (only !== "bundle") {
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { stdio: "inherit" });
  for (const file of ["parent-watchdog.cjs", "azurite-launch.cjs"]) cpSync(join(root, "local", file), join(root, "dist/local", file));
  chmodSync(join(root, "dist/cli/bin.js"), 0o755);
  // The local backend's Azurite as one file with the azurite classes it starts, which
  // azurite-launch.cjs runs with a code cache: a cold start loads one file instead of resolving
  // and reading about a thousand modules (a quarter less CPU to listening, before the cache).
  await buildTests();
  await build({
    absWorkingDir: root,
    entryPoints: ["local/azurite-server.cjs"],
    outfile: "dist/local/azurite-server.bundle.cjs",
    bundle: true,
    format: "cjs",
    platform: "node",
    target: "node20",
    minify: true,
    logLevel: "error",
    // Telemetry stays off: the stand-in, not Application Insights (see the stand-in's file).
    alias: { applicationinsights: "./local/azurite-telemetry-off.cjs" },
  });
}

// Built beside the bundle folder, then swapped in, so a worker starting meanwhile never sees half a bundle.
const bundleDir = join(root, "dist/bundle");
const staging = `${bundleDir}.${process.pid}`;
await build({
  absWorkingDir: root,
  // worker: the container's program; call-thread: its thread entry (worker/thread-pool.ts);
  // client: what `import("lithops-aca")` gives a function inside a runtime image (nested jobs).
  entryPoints: { worker: "worker/main.ts", "call-thread": "worker/call-thread.ts", client: "client/index.ts" },
  outdir: staging,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  minify: true,
  sourcemap: "linked",
  logLevel: "warning",
  // CommonJS dependencies call require(); give the ES module bundle one.
  banner: { js: "import { createRequire as __lithopsRequire } from 'node:module'; const require = __lithopsRequire(import.meta.url);" },
  // Never inside a runtime image: the deploy side, the local emulator and plotting.
  external: ["@pulumi/*", "azurite", "vega", "vega-lite", "commander", "cli-progress"],
});
rmSync(bundleDir, { recursive: true, force: true });
renameSync(staging, bundleDir);

/**
 * Every .ts file under test/ and bench/, and index.ts, as JavaScript in dist/, file for file, as tsc would emit it
 * (TypeScript's single-file transpiler: no type-check, `npm run check` does that), relative
 * imports pointed at the built files (`../../client/index.ts` becomes `../../client/index.js`,
 * the package build's). Written afresh, so a removed test never runs from here.
 */
async function buildTests() {
  const ts = createRequire(import.meta.url)("typescript");
  const compilerOptions = { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, rewriteRelativeImportExtensions: true };
  rmSync(join(root, "dist/test"), { recursive: true, force: true });
  rmSync(join(root, "dist/bench"), { recursive: true, force: true });
  const under = (folder) => readdirSync(join(root, folder), { recursive: true, encoding: "utf8" }).map((file) => join(folder, file));
  // bench/ and index.ts too: tests check the benchmarks' models and run the repository's Pulumi program under mocks.
  for (const file of [...under("test"), ...under("bench"), "index.ts"]) {
    if (!file.endsWith(".ts") || file.endsWith(".d.ts")) continue;
    const { outputText } = ts.transpileModule(readFileSync(join(root, file), "utf8"), { compilerOptions, fileName: file });
    const out = join(root, "dist", file.replace(/\.ts$/, ".js"));
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, outputText);
  }
}
