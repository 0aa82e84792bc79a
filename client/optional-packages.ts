import { MissingPackageError } from "./errors.ts";
import { createRequire } from "node:module";
import { packageManifest } from "../protocol/version.ts";

const PULUMI_SDK = "@pulumi/pulumi";

/** The package's optional peers whose names start with `prefix` (package.json is their one home). */
export function optionalPeers(prefix: string): string[] {
  return Object.keys(packageManifest().peerDependencies ?? {}).filter((name) => name.startsWith(prefix));
}

/** Whether `error` is Node's failure to find a module (an optional package that is not installed). */
export function isModuleNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND";
}

/** The packages among `names` that lithops-aca cannot resolve: optional peers not installed. */
export function notInstalled(names: readonly string[]): string[] {
  const require = createRequire(import.meta.url);
  return names.filter((name) => {
    try {
      require.resolve(name);
      return false;
    } catch (error) {
      if (isModuleNotFound(error)) return true;
      throw error;
    }
  });
}

/**
 * Loads a part of the package that drives Pulumi (stack binding, the deploy commands). It
 * needs `@pulumi/pulumi`, an optional peer: checked first, so a missing one is an error that
 * names `purpose` and says what to install instead of Node's "Cannot find package".
 */
export async function loadPulumiPart<T>(purpose: string, load: () => Promise<T>): Promise<T> {
  if (notInstalled([PULUMI_SDK]).length > 0) {
    throw new MissingPackageError(
      `${purpose} drives Pulumi and needs ${PULUMI_SDK}, an optional peer dependency of lithops-aca that is not installed: ` +
        `run \`npm install ${optionalPeers("@pulumi/").join(" ")}\` in your project (the client alone, on the local backend or with a config file, needs none of them)`,
    );
  }
  return load();
}
