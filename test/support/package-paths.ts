import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot, WORKER_BUNDLE } from "../../protocol/version.ts";

/**
 * The repository's folder. Tests find the repository's files (fixtures, docs, programs they
 * start) from here, never next to themselves: `npm test` runs their build in dist/test/, a
 * developer runs one file from its TypeScript source under tsx, and both must read the same files.
 */
export const REPO_ROOT = packageRoot();

/** A file or folder of the repository, by its path from the repository's folder. */
export function repoPath(...parts: string[]): string {
  return join(REPO_ROOT, ...parts);
}

/** Whether the running tests are their build in dist/test/ (`npm test`), not their sources under tsx. */
const RUNNING_BUILT = !import.meta.url.endsWith(".ts");

/**
 * A module of the repository (its path from the repository's folder, no extension) as the
 * running tests load it: the TypeScript source under tsx, its build in dist/ when the tests run
 * from their build. Start it with `node ...MODULE_EXEC_ARGV <file>`.
 */
export function runningModule(path: string): string {
  return RUNNING_BUILT ? repoPath("dist", `${path}.js`) : repoPath(`${path}.ts`);
}

/** What `node` needs to run a runningModule(): tsx for a TypeScript source, nothing for built JavaScript. */
export const MODULE_EXEC_ARGV: readonly string[] = RUNNING_BUILT ? [] : ["--import", "tsx"];

/** What the package starts as processes, as built by `npm run build`: tests run these, not the sources. */
const manifest = JSON.parse(readFileSync(repoPath("package.json"), "utf8")) as { bin: Record<string, string> };

/** The `lithops-aca` command (package.json's bin), plain JavaScript. */
export const CLI_BIN = repoPath(manifest.bin["lithops-aca"]!);
/** The bundled worker, the program a runtime image runs. */
export const WORKER_BIN = repoPath(WORKER_BUNDLE);
