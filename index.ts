import { fileURLToPath } from "node:url";
import { lithopsStackFromConfig } from "./components/index.ts";

/**
 * This repository's Pulumi program: one `LithopsStack` (from `lithops-aca/pulumi`) over the
 * stack config (Pulumi.<stack>.yaml), the same component a platform team's own program can
 * declare. Its outputs are what the client needs.
 */
const stack = lithopsStackFromConfig(fileURLToPath(new URL(".", import.meta.url)));

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
