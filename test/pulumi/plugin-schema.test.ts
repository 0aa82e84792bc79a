import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { before, describe, it } from "node:test";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental/index.js";
import ts from "typescript";
import { LithopsRuntime, LithopsStack } from "../../components/index.ts";
import { DEPLOYER, runProgram, SUBSCRIPTION } from "../support/pulumi-harness.ts";
import { REPO_ROOT } from "../support/package-paths.ts";

/**
 * The component provider `pulumi package add` runs (pulumi-plugin/), loaded in-process with the
 * options its entry (pulumi-plugin/index.js) gives componentProviderHost: the schema is what
 * Python, Go, C#, Java and YAML programs get their typed LithopsStack and LithopsRuntime from.
 * The analyzer reads the package's built declarations (dist/), so this runs after `npm run build`.
 */

const root = REPO_ROOT;
const pluginDir = `${root}/pulumi-plugin`;
const { version } = JSON.parse(readFileSync(`${root}/package.json`, "utf8")) as { version: string };
// @pulumi/pulumi's own gRPC stubs and runtime, as the Pulumi engine talks to a provider.
const require = createRequire(import.meta.url);
const grpc = require("@grpc/grpc-js") as typeof import("@grpc/grpc-js");
const { ResourceProviderClient } = require("@pulumi/pulumi/proto/provider_grpc_pb.js");
const { Empty } = require("google-protobuf/google/protobuf/empty_pb.js");
// The analyzer getSchema() runs (ComponentProvider looks the class up on this module at each call).
const analyzerModule = require("@pulumi/pulumi/provider/experimental/analyzer.js") as { Analyzer: new (...args: any[]) => { program: ts.Program } };
const STACK = "lithops-aca:index:LithopsStack";
const RUNTIME = "lithops-aca:index:LithopsRuntime";

interface Property {
  type?: string;
  $ref?: string;
  items?: Property;
  additionalProperties?: Property;
  description?: string;
}
interface ObjectType {
  properties: Record<string, Property>;
  required?: string[];
}
interface Resource extends ObjectType {
  isComponent: boolean;
  description?: string;
  inputProperties: Record<string, Property>;
  requiredInputs: string[];
}
interface Schema {
  name: string;
  version: string;
  resources: Record<string, Resource>;
  types: Record<string, ObjectType>;
}

function newProvider(): ComponentProvider {
  // The classes are the package's own, as index.js hands them over (typed there by the .d.ts the analyzer reads).
  return new ComponentProvider({ name: "lithops-aca", dirname: pluginDir, version, components: [LithopsStack, LithopsRuntime] });
}

/** A property's type in short: `string`, `number[]`, `map<string>`, `RuntimeArgs`, `Any`. */
function typeOf(property: Property): string {
  if (property.$ref) return property.$ref.replace(/^#\/types\/lithops-aca:index:/, "").replace("pulumi.json#/", "");
  if (property.type === "array") return `${typeOf(property.items!)}[]`;
  if (property.type === "object" && property.additionalProperties) return `map<${typeOf(property.additionalProperties)}>`;
  return property.type!;
}

const typesOf = (properties: Record<string, Property>) => Object.fromEntries(Object.entries(properties).map(([k, p]) => [k, typeOf(p)]));

describe("the component provider's schema (pulumi-plugin/)", () => {
  // One provider for all: its analysis (a TypeScript program over the package's declarations) takes half a minute.
  const provider = newProvider();
  let schema: Schema;
  /** The program the analyzer built from pulumi-plugin/tsconfig.json: the type-check below asks it for its errors rather than building it again. */
  let analyzed: ts.Program | undefined;
  before(async () => {
    assert.ok(existsSync(`${root}/dist/components/index.d.ts`), "the analyzer reads dist/: run `npm run build` first");
    const { Analyzer } = analyzerModule;
    analyzerModule.Analyzer = class extends Analyzer {
      constructor(...args: any[]) {
        super(...args);
        analyzed = this.program;
      }
    };
    try {
      schema = JSON.parse(await provider.getSchema()) as Schema;
    } finally {
      analyzerModule.Analyzer = Analyzer;
    }
  });

  it("names the package and its version, and holds both components", () => {
    assert.equal(schema.name, "lithops-aca");
    assert.equal(schema.version, version);
    assert.deepEqual(Object.keys(schema.resources).sort(), [RUNTIME, STACK]);
    for (const token of [STACK, RUNTIME]) {
      assert.equal(schema.resources[token]!.isComponent, true, token);
      assert.ok(schema.resources[token]!.description, `${token} has no description`);
    }
  });

  it("documents every input and every field of the types they use", () => {
    const undocumented: string[] = [];
    const check = (where: string, properties: Record<string, Property>) => {
      for (const [key, property] of Object.entries(properties)) if (!property.description?.trim()) undocumented.push(`${where}.${key}`);
    };
    for (const [token, resource] of Object.entries(schema.resources)) {
      check(token, resource.inputProperties);
      check(token, resource.properties);
    }
    for (const [token, type] of Object.entries(schema.types)) check(token, type.properties);
    assert.deepEqual(undocumented, []);
  });

  it("types LithopsStack's inputs as the stack config's keys: numbers, lists, maps and objects, nothing untyped", () => {
    const stack = schema.resources[STACK]!;
    assert.deepEqual(typesOf(stack.inputProperties), {
      runtimes: "RuntimeArgs[]",
      resourceGroupName: "string",
      environment: "EnvironmentArgs",
      registry: "RegistryArgs",
      storage: "StorageArgs",
      tags: "map<string>",
      clientPrincipalIds: "string[]",
      poisonAlert: "PoisonAlertArgs",
      dockerHubToken: "string",
      location: "string",
      projectRoot: "string",
    });
    assert.deepEqual(stack.requiredInputs, [], "every LithopsStack arg has a default");
    assert.deepEqual(typesOf(schema.types["lithops-aca:index:RuntimeArgs"]!.properties), {
      name: "string",
      image: "string",
      dockerfile: "string",
      memory: "number",
      timeout: "number",
      maxWorkers: "number",
      workerProcesses: "number",
      pollingInterval: "number",
      cooldownPeriod: "number",
      idlePollMaxMs: "number",
      revision: "number",
    });
    assert.deepEqual(schema.types["lithops-aca:index:RuntimeArgs"]!.required, ["name"]);
    assert.deepEqual(typesOf(schema.types["lithops-aca:index:EnvironmentArgs"]!.properties), {
      id: "string",
      workloadProfileName: "string",
      logRetentionDays: "number",
      coreQuota: "number",
    });
    assert.equal(typeOf(schema.types["lithops-aca:index:StorageArgs"]!.properties.protect!), "boolean");
    assert.equal(typeOf(schema.types["lithops-aca:index:StorageArgs"]!.properties.jobDataRetentionDays!), "number");
    assert.deepEqual(schema.types["lithops-aca:index:PoisonAlertArgs"]!.required, ["actionGroupId"]);
  });

  it("types LithopsRuntime's inputs, its runtime entry as the stack config's", () => {
    const runtime = schema.resources[RUNTIME]!;
    assert.deepEqual(typesOf(runtime.inputProperties), {
      runtime: "RuntimeArgs",
      resourceGroupName: "string",
      location: "string",
      subscriptionId: "string",
      environmentId: "string",
      workloadProfileName: "string",
      storage: "StorageRef",
      image: "string",
      registry: "RegistryPull",
      signingKey: "string",
      clientPrincipals: "PrincipalRef[]",
      tags: "map<string>",
      poisonAlert: "PoisonAlertTarget",
      azureName: "string",
    });
    assert.deepEqual(runtime.requiredInputs.sort(), [
      "clientPrincipals",
      "environmentId",
      "image",
      "location",
      "resourceGroupName",
      "runtime",
      "signingKey",
      "storage",
      "subscriptionId",
    ]);
  });

  it("types the outputs: the client config a string, the runtimes a list of objects", () => {
    assert.deepEqual(typesOf(schema.resources[STACK]!.properties), {
      resourceGroupName: "string",
      region: "string",
      environmentId: "string",
      storageAccountName: "string",
      containerName: "string",
      blobEndpoint: "string",
      queueEndpoint: "string",
      runtimes: "DeployedRuntime[]",
      clientConfig: "string",
    });
    assert.equal(typeOf(schema.types["lithops-aca:index:DeployedRuntime"]!.properties.memory!), "number");
    assert.deepEqual(typesOf(schema.resources[RUNTIME]!.properties), {
      appName: "string",
      kind: "string",
      queueName: "string",
      poisonQueueName: "string",
      identityClientId: "string",
    });
  });

  it("constructs both components from plain inputs, as another language's program sends them, and returns every output the schema lists", async () => {
    const run = await runProgram({
      inline: () => ({
        stack: provider.construct(STACK, STACK, { location: "westeurope", projectRoot: root, runtimes: [{ name: "default", memory: 1024 }] }, {}),
        runtime: provider.construct(
          "solo",
          RUNTIME,
          {
            runtime: { name: "docker.io/acme/imaging:01", timeout: 1800 },
            resourceGroupName: "rg",
            location: "westeurope",
            subscriptionId: SUBSCRIPTION,
            environmentId: `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.App/managedEnvironments/env`,
            storage: {
              accountName: "acct",
              containerName: "lithops",
              containerId: "container-id",
              blobEndpoint: "https://acct.blob.core.windows.net/",
              queueEndpoint: "https://acct.queue.core.windows.net/",
            },
            image: "docker.io/acme/imaging:01",
            signingKey: "key",
            clientPrincipals: [{ key: "deployer", id: DEPLOYER }],
          },
          {},
        ),
      }),
    });
    for (const [key, token] of [
      ["stack", STACK],
      ["runtime", RUNTIME],
    ] as const) {
      const { urn, state } = run.outputs[key] as { urn: string; state: Record<string, unknown> };
      assert.match(urn, new RegExp(`${token}::`));
      const missing = Object.keys(schema.resources[token]!.properties).filter((output) => state[output] === undefined);
      assert.deepEqual(missing, [], `${token}: outputs in the schema that the component does not give`);
    }
    const runtimeState = (run.outputs.runtime as { state: Record<string, unknown> }).state;
    assert.equal(runtimeState.kind, "job", "a 1800 s timeout runs as a Container Apps Job");
    const stackRuntimes = (run.outputs.stack as { state: { runtimes: { memory: unknown; kind: unknown }[] } }).state.runtimes;
    assert.deepEqual(
      stackRuntimes.map((r) => [r.memory, r.kind]),
      [[1024, "app"]],
    );
  });

  it("pulumi-plugin/index.ts type-checks against the package's declarations (the analyzer reports no type errors itself)", () => {
    // The analyzer's program is pulumi-plugin/tsconfig.json's, as `tsc -p pulumi-plugin` builds it (it only adds
    // strictNullChecks, which the file's strict sets already), with every file the schema was read from.
    assert.ok(analyzed, "getSchema() built no TypeScript program");
    assert.deepEqual(analyzed.getRootFileNames(), [`${pluginDir}/index.ts`]);
    assert.equal(analyzed.getCompilerOptions().strict, true);
    const diagnostics = ts.getPreEmitDiagnostics(analyzed);
    assert.deepEqual(
      diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")),
      [],
    );
  });

  it("the plugin's entry (index.js), started as Pulumi starts it, serves the provider over gRPC under the package's version", async () => {
    const child = spawn(process.execPath, [`${pluginDir}/index.js`], { stdio: ["ignore", "pipe", "pipe"] });
    const exited = once(child, "exit");
    try {
      // A provider's first line of output is the port it listens on (loopback).
      const [firstLine] = (await once(child.stdout, "data")) as [Buffer];
      const port = Number(String(firstLine).trim());
      assert.ok(Number.isInteger(port) && port > 0, `not a port: ${String(firstLine)}`);
      const client = new ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
      try {
        const info = await new Promise<{ getVersion(): string }>((resolve, reject) =>
          client.getPluginInfo(new Empty(), (error: Error | null, reply: { getVersion(): string }) => (error ? reject(error) : resolve(reply))),
        );
        assert.equal(info.getVersion(), version);
      } finally {
        client.close();
      }
    } finally {
      child.kill();
      await exited;
    }
  });
});
