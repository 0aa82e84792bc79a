import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ContainerClient } from "@azure/storage-blob";
import { runtimeMetadataKey } from "../protocol/keys.ts";
import type { RuntimeMetadata } from "../protocol/output.ts";
import { NODE_MAJOR, PACKAGE_VERSION, PROTOCOL_VERSION } from "../protocol/version.ts";
import { functionDir } from "./load-function.ts";

/** The packages of the folder shipped functions resolve from (the image's WORKDIR, the user's project locally), if it has a package.json. */
function installedPackages(dir: string): Record<string, string> {
  try {
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
    return manifest.dependencies ?? {};
  } catch {
    return {};
  }
}

/** Written when a worker starts, so the client can check the runtime against itself. */
export async function recordRuntimeMetadata(container: ContainerClient, runtime: string, memory: number, queueName: string): Promise<void> {
  const metadata: RuntimeMetadata = {
    runtime,
    memory,
    nodeVersion: process.version,
    nodeMajor: NODE_MAJOR,
    workerVersion: PACKAGE_VERSION,
    protocolVersion: PROTOCOL_VERSION,
    packages: installedPackages(functionDir()),
    startedAt: new Date().toISOString(),
  };
  const text = JSON.stringify(metadata, null, 2);
  await container.getBlockBlobClient(runtimeMetadataKey(queueName)).upload(text, Buffer.byteLength(text), {
    blobHTTPHeaders: { blobContentType: "application/json" },
  });
}
