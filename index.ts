import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { lithopsStackFromConfig } from "./components/index.ts";

/**
 * The project's folder, found as Pulumi finds it: the nearest folder at or above this file
 * that holds Pulumi.yaml (so a build of this file elsewhere in the project, like the tests'
 * in dist/, declares the same stack).
 */
function projectFolder(): string {
  const self = fileURLToPath(import.meta.url);
  for (let dir = dirname(self); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "Pulumi.yaml"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no Pulumi.yaml in the folders above ${self}`);
  }
}

/**
 * This repository's Pulumi program: one `LithopsStack` (from `lithops-aca/pulumi`) over the
 * stack config (Pulumi.<stack>.yaml), the same component a platform team's own program can
 * declare. Its outputs are what the client needs.
 */
const stack = lithopsStackFromConfig(projectFolder());

export const resourceGroupName = stack.resourceGroupName;
export const region = stack.region;
export const environmentId = stack.environmentId;
export const logAnalyticsWorkspaceId = stack.logAnalyticsWorkspaceId;
export const storageAccountName = stack.storageAccountName;
export const containerName = stack.containerName;
export const blobEndpoint = stack.blobEndpoint;
export const queueEndpoint = stack.queueEndpoint;
export const registryPrefix = stack.registryPrefix;
export const runtimes = stack.runtimes;
export const clientConfig = stack.clientConfig;
