import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LithopsError } from "../protocol/errors.ts";
import { packageRoot } from "../protocol/version.ts";

/** A part of lithops-aca was used whose optional peer dependency is not installed; the message says what to install. */
export class MissingPackageError extends LithopsError {
  override name = "MissingPackageError";
}

/** The package's optional peers whose names start with `prefix` (package.json is their one home). */
export function optionalPeers(prefix: string): string[] {
  const manifest = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { peerDependencies?: Record<string, string> };
  return Object.keys(manifest.peerDependencies ?? {}).filter((name) => name.startsWith(prefix));
}

/** Whether `error` is Node's failure to find a module (an optional package that is not installed). */
export function isModuleNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND";
}

/** The peer among `peers` that Node could not find, if that is why `error` was thrown. */
export function missingPeer(error: unknown, peers: readonly string[]): string | undefined {
  if (!isModuleNotFound(error)) return undefined;
  const message = (error as Error).message ?? "";
  return peers.find((name) => message.includes(`'${name}'`) || message.includes(`'${name}/`));
}

/**
 * Loads a part of the package that drives Pulumi (stack binding, the deploy commands),
 * which needs the optional Pulumi peers; without them, an error that says what to install
 * instead of Node's "Cannot find package".
 */
export async function loadPulumiPart<T>(purpose: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const peers = optionalPeers("@pulumi/");
    const missing = missingPeer(error, peers);
    if (!missing) throw error;
    throw new MissingPackageError(
      `${purpose} drives Pulumi and needs ${missing}, an optional peer dependency of lithops-aca that is not installed: ` +
        `run \`npm install ${peers.join(" ")}\` in your project (the client alone, on the local backend or with a config file, needs none of them)`,
    );
  }
}
