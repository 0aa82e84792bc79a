// The program under Pulumi's mocks, as a platform team checks it in CI (no Pulumi CLI,
// no Azure, no Docker): `npm run build && npm test`. The mocks answer as `pulumi up` would.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";

const SUBSCRIPTION = "00000000-0000-0000-0000-000000000000";
const ENVIRONMENT = `/subscriptions/${SUBSCRIPTION}/resourceGroups/platform-dev/providers/Microsoft.App/managedEnvironments/platform-dev`;
const resources = [];
const fetches = [];

function state(type, inputs) {
  switch (type) {
    case "azure-native:storage:StorageAccount":
      return {
        primaryEndpoints: { blob: `https://${inputs.accountName}.blob.core.windows.net/`, queue: `https://${inputs.accountName}.queue.core.windows.net/` },
      };
    case "azure-native:managedidentity:UserAssignedIdentity":
      return { clientId: `client-${inputs.resourceName}`, principalId: `principal-${inputs.resourceName}` };
    case "azure-native:containerregistry:Registry":
      return { loginServer: `${inputs.registryName}.azurecr.io` };
    case "docker:index/image:Image":
      return { repoDigest: `${inputs.imageName}@sha256:${"0".repeat(64)}` };
    case "random:index/randomPassword:RandomPassword":
      return { result: "generated-signing-key" };
    default:
      return {};
  }
}

let outputs;
before(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: ({ type, name, inputs }) => {
        resources.push({ type, name, inputs });
        return { id: `${name}-id`, state: { ...inputs, ...state(type, inputs) } };
      },
      call: ({ token }) => {
        if (token === "azure-native:authorization:getClientConfig")
          return { subscriptionId: SUBSCRIPTION, tenantId: "tenant", objectId: "deployer", clientId: "app" };
        if (token === "azure-native:authorization:getClientToken") return { token: "arm-token" };
        return {};
      },
    },
    "platform-lithops",
    "dev",
    false,
    "platform-team",
  );
  pulumi.runtime.setAllConfig({
    "azure-native:location": "westeurope",
    "platform-lithops:resourceGroupName": "platform-dev",
    "platform-lithops:environmentId": ENVIRONMENT,
  });
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (url) => {
    fetches.push(String(url));
    return new Response(JSON.stringify({ refresh_token: "acr-refresh-token" }), { headers: { "content-type": "application/json" } });
  };
  try {
    const program = await import("../bin/index.js");
    outputs = await new Promise((resolve) => pulumi.output(program.runtimes).apply(resolve));
    await pulumi.runtime.disconnect();
  } finally {
    globalThis.fetch = realFetch;
  }
});

const ofType = (type) => resources.filter((r) => r.type === type);
// Container Apps resources are generic ARM resources (a GA API version); the signing key makes their properties secret.
const ofArmType = (resourceType) => ofType("azure-native:resources:Resource").filter((r) => r.inputs.resourceType === resourceType);
const armProperties = (r) => ("value" in r.inputs.properties ? r.inputs.properties.value : r.inputs.properties);

describe("platform program with lithops-aca/pulumi", () => {
  it("deploys its two runtimes into the team's resource group and environment, creating neither", () => {
    assert.equal(ofType("azure-native:resources:ResourceGroup").length, 0);
    assert.equal(ofArmType("managedEnvironments").length, 0);
    const apps = ofArmType("containerApps");
    assert.deepEqual(apps.map((a) => a.inputs.resourceName).sort(), ["lithops-default-1024", "lithops-etl-2048"]);
    for (const app of apps) {
      assert.equal(app.inputs.resourceGroupName, "platform-dev");
      assert.equal(armProperties(app).environmentId, ENVIRONMENT);
    }
    assert.deepEqual(
      outputs.map((r) => r.name),
      ["default", "etl"],
    );
  });

  it("builds the team's Dockerfile with the worker added on top, from a context staged inside the project", () => {
    const images = ofType("docker:index/image:Image");
    assert.equal(images.length, 2);
    const etl = images.find((i) => readFileSync(i.inputs.build.dockerfile, "utf8").includes("The platform's ETL runtime"));
    assert.ok(etl, "an image is built from runtimes/etl/Dockerfile");
    const text = readFileSync(etl.inputs.build.dockerfile, "utf8");
    assert.match(text, /COPY \.lithops-aca-worker\/ \/node_modules\/lithops-aca\//);
    assert.match(text, /CMD \["node", "\/node_modules\/lithops-aca\/dist\/bundle\/worker\.mjs"\]/);
    assert.ok(!etl.inputs.build.context.includes("node_modules"), `context ${etl.inputs.build.context} is in the project, not in node_modules`);
  });
});
