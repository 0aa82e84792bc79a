import { notInstalled, optionalPeers } from "../client/optional-packages.ts";
import { MissingPackageError } from "../client/errors.ts";

/**
 * This package's Pulumi program as an Automation API inline program: what the command line
 * runs when the user's folder has no Pulumi project of its own. It is the repository's
 * index.ts in function form: a `LithopsStack` from `lithops-aca/pulumi` over the stack config,
 * with the same outputs. The components load on the first run only (they need the optional
 * Pulumi providers).
 */
export function inlineProgram(projectRoot: string): () => Promise<Record<string, unknown>> {
  return async () => {
    const { lithopsStackFromConfig } = await import("../components/index.ts");
    return lithopsStackFromConfig(projectRoot).outputs();
  };
}

/**
 * The inline program needs the Pulumi providers, optional peer dependencies of the package
 * (package.json's `@pulumi/*` peers): says which to install when one is missing, before
 * `pulumi up` fails on it deep inside the program.
 */
export function assertProvidersInstalled(): void {
  const missing = notInstalled(optionalPeers("@pulumi/"));
  if (missing.length > 0) {
    throw new MissingPackageError(
      `deploying with lithops-aca's own Pulumi program needs the Pulumi providers ${missing.join(", ")}: run \`npm install ${missing.join(" ")}\` in your project, then this command again`,
    );
  }
}
