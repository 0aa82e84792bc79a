import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { parse } from "yaml";
import * as keys from "../../protocol/keys.ts";
import { ENV } from "../../protocol/env.ts";
import { POISON_MARKER } from "../../protocol/log-markers.ts";
import { CONTAINER_APPS_API_VERSION } from "../../components/container-apps.ts";
import { ACR_AUDIENCE } from "../../components/registry.ts";
import { ROLES } from "../../components/roles.ts";
import { EXPIRED_BLOB_TYPES } from "../../components/storage.ts";
import { armProperties, kindOf, named, ofType, runProgram, type MockResource, type ProgramRun } from "../support/pulumi-harness.ts";
import { REPO_ROOT } from "../support/package-paths.ts";

/**
 * The Pulumi program against how Azure behaves (issue 12): grace periods, role propagation,
 * previews with read rights, storage and registry that do not grow forever, public images
 * through the stack's registry, GA API versions, and what operations need.
 */
const root = REPO_ROOT;
const IMAGING = "runtimes/examples/imaging/Dockerfile";
const DEV = {
  runtimes: [
    { name: "default", memory: 512, maxWorkers: 10 },
    { name: "imaging", dockerfile: IMAGING, memory: 2048, timeout: 300, maxWorkers: 5 },
  ],
};
const APP = "Microsoft.App/containerApps";
const ROLE = "azure-native:authorization:RoleAssignment";
const roleGuid = (r: MockResource) => String(r.inputs.roleDefinitionId).split("/").pop();
const env = (app: MockResource) =>
  Object.fromEntries((armProperties(app).template.containers[0].env as { name: string; value?: string }[]).map((e) => [e.name, e.value]));

/** The stack-level AcrPull grant every app must wait for, and the apps' registration order relative to it. */
function pullGrantsBeforeApps(run: ProgramRun): void {
  const grants = ofType(run, ROLE).filter((r) => roleGuid(r) === ROLES.acrPull);
  assert.equal(grants.length, 1, "one AcrPull grant, to the shared pull identity");
  const grant = grants[0]!;
  const apps = ofType(run, APP);
  assert.ok(apps.length > 0);
  for (const app of apps) {
    assert.ok(app.dependencies.includes(grant.urn), `${app.name} does not depend on the pull grant`);
    assert.ok(run.resources.indexOf(grant) < run.resources.indexOf(app), `${app.name} was declared before the pull grant`);
  }
}

describe("12.1: the app's grace period reaches the worker unchanged", () => {
  it("LITHOPS_TERMINATION_GRACE_SECONDS equals terminationGracePeriodSeconds, per runtime", async () => {
    const run = await runProgram({ config: DEV });
    const seen = ofType(run, APP).map((app) => {
      const grace = armProperties(app).template.terminationGracePeriodSeconds as number;
      assert.equal(env(app)[ENV.terminationGrace], String(grace));
      return grace;
    });
    assert.deepEqual(seen.sort(), [330, 600]);
  });

  it("a timeout above a day stops the program before it declares anything", async () => {
    await assert.rejects(runProgram({ config: { runtimes: [{ name: "default", timeout: 86_401 }] } }), /timeout: 86401 .*whole number from 1 to 86400/);
  });
});

describe("12.2: pull access is in place before any app needs it", () => {
  it("a new stack: one shared pull identity, granted AcrPull with the registry; images build and apps start after the grant", async () => {
    const run = await runProgram({ config: { ...DEV, runtimes: [...DEV.runtimes, { name: "node:22", memory: 1024 }] } });
    pullGrantsBeforeApps(run);
    const grant = ofType(run, ROLE).find((r) => roleGuid(r) === ROLES.acrPull)!;
    assert.equal(grant.inputs.principalId, named(run, "lithops-registry-pull").state.principalId);
    for (const image of ofType(run, "docker:index/image:Image")) assert.ok(image.dependencies.includes(grant.urn), image.name);
  });

  it("a stack on an existing registry", async () => {
    const id = "/subscriptions/s/resourceGroups/shared/providers/Microsoft.ContainerRegistry/registries/sharedacr";
    pullGrantsBeforeApps(await runProgram({ config: { ...DEV, registry: { type: "acr", id } } }));
  });

  it("a runtime added to a deployed stack reuses the grant that already exists: no new grant, and its app depends on it", async () => {
    const before = await runProgram({ config: DEV });
    const after = await runProgram({ config: { ...DEV, runtimes: [...DEV.runtimes, { name: "default", memory: 1024, maxWorkers: 10 }] } });
    const grantOf = (run: ProgramRun) => ofType(run, ROLE).find((r) => roleGuid(r) === ROLES.acrPull)!;
    assert.equal(JSON.stringify(grantOf(after).inputs), JSON.stringify(grantOf(before).inputs), "the grant is unchanged");
    assert.ok(named(after, "lithops-default-1024-app").dependencies.includes(grantOf(after).urn));
    pullGrantsBeforeApps(after);
  });
});

describe("12.3: a preview needs read rights only", () => {
  let preview: ProgramRun;
  before(async () => {
    preview = await runProgram({ config: DEV, preview: true });
  });

  it("sends no request at all: no token exchange, no token asked for", () => {
    assert.deepEqual(preview.fetches, []);
    assert.deepEqual(
      preview.invokes.filter((i) => i.token === "azure-native:authorization:getClientToken"),
      [],
    );
  });

  it("builds and pushes nothing", () => {
    const images = ofType(preview, "docker:index/image:Image");
    assert.equal(images.length, 2);
    for (const image of images) assert.equal(image.inputs.buildOnPreview, false);
  });

  it("an update asks for a token of ACR's audience, never ARM's", async () => {
    const up = await runProgram({ config: DEV });
    const tokens = up.invokes.filter((i) => i.token === "azure-native:authorization:getClientToken");
    assert.deepEqual(
      tokens.map((t) => t.inputs.endpoint),
      [ACR_AUDIENCE],
    );
    assert.equal(up.fetches.length, 1);
  });
});

describe("12.4: nothing grows forever", () => {
  let run: ProgramRun;
  before(async () => {
    run = await runProgram({ config: DEV });
  });

  /** Blob types the project's storage writers and readers use, found in their source. */
  function blobTypesInSource(): Map<string, string[]> {
    const byType = new Map<string, string[]>();
    const clients: Record<string, string> = {
      getBlockBlobClient: "blockBlob",
      uploadBlockBlob: "blockBlob",
      getAppendBlobClient: "appendBlob",
      getPageBlobClient: "pageBlob",
    };
    for (const folder of ["client", "worker", "local", "azure", "protocol", "deploy", "cli"]) {
      for (const file of readdirSync(join(root, folder), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"))) {
        const text = readFileSync(join(root, folder, file), "utf8");
        for (const [call, type] of Object.entries(clients)) {
          if (text.includes(`.${call}(`)) byType.set(type, [...(byType.get(type) ?? []), `${folder}/${file}`]);
        }
      }
    }
    return byType;
  }

  it("the lifecycle rule expires every blob type the code writes: block blobs and the attempt logs' append blobs", () => {
    const used = blobTypesInSource();
    assert.ok(used.get("appendBlob")?.includes("worker/redelivery.ts"), "the attempt logs are append blobs");
    assert.ok(used.has("blockBlob"));
    const rule = named(run, "lithops-storage-lifecycle").inputs.policy.rules[0];
    assert.deepEqual(rule.definition.filters.blobTypes, [...EXPIRED_BLOB_TYPES]);
    for (const [type, files] of used) assert.ok(rule.definition.filters.blobTypes.includes(type), `${type} (used by ${files.join(", ")}) is not expired`);
    assert.equal(rule.definition.actions.baseBlob.delete.daysAfterModificationGreaterThan, 7);
  });

  it("delivery markers outlive the longest a worker accepts a message (7 days), whatever the job data's retention", async () => {
    const markers = (r: ProgramRun) =>
      named(r, "lithops-storage-lifecycle").inputs.policy.rules.find((rule: { definition: { filters: { prefixMatch: string[] } } }) =>
        rule.definition.filters.prefixMatch.includes(`lithops-jobs/${keys.DELIVERIES_PREFIX}/`),
      );
    const short = await runProgram({ config: { ...DEV, storage: { jobDataRetentionDays: 1 } } });
    for (const r of [run, short]) {
      const rule = markers(r);
      assert.ok(rule, "a rule expires the delivery markers");
      assert.deepEqual(rule.definition.filters.blobTypes, [...EXPIRED_BLOB_TYPES]);
      assert.ok(rule.definition.actions.baseBlob.delete.daysAfterModificationGreaterThan >= 8);
    }
  });

  it("every key the protocol builds lies under a prefix the rule expires", () => {
    const rules: { definition: { filters: { prefixMatch: string[] } } }[] = named(run, "lithops-storage-lifecycle").inputs.policy.rules;
    const prefixes = rules.flatMap((rule) => rule.definition.filters.prefixMatch);
    const builders = Object.entries(keys).filter(([name, value]) => typeof value === "function" && /(Key|Prefix)$/.test(name) && !name.startsWith("batchOf"));
    assert.ok(builders.length >= 8, builders.map(([n]) => n).join(", "));
    for (const [name, build] of builders) {
      const key = (build as (...args: unknown[]) => string)("a1", "b2", 3);
      assert.ok(
        prefixes.some((prefix) => `lithops-jobs/${key}`.startsWith(prefix)),
        `${name} -> ${key} is under none of ${prefixes.join(", ")}`,
      );
    }
  });

  it("a daily ACR task purges untagged manifests older than the retention, and deletes no tag", () => {
    const task = named(run, "lithops-registry-purge");
    assert.deepEqual(task.inputs.trigger, { timerTriggers: [{ name: "daily", schedule: "0 3 * * *" }] });
    assert.equal(task.inputs.status, "Enabled");
    assert.equal(task.inputs.registryName, ofType(run, "azure-native:containerregistry:Registry")[0]!.state.name);
    const content = parse(Buffer.from(task.inputs.step.encodedTaskContent, "base64").toString("utf8"));
    assert.equal(content.steps.length, 1);
    assert.equal(content.steps[0].cmd, "acr purge --filter '.*:^$' --untagged --ago 7d");
  });
});

describe("12.5: prebuilt public images come through the stack's registry", () => {
  it("one cache rule per upstream repository; apps pull the cached copy with the shared pull identity", async () => {
    const run = await runProgram({
      config: { runtimes: [{ name: "node:22" }, { name: "node:24", memory: 1024 }, { name: "ghcr.io/someorg/runtime-node22:0.1.0" }] },
    });
    const rules = ofType(run, "azure-native:containerregistry:CacheRule").map((r) => [r.inputs.sourceRepository, r.inputs.targetRepository]);
    assert.deepEqual(rules.sort(), [
      ["docker.io/library/node", "cache/docker.io/library/node"],
      ["ghcr.io/someorg/runtime-node22", "cache/ghcr.io/someorg/runtime-node22"],
    ]);
    for (const rule of ofType(run, "azure-native:containerregistry:CacheRule")) assert.match(rule.inputs.cacheRuleName, /^[a-zA-Z0-9-]{5,50}$/);
    const server = `${ofType(run, "azure-native:containerregistry:Registry")[0]!.inputs.registryName}.azurecr.io`;
    const pull = named(run, "lithops-registry-pull");
    const images = ofType(run, APP).map((app) => {
      assert.deepEqual(armProperties(app).configuration.registries, [{ server, identity: pull.id }]);
      return armProperties(app).template.containers[0].image;
    });
    assert.deepEqual(images.sort(), [
      `${server}/cache/docker.io/library/node:22`,
      `${server}/cache/docker.io/library/node:24`,
      `${server}/cache/ghcr.io/someorg/runtime-node22:0.1.0`,
    ]);
    assert.equal(ofType(run, "docker:index/image:Image").length, 0, "nothing is built");
  });
});

describe("12.6: the environment's core quota is checked at preview", () => {
  it("a preview of runtimes that could need more vCPU than the quota fails with the numbers and how to raise it", async () => {
    const runtimes = [
      { name: "default", memory: 2048, maxWorkers: 200 },
      { name: "imaging", dockerfile: IMAGING, memory: 4096, maxWorkers: 100 },
    ];
    await assert.rejects(
      runProgram({ preview: true, config: { runtimes } }),
      /need 400 vCPU \(default 2048 MB: 200 x 1 = 200; imaging 4096 MB: 100 x 2 = 200\) but the environment's quota is 100 cores \(lithops-aca:environment\.coreQuota\).*request more/,
    );
    const run = await runProgram({ preview: true, config: { runtimes, environment: { coreQuota: 400 } } });
    assert.equal(ofType(run, APP).length, 2, "a stack that states its raised quota deploys");
  });
});

describe("12.7: the Container Apps resources use a GA API version", () => {
  it("environment and apps are declared at a GA version; no resource of the SDK's preview-versioned app module is left", async () => {
    assert.doesNotMatch(CONTAINER_APPS_API_VERSION, /preview/);
    const run = await runProgram({ config: DEV });
    const containerApps = run.resources.filter((r) => kindOf(r).startsWith("Microsoft.App/"));
    assert.deepEqual(containerApps.map(kindOf).sort(), ["Microsoft.App/containerApps", "Microsoft.App/containerApps", "Microsoft.App/managedEnvironments"]);
    for (const resource of containerApps) assert.equal(resource.inputs.apiVersion, CONTAINER_APPS_API_VERSION);
    assert.deepEqual(
      run.resources.filter((r) => r.type.startsWith("azure-native:app:")),
      [],
    );
  });
});

describe("12.8: operations", () => {
  const ACTION_GROUP = "/subscriptions/s/resourceGroups/ops/providers/Microsoft.Insights/actionGroups/oncall";
  const COST_TAGS = { "cost-center": "4711", owner: "data-team" };
  let run: ProgramRun;
  before(async () => {
    run = await runProgram({ config: { ...DEV, tags: COST_TAGS, poisonAlert: { actionGroupId: ACTION_GROUP } } });
  });

  it("outputs the Log Analytics workspace id and a ready logs command per runtime", () => {
    assert.equal(run.outputs.logAnalyticsWorkspaceId, ofType(run, "azure-native:operationalinsights:Workspace")[0]!.id);
    for (const runtime of run.outputs.runtimes as { appName: string; logsCommand: string }[]) {
      assert.match(runtime.logsCommand, new RegExp(`^az containerapp logs show --resource-group \\S+ --name ${runtime.appName} --follow$`));
    }
  });

  it("alerts the action group when a runtime moves a message to its poison queue, searching for the text the worker logs then", async () => {
    const alerts = ofType(run, "azure-native:monitor:ScheduledQueryRule");
    assert.equal(alerts.length, 2);
    const workspace = ofType(run, "azure-native:operationalinsights:Workspace")[0]!;
    for (const alert of alerts) {
      assert.deepEqual(alert.inputs.scopes, [workspace.id]);
      assert.deepEqual(alert.inputs.actions, { actionGroups: [ACTION_GROUP] });
      const app = ofType(run, APP).find((a) => alert.inputs.criteria.allOf[0].query.includes(`"${a.inputs.resourceName}"`));
      assert.ok(app, `the query names one of the apps: ${alert.inputs.criteria.allOf[0].query}`);
      assert.ok(alert.inputs.criteria.allOf[0].query.includes(`Log has "${POISON_MARKER}"`));
    }
    // Both ways a worker moves a message to the poison queue log the marker (a log call may span lines).
    const consumer = readFileSync(join(root, "worker/queue-consumer.ts"), "utf8");
    const logCalls = consumer
      .split("this.settings.log(")
      .slice(1)
      .map((call) => call.slice(0, call.indexOf(");")));
    const poisonLogs = logCalls.filter((call) => call.includes("poison queue"));
    assert.equal(poisonLogs.length, 2, poisonLogs.join("\n"));
    for (const call of poisonLogs) assert.ok(call.trimStart().startsWith("`${POISON_MARKER} "), call);
    const plain = await runProgram({ config: DEV });
    assert.equal(ofType(plain, "azure-native:monitor:ScheduledQueryRule").length, 0, "no alert unless asked for");
  });

  it("puts the cost tags on every resource that takes tags, and every other kind is known not to", () => {
    const tagged = new Set([
      "azure-native:resources:ResourceGroup",
      "azure-native:storage:StorageAccount",
      "azure-native:operationalinsights:Workspace",
      "Microsoft.App/managedEnvironments",
      "Microsoft.App/containerApps",
      "azure-native:containerregistry:Registry",
      "azure-native:containerregistry:Task",
      "azure-native:managedidentity:UserAssignedIdentity",
      "azure-native:monitor:ScheduledQueryRule",
    ]);
    // Sub-resources and extension resources, which Azure does not tag, and what is not Azure's.
    const untagged = new Set([
      "azure-native:storage:BlobContainer",
      "azure-native:storage:Queue",
      "azure-native:storage:ManagementPolicy",
      "azure-native:authorization:RoleAssignment",
      "azure-native:containerregistry:CacheRule",
      "azure-native:monitor:DiagnosticSetting",
      "docker:index/image:Image",
      "random:index/randomPassword:RandomPassword",
    ]);
    for (const resource of run.resources.filter((r) => !r.type.startsWith("lithops-aca:"))) {
      const kind = kindOf(resource);
      assert.ok(tagged.has(kind) || untagged.has(kind), `${kind} is neither known to take tags nor known not to`);
      if (tagged.has(kind)) {
        for (const [name, value] of Object.entries(COST_TAGS)) assert.equal(resource.inputs.tags?.[name], value, `${resource.name} lacks tag ${name}`);
        assert.equal(resource.inputs.tags.lithops_stack, "dev");
      }
    }
  });

  it("protects the storage account where the stack asks for it: Pulumi.prod.yaml does, dev does not", async () => {
    const prodFile = parse(readFileSync(join(root, "Pulumi.prod.yaml"), "utf8")).config as Record<string, unknown>;
    const config = Object.fromEntries(
      Object.entries(prodFile)
        .filter(([k]) => k.startsWith("lithops-aca:"))
        .map(([k, v]) => [k.slice("lithops-aca:".length), v]),
    );
    const prod = await runProgram({ stack: "prod", config });
    assert.equal(named(prod, "lithops-storage-account").protect, true);
    assert.equal(named(run, "lithops-storage-account").protect, false);
    assert.deepEqual(
      run.resources.filter((r) => r.protect).map((r) => r.name),
      [],
      "nothing else is protected",
    );
  });
});
