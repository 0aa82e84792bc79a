import { readFileSync } from "node:fs";
import type { ContainerClient } from "@azure/storage-blob";
import { runtimeMetadataKey } from "../protocol/keys.ts";
import type { RuntimeMetadata } from "../protocol/output.ts";
import { NODE_MAJOR, PACKAGE_VERSION, PROTOCOL_VERSION } from "../protocol/version.ts";

/** The packages installed next to the worker: what shipped functions can `require`. */
function installedPackages(): Record<string, string> {
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    dependencies?: Record<string, string>;
  };
  return manifest.dependencies ?? {};
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
    packages: installedPackages(),
    startedAt: new Date().toISOString(),
  };
  const text = JSON.stringify(metadata, null, 2);
  await container.getBlockBlobClient(runtimeMetadataKey(queueName)).upload(text, Buffer.byteLength(text), {
    blobHTTPHeaders: { blobContentType: "application/json" },
  });
}
