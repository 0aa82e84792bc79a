import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, delimiter, dirname, join, relative } from "node:path";
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

/**
 * Packs this repository's build into a new temporary folder; returns the tarball's path.
 * Without the build npm would run on pack (`prepare`): every way in builds first (`npm test`,
 * `npm run test:package`, `npm ci` in CI), and building twice costs the suite half a minute.
 */
export function packPackage(): { dir: string; tarball: string } {
  const dir = mkdtempSync(join(tmpdir(), "lithops-package-trial-"));
  const out = execFileSync("npm", ["pack", "--ignore-scripts", "--pack-destination", dir, "--silent"], {
    cwd: packageRoot(),
    env: userEnv(),
    encoding: "utf8",
  });
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

/**
 * A copy of examples/own-program whose `lithops-aca` dependency is the tarball, installed.
 * Its Pulumi packages (about 500 MB, most of a fresh install's time) are linked from this
 * repository's own install (linkRepositoryPackages): what is tried is the packed lithops-aca
 * inside a user's Pulumi program, not npm's download of Pulumi. Node.js resolves the links to
 * their real paths, so the program, lithops-aca/pulumi and the providers share one
 * @pulumi/pulumi, as in a real install.
 * `npm install` starts from `installed`'s node_modules (a user project that installed the same
 * tarball), so it only changes what the example's manifest wants otherwise (its @types/node):
 * unpacking the same 300 MB again cost the trial 30 CPU-seconds.
 */
export function ownProgram(parent: string, tarball: string, installed: string): string {
  const dir = join(parent, "own-program");
  cpSync(join(packageRoot(), "examples/own-program"), dir, { recursive: true, filter: (path) => !/[/\\](node_modules|bin|\.lithops-aca)$/.test(path) });
  const manifestPath = join(dir, "package.json");
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { dependencies: Record<string, string> };
  manifest.dependencies["lithops-aca"] = `file:${tarball}`;
  const pulumiPackages = Object.keys(manifest.dependencies).filter((name) => name.startsWith("@pulumi/"));
  const withoutPulumi = {
    ...manifest,
    dependencies: Object.fromEntries(Object.entries(manifest.dependencies).filter(([name]) => !name.startsWith("@pulumi/"))),
  };
  writeFileSync(manifestPath, `${JSON.stringify(withoutPulumi, null, 2)}\n`);
  copyProject(join(installed, "node_modules"), join(dir, "node_modules"));
  // npm rewrites its record of the installed tree in place: a hard link would change `installed`'s too.
  const npmRecord = join(dir, "node_modules", ".package-lock.json");
  const record = readFileSync(npmRecord);
  rmSync(npmRecord);
  writeFileSync(npmRecord, record);
  runOk("npm", [...NPM_INSTALL, "--no-package-lock"], dir);
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  linkRepositoryPackages(dir, pulumiPackages);
  return dir;
}

/**
 * Links packages from this repository's install into a trial project's node_modules: the
 * optional peers a user adds next to lithops-aca (Pulumi, the plotting libraries), at the
 * versions the repository pins, without downloading and unpacking them again per trial.
 */
export function linkRepositoryPackages(project: string, names: readonly string[]): void {
  for (const name of names) {
    const link = join(project, "node_modules", name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(packageRoot(), "node_modules", name), link, "dir");
  }
}

/**
 * The files `npm pack` ships (package.json's files: dist and runtimes, plus package.json
 * and README.md), hashed with the Node.js major: the key of a shared trial.
 */
function buildHash(): string {
  const root = packageRoot();
  const hash = createHash("sha256").update(`node ${process.versions.node.split(".")[0]}\n`);
  const add = (path: string): void => {
    if (!existsSync(path)) return;
    if (statSync(path).isDirectory()) {
      for (const entry of readdirSync(path).sort()) add(join(path, entry));
    } else if (!path.endsWith(".tsbuildinfo")) {
      hash
        .update(`${relative(root, path)}\0`)
        .update(readFileSync(path))
        .update("\0");
    }
  };
  for (const part of ["package.json", "README.md", "dist", "runtimes"]) add(join(root, part));
  return hash.digest("hex").slice(0, 16);
}

const SHARED_PREFIX = "lithops-package-trial-shared-";
const sharedDir = (hash: string) => join(tmpdir(), `${SHARED_PREFIX}${hash}`);
/** Written last: the shared folder holds a whole tarball and installed project. */
const READY = "ready.json";
/** Older shared trials (of earlier builds) are removed when a new one is made after this long. */
const STALE_MS = 6 * 3_600_000;

/** Holds a lock (a folder: mkdir is atomic) across processes while `work` runs; a dead holder's lock is taken over. */
function withLock<T>(lock: string, work: () => T): T {
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, "pid"), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      if (holderIsGone(lock)) rmSync(lock, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`the package trial lock ${lock} was held for 30 minutes`);
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500); // the callers are synchronous test hooks
    }
  }
  try {
    return work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function holderIsGone(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(lock, "pid"), "utf8"));
  } catch {
    // Just made, pid not written yet; or left by a holder killed between the two steps.
    return Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? 0) > 60_000;
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/**
 * One `npm pack` and one install of it per build (and Node.js major), shared by every test
 * file that tries the package: the first to ask packs (npm runs the build) and installs
 * under a lock, the others wait and reuse it. Keyed by the hash of the packed files, so a
 * changed build is packed again.
 */
function sharedTrial(): { tarball: string; app: string } {
  const ready = (hash: string) => {
    const file = join(sharedDir(hash), READY);
    return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as { tarball: string; app: string }) : undefined;
  };
  const known = ready(buildHash());
  if (known) return known;
  return withLock(join(tmpdir(), `${SHARED_PREFIX}lock`), () => {
    const again = ready(buildHash()); // another process packed this build while this one waited
    if (again) return again;
    const { dir: staging, tarball: packed } = packPackage();
    const hash = buildHash();
    const dir = sharedDir(hash);
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
    const tarball = join(dir, relative(staging, packed));
    const trial = { tarball, app: userProject(dir, tarball) };
    writeFileSync(join(dir, READY), JSON.stringify(trial));
    for (const entry of readdirSync(tmpdir())) {
      const other = join(tmpdir(), entry);
      if (entry.startsWith(SHARED_PREFIX) && other !== dir && !entry.endsWith("lock") && Date.now() - statSync(other).mtimeMs > STALE_MS) {
        rmSync(other, { recursive: true, force: true });
      }
    }
    return trial;
  });
}

/**
 * A test file's own copy of the shared trial's user project and tarball (a new folder: test
 * files write programs and a tsconfig.json there, and may install more).
 * removeTrial(dir) removes the copy.
 */
export function trialProject(): { dir: string; tarball: string; app: string } {
  const shared = sharedTrial();
  const dir = mkdtempSync(join(tmpdir(), "lithops-package-trial-"));
  const app = join(dir, "user-app");
  copyProject(shared.app, app);
  // The project's package.json names the tarball by a relative path (npm saves it so): keep it valid.
  const tarball = join(dir, basename(shared.tarball));
  cpSync(shared.tarball, tarball);
  return { dir, tarball, app };
}

/**
 * Copies an installed project: as hard links where `cp -al` works (Linux; a few seconds
 * instead of copying 300 MB, and the trials add files and npm replaces packages, but neither
 * writes into an installed file), else file by file.
 */
function copyProject(from: string, to: string): void {
  if (spawnSync("cp", ["-al", from, to]).status === 0) return;
  rmSync(to, { recursive: true, force: true });
  cpSync(from, to, { recursive: true, verbatimSymlinks: true });
}

/** Removes the trial's folders: the packed tarball's (or a trialProject's copy) and the trial home. */
export function removeTrial(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  if (home) rmSync(home, { recursive: true, force: true });
  home = undefined;
}
