import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { before, describe, it } from "node:test";
import { parse } from "yaml";
import { type Body, bodiesOf, type CheckName, check, contractProblems } from "../support/azure-contracts.ts";
import { type ProgramRun, runProgram } from "../support/pulumi-harness.ts";
import { repoPath } from "../support/package-paths.ts";

/**
 * Issue 18 part 4: every body the program sends that the SDK's types do not check, held to
 * Azure's published API definitions (test/pulumi/azure-specs/) and documented limits, for
 * several stack configs; then each check shown to fail on a body broken in its field.
 */

/** A stack file's `lithops-aca:*` keys and its location, as the CLI passes them. */
function stackFile(stack: string): { config: Record<string, unknown>; location: string } {
  const { config } = parse(readFileSync(repoPath(`Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
  const own = Object.entries(config).filter(([key]) => key.startsWith("lithops-aca:"));
  return {
    config: Object.fromEntries(own.map(([key, value]) => [key.slice("lithops-aca:".length), value])),
    location: String(config["azure-native:location"]),
  };
}

const OTHER_SUBSCRIPTION = "77777777-6666-5555-4444-333333333333";
const ACTION_GROUP = "/subscriptions/s/resourceGroups/ops/providers/Microsoft.Insights/actionGroups/oncall";
const SCENARIOS: Record<string, Parameters<typeof runProgram>[0]> = {
  dev: { stack: "dev", ...stackFile("dev") },
  prod: { stack: "prod", ...stackFile("prod") },
  large: {
    config: {
      runtimes: [
        { name: "default", memory: 8192, maxWorkers: 1000 },
        { name: "long", memory: 8192, timeout: 1800, maxWorkers: 1000 },
      ],
      registry: { type: "acr", id: `/subscriptions/${OTHER_SUBSCRIPTION}/resourceGroups/shared/providers/Microsoft.ContainerRegistry/registries/sharedacr` },
      environment: { coreQuota: 8000 },
      poisonAlert: { actionGroupId: ACTION_GROUP },
    },
  },
  dockerhub: {
    config: { runtimes: [{ name: "default", memory: 1024, maxWorkers: 20 }], registry: { type: "dockerhub", username: "someuser" } },
    secrets: { dockerHubToken: "dckr_pat_secret" },
  },
};

describe("Azure's contracts: the bodies the program sends", () => {
  const runs = new Map<string, ProgramRun>();
  before(async () => {
    for (const [name, scenario] of Object.entries(SCENARIOS)) runs.set(name, await runProgram(scenario));
  });

  for (const name of Object.keys(SCENARIOS)) {
    it(`${name}: every Container App, Job, alert and role assignment body meets the API definitions and the documented limits`, () => {
      const run = runs.get(name)!;
      const kinds = new Set(bodiesOf(run).map((b) => b.kind));
      assert.ok(kinds.has("app") && kinds.has("role"), [...kinds].join(", "));
      assert.deepEqual(contractProblems(run), []);
    });
  }

  it("the large stack has what it is for: 8192 MB on a workload profile, 1000 replicas, a job, alerts", () => {
    const bodies = bodiesOf(runs.get("large")!);
    const app = bodies.find((b) => b.kind === "app")!;
    assert.equal(app.body.properties.template.scale.maxReplicas, 1000);
    assert.deepEqual(app.body.properties.template.containers[0].resources, { cpu: 4, memory: "8Gi" });
    assert.ok(app.body.properties.workloadProfileName);
    assert.ok(bodies.some((b) => b.kind === "job"));
    assert.equal(bodies.filter((b) => b.kind === "alert").length, 2);
  });
});

describe("Azure's contracts: each check fails on a body broken in its field", () => {
  let bodies: Body[];
  before(async () => {
    bodies = bodiesOf(await runProgram(SCENARIOS.large));
  });
  const first = (kind: Body["kind"]) => structuredClone(bodies.find((b) => b.kind === kind)!);

  /** Each case breaks one field of a valid body and names the one check that must catch it. */
  const CASES: { what: string; kind: Body["kind"]; check: CheckName; breakIt: (b: Record<string, any>) => void }[] = [
    {
      what: "a scale setting given as a string",
      kind: "app",
      check: "api-definition",
      breakIt: (b) => {
        b.properties.template.scale.minReplicas = "0";
      },
    },
    {
      what: "a misspelt key",
      kind: "app",
      check: "api-definition",
      breakIt: (b) => {
        b.properties.template.scale.maxReplica = 3;
      },
    },
    {
      what: "an activeRevisionsMode the API does not list",
      kind: "app",
      check: "api-definition",
      breakIt: (b) => {
        b.properties.configuration.activeRevisionsMode = "single";
      },
    },
    {
      what: "a job trigger type the API does not list",
      kind: "job",
      check: "api-definition",
      breakIt: (b) => {
        b.properties.configuration.triggerType = "Queue";
      },
    },
    {
      what: "a job without its replicaTimeout",
      kind: "job",
      check: "api-definition",
      breakIt: (b) => {
        delete b.properties.configuration.replicaTimeout;
      },
    },
    {
      what: "the metric alerts' operator",
      kind: "alert",
      check: "api-definition",
      breakIt: (b) => {
        b.criteria.allOf[0].operator = "gt";
      },
    },
    {
      what: "a window that is no ISO 8601 duration",
      kind: "alert",
      check: "api-definition",
      breakIt: (b) => {
        b.windowSize = "15m";
      },
    },
    {
      what: "a time aggregation the API does not list",
      kind: "alert",
      check: "api-definition",
      breakIt: (b) => {
        b.criteria.allOf[0].timeAggregation = "count";
      },
    },
    {
      what: "a severity outside 0-4",
      kind: "alert",
      check: "api-definition",
      breakIt: (b) => {
        b.severity = 5;
      },
    },
    {
      what: "a cpu/memory pair Azure does not offer",
      kind: "app",
      check: "cpu-memory",
      breakIt: (b) => {
        b.properties.template.containers[0].resources.memory = "6Gi";
      },
    },
    {
      what: "4 vCPU without a workload profile",
      kind: "app",
      check: "cpu-memory",
      breakIt: (b) => {
        delete b.properties.workloadProfileName;
      },
    },
    {
      what: "an app name with capitals",
      kind: "app",
      check: "name",
      breakIt: (b) => {
        b.name = "Lithops-default";
      },
    },
    {
      what: "a job name of 33 characters",
      kind: "job",
      check: "name",
      breakIt: (b) => {
        b.name = `a${"b".repeat(32)}`;
      },
    },
    {
      what: "a grace period of 601 s",
      kind: "app",
      check: "grace-period",
      breakIt: (b) => {
        b.properties.template.terminationGracePeriodSeconds = 601;
      },
    },
    {
      what: "1001 replicas",
      kind: "app",
      check: "max-replicas",
      breakIt: (b) => {
        b.properties.template.scale.maxReplicas = 1001;
      },
    },
    {
      what: "an app scale rule reading as an identity the app lacks",
      kind: "app",
      check: "scale-rule-identity",
      breakIt: (b) => {
        b.properties.template.scale.rules[0].azureQueue.identity =
          "/subscriptions/x/resourceGroups/y/providers/Microsoft.ManagedIdentity/userAssignedIdentities/other";
      },
    },
    {
      what: "a job scale rule with 'system' and no system identity",
      kind: "job",
      check: "scale-rule-identity",
      breakIt: (b) => {
        b.properties.configuration.eventTriggerConfig.scale.rules[0].identity = "system";
      },
    },
    {
      what: "a KEDA queueLength given as a number",
      kind: "job",
      check: "keda-azure-queue-metadata",
      breakIt: (b) => {
        b.properties.configuration.eventTriggerConfig.scale.rules[0].metadata.queueLength = 1;
      },
    },
    {
      what: "a KEDA metadata key the scaler does not read",
      kind: "job",
      check: "keda-azure-queue-metadata",
      breakIt: (b) => {
        b.properties.configuration.eventTriggerConfig.scale.rules[0].metadata.queue = "q";
      },
    },
    {
      what: "a role definition id that is no built-in role",
      kind: "role",
      check: "role-definition-id",
      breakIt: (b) => {
        b.roleDefinitionId = b.roleDefinitionId.replace(/[0-9a-f-]{36}$/, "00000000-0000-0000-0000-000000000000");
      },
    },
  ];

  for (const c of CASES) {
    it(`${c.check}: ${c.what}`, () => {
      const body = first(c.kind);
      assert.deepEqual(check(body), [], "the unbroken body passes");
      c.breakIt(body.body);
      const found = check(body);
      assert.ok(found.length > 0, "the broken body fails");
      assert.deepEqual([...new Set(found.map((p) => p.check))], [c.check], JSON.stringify(found));
    });
  }
});
