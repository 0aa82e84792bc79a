import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { parse } from "yaml";
import { ENV } from "../../protocol/env.ts";
import { NODE_MAJOR, PACKAGE_VERSION } from "../../protocol/version.ts";
import { armProperties, kindOf, type MockResource, type ProgramRun, runProgram } from "../support/pulumi-harness.ts";
import { REPO_ROOT, runningModule } from "../support/package-paths.ts";

const root = REPO_ROOT;
const STACK_TYPE = "lithops-aca:index:LithopsStack";
const PROGRAMS = pathToFileURL(runningModule("test/support/component-programs")).href;

/** The `lithops-aca:*` keys and location of one of the repository's stack files. */
function stackFile(stack: string): { config: Record<string, unknown>; location: string } {
  const file = parse(readFileSync(`${root}/Pulumi.${stack}.yaml`, "utf8")).config as Record<string, unknown>;
  const config = Object.fromEntries(
    Object.entries(file)
      .filter(([key]) => key.startsWith("lithops-aca:"))
      .map(([key, value]) => [key.slice("lithops-aca:".length), value]),
  );
  return { config, location: file["azure-native:location"] as string };
}

/** The Azure name a resource asks for, keyed by its kind and its resource group (names of global resources are global). */
function azureNames(run: ProgramRun): string[] {
  const global = new Set(["azure-native:storage:StorageAccount", "azure-native:containerregistry:Registry"]);
  const nameOf = (r: MockResource): string | undefined =>
    r.inputs.accountName && r.type === "azure-native:storage:StorageAccount"
      ? r.inputs.accountName
      : (r.inputs.resourceName ?? r.inputs.registryName ?? r.inputs.ruleName ?? r.inputs.environmentName);
  return run.resources
    .filter((r) => !r.type.startsWith("lithops-aca:") && nameOf(r) !== undefined)
    .map((r) => `${kindOf(r)} ${global.has(r.type) ? "" : JSON.stringify(r.inputs.resourceGroupName)} ${nameOf(r)}`);
}

const duplicates = (values: string[]) => values.filter((v, i) => values.indexOf(v) !== i);

/** Whether every resource has a LithopsStack among its ancestors. */
function orphans(run: ProgramRun): string[] {
  const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
  return run.resources
    .filter((r) => r.type !== STACK_TYPE && r.type !== "pulumi:providers:azure-native")
    .filter((r) => {
      for (let parent = byUrn.get(r.parent); parent; parent = byUrn.get(parent.parent)) if (parent.type === STACK_TYPE) return false;
      return true;
    })
    .map((r) => r.urn);
}

describe("LithopsStack: a component a program can declare more than once", () => {
  // The programs are in test/support/component-programs.ts, so they run in the harness's program thread.
  const twoStacks = () => runProgram({ program: PROGRAMS, programFunction: "twoStacks" });

  it("two stacks in one program: no duplicate URN, no duplicate Azure name, every resource under a LithopsStack", async () => {
    const run = await twoStacks();
    assert.ok(run.resources.length > 40, `${run.resources.length} resources`);
    assert.deepEqual(duplicates(run.resources.map((r) => r.urn)), []);
    assert.deepEqual(duplicates(azureNames(run)), []);
    assert.deepEqual(orphans(run), []);
    // A second program with the same stacks in one shared resource group still asks for distinct names.
    const accounts = run.resources.filter((r) => r.type === "azure-native:storage:StorageAccount").map((r) => r.inputs.accountName);
    assert.equal(new Set(accounts).size, 2);
  });

  it("children are named after the component, and a non-default instance sets no alias", async () => {
    const run = await twoStacks();
    for (const r of run.resources.filter((r) => r.parent !== "")) {
      const component = run.resources.find((c) => c.urn === r.parent)!;
      // The resource group takes the component's own name.
      if (component.type === STACK_TYPE) assert.ok(r.name === component.name || r.name.startsWith(`${component.name}-`), `${r.name} under ${component.name}`);
    }
    // The SDK aliases some types to their older versioned tokens; beyond that, nothing points at old names or the root.
    const moved = run.resources.flatMap((r) => r.aliases.filter((a) => a.split("::")[3] !== r.name || !a.split("::")[2]!.startsWith(STACK_TYPE)));
    assert.deepEqual(moved, []);
  });

  it("outputs are registered: the client config is a secret, runtimes name their app or job", async () => {
    const run = await twoStacks();
    assert.equal(run.secretOutputs.a, true);
    const runtimes = run.outputs.b as { kind: string; appName: string }[];
    assert.deepEqual(
      runtimes.map((r) => r.kind),
      ["app", "job"],
    );
    assert.equal(runtimes[0]!.appName, "team-b-default-1024");
    for (const r of runtimes) assert.match(r.appName, /^(?=.{2,32}$)[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
  });

  it("bad args are refused naming the argument's path", async () => {
    // In the program thread, as the other programs here: this thread then never loads Pulumi.
    await assert.rejects(runProgram({ program: PROGRAMS, programFunction: "badArgsStack" }), (error: Error) => {
      assert.match(error.message, /LithopsStack\("x"\) args:runtimes\[0\]\.memory/);
      assert.match(error.message, /LithopsStack\("x"\) args:storage\.sku/);
      return true;
    });
  });

  it("opts reach the children: protect on the component protects every resource under it", async () => {
    const run = await runProgram({ program: PROGRAMS, programFunction: "protectedStack" });
    const custom = run.resources.filter((r) => !r.type.startsWith("lithops-aca:"));
    assert.ok(custom.length > 5);
    for (const r of custom) assert.equal(r.protect, true, r.urn);
  });
});

describe("LithopsStack: stacks deployed by the program before it keep their resources", () => {
  for (const stack of ["dev", "prod"]) {
    it(`every URN the previous program declared for Pulumi.${stack}.yaml is a URN or an alias of a resource now`, async () => {
      const { urns } = JSON.parse(readFileSync(`${root}/test/pulumi/fixtures/urns-${stack}.json`, "utf8")) as { urns: string[] };
      const defaultImage = `lithops-aca-default-node${NODE_MAJOR}-${PACKAGE_VERSION.replace(/[^a-z0-9]+/g, "-")}`;
      const { config, location } = stackFile(stack);
      const run = await runProgram({ stack, config, location });
      const known = new Map<string, string>();
      for (const r of run.resources) {
        known.set(r.urn, r.urn);
        for (const alias of r.aliases) {
          assert.ok(!known.has(alias) || known.get(alias) === r.urn, `${alias} is claimed twice`);
          known.set(alias, r.urn);
        }
      }
      const missing = urns.map((urn) => urn.replaceAll("{default-image}", defaultImage)).filter((urn) => !known.has(urn));
      assert.deepEqual(missing, []);
      // Above all the storage account: same URN by alias, same Azure name, so an update in place.
      const account = run.resources.find((r) => r.type === "azure-native:storage:StorageAccount")!;
      assert.ok(
        account.aliases.includes(`urn:pulumi:${stack}::lithops-aca::lithops-aca:index:JobStorage$azure-native:storage:StorageAccount::storage-account`),
      );
    });
  }
});

describe("LithopsRuntime: a call longer than 600 s runs in a Container Apps Job", () => {
  const jobs = (run: ProgramRun) => run.resources.filter((r) => kindOf(r) === "Microsoft.App/jobs");
  const apps = (run: ProgramRun) => run.resources.filter((r) => kindOf(r) === "Microsoft.App/containerApps");

  it("timeout 1800: an event-driven job on the runtime's queue, one message per execution, replica timeout covering the call", async () => {
    const run = await runProgram({ config: { runtimes: [{ name: "default", timeout: 1800, maxWorkers: 7 }] } });
    assert.equal(apps(run).length, 0);
    const [job] = jobs(run);
    const identity = run.resources.find((r) => r.type === "azure-native:managedidentity:UserAssignedIdentity" && r.name.endsWith("-identity"))!;
    const queue = run.resources.find((r) => r.type === "azure-native:storage:Queue" && r.name.endsWith("-queue"))!;
    const configuration = armProperties(job!).configuration;
    assert.equal(configuration.triggerType, "Event");
    assert.ok(configuration.replicaTimeout >= 1800, String(configuration.replicaTimeout));
    assert.equal(configuration.eventTriggerConfig.parallelism, 1);
    assert.equal(configuration.eventTriggerConfig.scale.maxExecutions, 7);
    assert.deepEqual(configuration.eventTriggerConfig.scale.rules, [
      {
        name: "queue-length",
        type: "azure-queue",
        metadata: { accountName: queue.inputs.accountName, queueName: queue.inputs.queueName, queueLength: "1" },
        identity: identity.id,
      },
    ]);
    const env = armProperties(job!).template.containers[0].env as { name: string; value?: string }[];
    assert.deepEqual(
      env.find((e) => e.name === ENV.oneMessage),
      { name: ENV.oneMessage, value: "1" },
    );
  });

  it("timeout 600 stays a Container App, with no one-message mode", async () => {
    const run = await runProgram({ config: { runtimes: [{ name: "default", timeout: 600 }] } });
    assert.equal(jobs(run).length, 0);
    assert.equal(apps(run).length, 1);
    const env = armProperties(apps(run)[0]!).template.containers[0].env as { name: string }[];
    assert.ok(!env.some((e) => e.name === ENV.oneMessage));
  });
});
