import { createHash } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { BUNDLE_DIR, CLIENT_BUNDLE, WORKER_BUNDLE, packageRoot } from "../protocol/version.ts";

/** Where the worker sits in every runtime image: a package Node resolves `lithops-aca` to from any folder (nested jobs). */
export const IMAGE_PACKAGE_DIR = "/node_modules/lithops-aca";
/** The folder of the staged context that holds the worker package. */
const STAGED_WORKER_DIR = ".lithops-aca-worker";
/** The Dockerfile the build runs: the user's, plus the worker layer. */
export const STAGED_DOCKERFILE = "Dockerfile.lithops-aca";
/** Never part of a build context, whatever the runtime folder holds. */
const SKIPPED = new Set(["node_modules", ".git", ".lithops-aca"]);

export interface StagedContext {
  /** The folder to build in. */
  dir: string;
  /** The Dockerfile inside it. */
  dockerfile: string;
  /** sha256 of every file of the context: changes exactly when what the image is built from changes. */
  digest: string;
}

/**
 * The worker layer every runtime image gets on top of the user's Dockerfile: the bundled
 * worker as a package at the file-system root, and the command that runs it as a non-root
 * user (uid:gid 1000, the Node.js images' `node`; the worker writes only to the OS temp
 * directory). A user's Dockerfile names only its own packages and system libraries.
 */
export function workerLayer(): string {
  return [
    "",
    "# Added by lithops-aca: the worker (one bundled file and its thread entry) on top of the runtime above.",
    `COPY ${STAGED_WORKER_DIR}/ ${IMAGE_PACKAGE_DIR}/`,
    "ARG LITHOPS_CONTEXT_DIGEST=none",
    "ARG LITHOPS_REVISION=0",
    'LABEL org.lithops-aca.context="${LITHOPS_CONTEXT_DIGEST}" org.lithops-aca.revision="${LITHOPS_REVISION}"',
    "ARG LITHOPS_USER=1000:1000",
    "USER ${LITHOPS_USER}",
    `CMD ["node", "${IMAGE_PACKAGE_DIR}/${WORKER_BUNDLE}"]`,
    "",
  ].join("\n");
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

/** The bytes of every file under `dir`: what a staged folder adds to an image. */
export function treeBytes(dir: string): number {
  return filesUnder(dir).reduce((sum, file) => sum + statSync(join(dir, file)).size, 0);
}

export function contextDigest(dir: string): string {
  const hash = createHash("sha256");
  for (const file of filesUnder(dir))
    hash
      .update(file)
      .update("\0")
      .update(readFileSync(join(dir, file)))
      .update("\0");
  return hash.digest("hex");
}

/** Whether `entry` of the staging folder is a context staged for image `name`: `<name>-<12 hex digits>`. */
function isStagedContextOf(name: string, entry: string): boolean {
  return entry.length === name.length + 13 && entry.startsWith(`${name}-`) && /^[0-9a-f]{12}$/.test(entry.slice(name.length + 1));
}

/**
 * Stages the build context of a runtime image under `stagingRoot`: the folder of its
 * Dockerfile (only that folder, so editing the README, a test or a stack file rebuilds
 * nothing), the worker package (`bundle`: this package's built one), and the Dockerfile
 * with the worker layer appended. The folder is named after its content's digest, so two
 * programs staging at once never write into each other's context.
 */
export function stageImageContext(dockerfile: string, stagingRoot: string, name: string, bundle = join(packageRoot(), BUNDLE_DIR)): StagedContext {
  if (!statSync(join(bundle, relative(BUNDLE_DIR, WORKER_BUNDLE)), { throwIfNoEntry: false })?.isFile()) {
    throw new Error(`the worker bundle is missing from ${bundle}: run \`npm run build\` in ${packageRoot()}`);
  }
  mkdirSync(stagingRoot, { recursive: true });
  const scratch = mkdtempSync(join(stagingRoot, `.${name}-`));
  const sourceDir = dirname(dockerfile);
  cpSync(sourceDir, scratch, { recursive: true, filter: (path) => !SKIPPED.has(relative(sourceDir, path).split(sep)[0]!) });
  const workerDir = join(scratch, STAGED_WORKER_DIR);
  // Source maps stay out: the image runs the bundle, nobody debugs it there.
  cpSync(bundle, join(workerDir, BUNDLE_DIR), { recursive: true, filter: (path) => !path.endsWith(".map") });
  const manifest = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { name: string; version: string };
  writeFileSync(
    join(workerDir, "package.json"),
    `${JSON.stringify({ name: manifest.name, version: manifest.version, type: "module", exports: { ".": `./${CLIENT_BUNDLE}` } }, null, 2)}\n`,
  );
  writeFileSync(join(scratch, STAGED_DOCKERFILE), `${readFileSync(dockerfile, "utf8").trimEnd()}\n${workerLayer()}`);

  const digest = contextDigest(scratch);
  const dir = join(stagingRoot, `${name}-${digest.slice(0, 12)}`);
  try {
    renameSync(scratch, dir);
  } catch {
    rmSync(scratch, { recursive: true, force: true }); // the same context is staged already
  }
  // Only this image's earlier contexts: `image-a-<digest>`, never `image-a-b-<digest>` of another image.
  for (const old of readdirSync(stagingRoot)) {
    if (isStagedContextOf(name, old) && join(stagingRoot, old) !== dir) rmSync(join(stagingRoot, old), { recursive: true, force: true });
  }
  return { dir, dockerfile: join(dir, STAGED_DOCKERFILE), digest };
}
