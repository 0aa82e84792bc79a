import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import { lithopsStack, parseStackConfig } from "lithops-aca/pulumi";

// A platform team's program: lithops-aca runtimes inside the team's own resource group and
// Container Apps environment, declared in code instead of in lithops-aca:runtimes.
const platform = new pulumi.Config();
const projectRoot = fileURLToPath(new URL("..", import.meta.url));

const config = parseStackConfig(
  {
    resourceGroupName: platform.require("resourceGroupName"),
    environment: { id: platform.require("environmentId") },
    runtimes: [
      // The default runtime: Node.js and the worker, built for this machine's Node.js major.
      { name: "default", memory: 1024, maxWorkers: 20 },
      // The team's own runtime: its Dockerfile names only its packages; the worker is added on top.
      { name: "etl", dockerfile: "runtimes/etl/Dockerfile", memory: 2048, timeout: 300, workerProcesses: 2 },
    ],
  },
  { namespace: pulumi.getProject(), projectRoot, dockerHubTokenSet: false },
);

const lithops = lithopsStack({ config, location: new pulumi.Config("azure-native").require("location"), projectRoot });

export const runtimes = lithops.runtimes;
export const clientConfig = lithops.clientConfig;
