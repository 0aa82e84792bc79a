import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { LithopsError } from "./errors.ts";

/**
 * Bumped whenever the queue message or output document changes shape.
 * 2: arguments and results may be JSON text instead of V8's format (data-codec encodeCompact).
 * 3: messages name their queue and the SHA-256 of their blobs, may carry a call grant; outputs carry a MAC.
 */
export const PROTOCOL_VERSION = 3;

const PACKAGE_NAME = "lithops-aca";

/** What this project reads of its own package.json. */
export interface PackageManifest {
  name: string;
  version: string;
  peerDependencies?: Record<string, string>;
}

let found: { root: string; manifest: PackageManifest } | undefined;

/**
 * This package's package.json and its folder, found once by walking up from this module:
 * the same answer from the TypeScript sources, the built JavaScript, the worker bundle and
 * the package inside a runtime image.
 */
function findPackage(): { root: string; manifest: PackageManifest } {
  if (found) return found;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as PackageManifest;
      if (manifest.name === PACKAGE_NAME) {
        found = { root: dir, manifest };
        return found;
      }
    } catch {
      // no package.json here: keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) throw new LithopsError(`cannot find the ${PACKAGE_NAME} package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** The folder of this package's package.json. */
export function packageRoot(): string {
  return findPackage().root;
}

/** This package's package.json, read once. */
export function packageManifest(): PackageManifest {
  return findPackage().manifest;
}

/** The package version: recorded by workers in the runtime metadata and tagged on Azure resources. */
export const PACKAGE_VERSION: string = packageManifest().version;

/** The bundled worker and client (esbuild), relative to the package root: what runtime images and local workers run. */
export const BUNDLE_DIR = "dist/bundle";
export const WORKER_BUNDLE = `${BUNDLE_DIR}/worker.mjs`;
export const CLIENT_BUNDLE = `${BUNDLE_DIR}/client.mjs`;

/** Data is serialized with V8's format, which is only guaranteed to round-trip within one Node major. */
export const NODE_MAJOR = Number(process.versions.node.split(".")[0]);
