import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import { LithopsStack } from "lithops-aca/pulumi";

// A platform team's program: lithops-aca runtimes inside the team's own resource group and
// Container Apps environment, declared in code instead of in lithops-aca:runtimes. The args are
// plain data with the stack config's keys, checked by the same rules.
const platform = new pulumi.Config();

const lithops = new LithopsStack("lithops", {
  resourceGroupName: platform.require("resourceGroupName"),
  environment: { id: platform.require("environmentId") },
  runtimes: [
    // The default runtime: Node.js and the worker, built for this machine's Node.js major.
    { name: "default", memory: 1024, maxWorkers: 20 },
    // The team's own runtime: its Dockerfile names only its packages; the worker is added on top.
    { name: "etl", dockerfile: "runtimes/etl/Dockerfile", memory: 2048, timeout: 300, workerProcesses: 2 },
  ],
  location: new pulumi.Config("azure-native").require("location"),
  projectRoot: fileURLToPath(new URL("..", import.meta.url)),
});

export const runtimes = lithops.runtimes;
export const clientConfig = lithops.clientConfig;
