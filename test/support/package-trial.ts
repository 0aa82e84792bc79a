import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { packageRoot } from "../../protocol/version.ts";

/**
 * The package as a new user gets it: `npm pack` of this repository, installed from the
 * tarball into a fresh folder outside it. Child processes run on the Node.js that runs
 * the tests (its folder first on PATH, so `npm` and `npx` use it too), so running the
 * tests under another Node major tries the package there.
 */

const repoManifest = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as {
  devDependencies: Record<string, string>;
};

export interface CommandResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** npm's cache of this machine, kept when HOME moves, so installs reuse what `npm ci` fetched. */
const npmCache = execFileSync("npm", ["config", "get", "cache"], { encoding: "utf8" }).trim();
/** The trial's own home folder: what the package keeps there (the local backend's data) stays out of the real one. */
let home: string | undefined;

/**
 * Environment for a user's shell: this Node.js first on PATH (after `pathFirst`, e.g. a
 * stand-in `pulumi`), a home of its own, nothing of this repository's test setup.
 */
export function userEnv(pathFirst?: string): NodeJS.ProcessEnv {
  home ??= mkdtempSync(join(tmpdir(), "lithops-trial-home-"));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: [pathFirst, dirname(process.execPath), process.env.PATH ?? ""].filter(Boolean).join(delimiter),
    HOME: home,
    npm_config_cache: npmCache,
  };
  delete env.NODE_OPTIONS;
  delete env.NODE_TEST_CONTEXT;
  delete env.LITHOPS_CONFIG_FILE;
  delete env.LITHOPS_STACK;
  return env;
}

export function run(command: string, args: string[], cwd: string, options: { timeoutMs?: number; pathFirst?: string } = {}): CommandResult {
  const result = spawnSync(command, args, { cwd, env: userEnv(options.pathFirst), encoding: "utf8", timeout: options.timeoutMs ?? 300_000 });
  return { status: result.status, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
}

/** `run`, failing with the command's output when it does not exit 0. */
export function runOk(command: string, args: string[], cwd: string, options?: { timeoutMs?: number; pathFirst?: string }): string {
  const result = run(command, args, cwd, options);
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} (in ${cwd}) exited ${result.status}\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

/** Packs this repository (npm runs the build on pack) into a new temporary folder; returns the tarball's path. */
export function packPackage(): { dir: string; tarball: string } {
  const dir = mkdtempSync(join(tmpdir(), "lithops-package-trial-"));
  const out = execFileSync("npm", ["pack", "--pack-destination", dir, "--silent"], { cwd: packageRoot(), env: userEnv(), encoding: "utf8" });
  const name = out.trim().split("\n").pop()!;
  return { dir, tarball: join(dir, name) };
}

const NPM_INSTALL = ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"];

/** A new user's project: an empty folder, then `npm install <tarball>` plus the TypeScript a user would add, at this repository's versions. */
export function userProject(parent: string, tarball: string): string {
  const dir = join(parent, "user-app");
  mkdirSync(dir);
  writeFileSync(join(dir, "package.json"), `${JSON.stringify({ name: "user-app", private: true, type: "module" }, null, 2)}\n`);
  const dev = repoManifest.devDependencies;
  runOk("npm", [...NPM_INSTALL, tarball, `typescript@${dev.typescript}`, `@types/node@${dev["@types/node"]}`], dir);
  return dir;
}

/** A copy of examples/own-program whose `lithops-aca` dependency is the tarball, installed. */
export function ownProgram(parent: string, tarball: string): string {
  const dir = join(parent, "own-program");
  cpSync(join(packageRoot(), "examples/own-program"), dir, { recursive: true, filter: (path) => !/[/\\](node_modules|bin|\.lithops-aca)$/.test(path) });
  const manifestPath = join(dir, "package.json");
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { dependencies: Record<string, string> };
  manifest.dependencies["lithops-aca"] = `file:${tarball}`;
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  runOk("npm", NPM_INSTALL, dir);
  return dir;
}

/** Removes the trial's folders: the packed tarball's and the trial home. */
export function removeTrial(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  if (home) rmSync(home, { recursive: true, force: true });
  home = undefined;
}
