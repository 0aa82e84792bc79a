import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import { lithopsStack } from "./components/index.ts";
import { loadStackConfig } from "./components/stack-config.ts";

/**
 * This repository's Pulumi program: the stack config (Pulumi.<stack>.yaml) through
 * `lithopsStack` from `lithops-aca/pulumi`, the same function a platform team's own
 * program can call. Its outputs are what the client needs.
 */
const projectRoot = fileURLToPath(new URL(".", import.meta.url));
const config = loadStackConfig(projectRoot);
const stack = lithopsStack({
  config,
  location: new pulumi.Config("azure-native").require("location"),
  projectRoot,
  dockerHubToken: config.registry.type === "dockerhub" ? new pulumi.Config().requireSecret("dockerHubToken") : undefined,
});

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
