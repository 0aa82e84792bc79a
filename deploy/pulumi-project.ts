import { PulumiProjectError } from "./errors.ts";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import { parse as parseYaml } from "yaml";

/**
 * Which Pulumi project the command line and autoDeploy work on, from the user's folder:
 * the user's own project when the folder or a parent holds a Pulumi.yaml (its program uses
 * `lithops-aca/pulumi`), otherwise this package's program run inline by the Automation API,
 * with the stack files in `./lithops-aca/` of the user's folder. Never inside node_modules.
 */

/** Names the folder of the stack files (or of the user's Pulumi project) explicitly. */
export const PULUMI_DIR_ENV = "LITHOPS_PULUMI_DIR";

/** The folder, under the user's folder, that holds the stack files of the inline program. */
export const INLINE_WORKSPACE_DIR = "lithops-aca";

/** The Pulumi project name of the inline program: the namespace of its config keys (`lithops-aca:runtimes`). */
export const INLINE_PROJECT_NAME = "lithops-aca";

/** The description written into the inline workspace's Pulumi.yaml: how a later run recognises it. */
export const INLINE_PROJECT_DESCRIPTION = "lithops-aca runtimes: the stack files of the lithops-aca command line (its program runs inline)";

export interface PulumiProject {
  /** `local`: the user's Pulumi.yaml and program; `inline`: this package's program through the Automation API. */
  kind: "local" | "inline";
  /** The Automation API's workspace folder: Pulumi.yaml and Pulumi.<stack>.yaml. */
  workDir: string;
  /** The folder that Dockerfile paths in the stack config are relative to (the images' build context). */
  root: string;
}

/** Whether the folder's Pulumi.yaml is the one the inline workspace writes. */
function isInlineWorkspace(dir: string): boolean {
  try {
    const settings = parseYaml(readFileSync(join(dir, "Pulumi.yaml"), "utf8")) as { description?: unknown } | null;
    return settings?.description === INLINE_PROJECT_DESCRIPTION;
  } catch {
    return false;
  }
}

function project(workDir: string): PulumiProject {
  if (existsSync(join(workDir, "Pulumi.yaml")) && !isInlineWorkspace(workDir)) return { kind: "local", workDir, root: workDir };
  // Dockerfile paths are relative to the folder that holds the stack files' folder: the user's project folder.
  return { kind: "inline", workDir, root: dirname(workDir) };
}

function insideNodeModules(dir: string): boolean {
  return dir.split(sep).includes("node_modules");
}

/**
 * $LITHOPS_PULUMI_DIR when set (a Pulumi project, or the folder for the inline program's
 * stack files); else the nearest of `cwd` and its parents that holds a Pulumi.yaml or a
 * `lithops-aca/` stack folder; else `lithops-aca/` in the user's project folder (the nearest
 * with a package.json, else `cwd`), created when a stack is first opened.
 */
export function pulumiProject(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): PulumiProject {
  const given = env[PULUMI_DIR_ENV];
  if (given) {
    const dir = resolve(cwd, given);
    if (insideNodeModules(dir)) {
      throw new PulumiProjectError(
        `${PULUMI_DIR_ENV}=${given}: the stack files must not live inside node_modules (an install replaces it); name a folder of your project`,
      );
    }
    return project(dir);
  }
  if (insideNodeModules(resolve(cwd))) {
    throw new PulumiProjectError(`${cwd} is inside node_modules: run lithops-aca from your project's folder, or set ${PULUMI_DIR_ENV}`);
  }
  let packageFolder: string | undefined;
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "Pulumi.yaml"))) return project(dir);
    const inline = join(dir, INLINE_WORKSPACE_DIR);
    if (isInlineWorkspace(inline)) return project(inline);
    if (packageFolder === undefined && existsSync(join(dir, "package.json"))) packageFolder = dir;
    if (dirname(dir) === dir) break;
  }
  return project(join(packageFolder ?? resolve(cwd), INLINE_WORKSPACE_DIR));
}
