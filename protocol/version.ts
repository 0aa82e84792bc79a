import { readFileSync } from "node:fs";

/**
 * Bumped whenever the queue message or output document changes shape.
 * 2: arguments and results may be JSON text instead of V8's format (data-codec encodeCompact).
 */
export const PROTOCOL_VERSION = 2;

const packageJson = JSON.parse(
  readFileSync(new URL("../package.json", import.meta.url), "utf8"),
) as { version: string };

/** The package version: recorded by workers in the runtime metadata and tagged on Azure resources. */
export const PACKAGE_VERSION: string = packageJson.version;

/** Data is serialized with V8's format, which is only guaranteed to round-trip within one Node major. */
export const NODE_MAJOR = Number(process.versions.node.split(".")[0]);
