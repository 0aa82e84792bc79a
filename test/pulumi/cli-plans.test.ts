import assert from "node:assert/strict";
import { resolve } from "node:path";
import { describe, it } from "node:test";
import {
  checkArguments,
  planBuild,
  planClean,
  planDelete,
  planDestroy,
  planDeploy,
  planUpdate,
  projectDockerfile,
  runtimeRows,
  validateRuntimes,
  type RuntimeEntry,
} from "../../deploy/plans.ts";
import { PlanError } from "../../deploy/errors.ts";
import { ENV } from "../../protocol/env.ts";
import { NODE_MAJOR, PACKAGE_VERSION } from "../../protocol/version.ts";
import { armProperties, named, ofType, reveal, runProgram } from "../support/pulumi-harness.ts";
import { REPO_ROOT } from "../support/package-paths.ts";

const projectRoot = REPO_ROOT;
const ref = { stack: "dev", project: "lithops-aca", projectRoot };
const IMAGING = "runtimes/examples/imaging/Dockerfile";
const DEV: RuntimeEntry[] = [
  { name: "default", memory: 512, maxWorkers: 10 },
  { name: "imaging", dockerfile: IMAGING, memory: 2048, timeout: 300 },
];

describe("cli plans: runtime deploy", () => {
  it("adds a new runtime at the end of the list with one set-all --path, then a full pulumi up", () => {
    const plan = planDeploy({ ...ref, current: DEV, name: "lithopscloud/ca-node20:01", memory: 1024 });
    assert.deepEqual(plan.steps, [
      {
        kind: "setConfig",
        values: { "lithops-aca:runtimes[2].name": "lithopscloud/ca-node20:01", "lithops-aca:runtimes[2].memory": "1024" },
      },
      { kind: "up" },
    ]);
    assert.deepEqual(plan.after, [...DEV, { name: "lithopscloud/ca-node20:01", memory: 1024 }]);
    assert.deepEqual(plan.before, DEV);
    assert.equal(plan.result, "Runtime lithopscloud/ca-node20:01 (1024 MB) deployed in stack 'dev'");
  });

  it("another memory size of a listed runtime keeps its Dockerfile; --timeout is recorded", () => {
    const plan = planDeploy({ ...ref, current: DEV, name: "imaging", memory: 4096, timeout: 450 });
    assert.deepEqual(plan.after[2], { name: "imaging", memory: 4096, dockerfile: IMAGING, timeout: 450 });
    assert.deepEqual(plan.steps[0], {
      kind: "setConfig",
      values: {
        "lithops-aca:runtimes[2].name": "imaging",
        "lithops-aca:runtimes[2].memory": "4096",
        "lithops-aca:runtimes[2].dockerfile": IMAGING,
        "lithops-aca:runtimes[2].timeout": "450",
      },
    });
  });

  it("a runtime already listed is deployed as configured: no config change, only up (or just its new timeout)", () => {
    const plan = planDeploy({ ...ref, current: DEV, name: "default" });
    assert.deepEqual(plan.steps, [{ kind: "up" }]);
    assert.deepEqual(plan.after, DEV);
    assert.match(plan.notes[0]!, /default \(512 MB\) already listed/);
    const timeout = planDeploy({ ...ref, current: DEV, name: "imaging", memory: 2048, timeout: 120 });
    assert.deepEqual(timeout.steps, [{ kind: "setConfig", values: { "lithops-aca:runtimes[1].timeout": "120" } }, { kind: "up" }]);
  });

  it("a stack without the key writes the whole list, keeping the program's implicit default runtime", () => {
    const plan = planDeploy({ ...ref, current: undefined, name: "lithopscloud/ca-node20:01" });
    assert.deepEqual(plan.before, [{ name: "default" }]);
    assert.deepEqual(plan.steps[0], {
      kind: "setConfig",
      values: {
        "lithops-aca:runtimes[0].name": "default",
        "lithops-aca:runtimes[1].name": "lithopscloud/ca-node20:01",
        "lithops-aca:runtimes[1].memory": "512",
      },
    });
  });

  it("refuses a memory size outside the table, a bad name or timeout, before anything runs", () => {
    assert.throws(
      () => planDeploy({ ...ref, current: DEV, name: "default", memory: 1000 }),
      (e: Error) => e instanceof PlanError && /--memory: 1000/.test(e.message),
    );
    assert.throws(() => planDeploy({ ...ref, current: DEV, name: "My/Image" }), /runtime name: "My\/Image" is not a runtime name/);
    assert.throws(() => planDeploy({ ...ref, current: DEV, name: "default", timeout: 0 }), /--timeout: 0 is not valid/);
    assert.throws(() => checkArguments({ name: "default", memory: 3000 }), /--memory: 3000/);
    assert.doesNotThrow(() => checkArguments({ name: "all", allowAll: true, memory: 2048 }));
  });

  it("validates the resulting list with the program's own rules (Dockerfile inside the project, no duplicates)", () => {
    const broken: RuntimeEntry[] = [{ name: "x", dockerfile: "runtimes/nope/Dockerfile" }];
    assert.throws(
      () => planDeploy({ ...ref, current: broken, name: "default" }),
      /lithops-aca:runtimes\[0\]\.dockerfile: runtimes\/nope\/Dockerfile does not exist/,
    );
  });
});

describe("cli plans: runtime update", () => {
  it("bumps the revision of every size of the runtime, then a full pulumi up", () => {
    const current: RuntimeEntry[] = [...DEV, { name: "imaging", dockerfile: IMAGING, memory: 4096, revision: 2 }];
    const plan = planUpdate({ ...ref, current, name: "imaging" });
    assert.deepEqual(plan.steps, [
      { kind: "setConfig", values: { "lithops-aca:runtimes[1].revision": "1", "lithops-aca:runtimes[2].revision": "3" } },
      { kind: "up" },
    ]);
    assert.equal(plan.after[0]!.revision, undefined);
    assert.match(plan.result, /Runtime imaging \(2048 MB\), imaging \(4096 MB\) updated in stack 'dev'/);
  });

  it("'all' updates every runtime; an unlisted runtime names the deploy command", () => {
    const plan = planUpdate({ ...ref, current: DEV, name: "all" });
    assert.deepEqual(
      plan.after.map((r) => r.revision),
      [1, 1],
    );
    assert.throws(
      () => planUpdate({ ...ref, current: DEV, name: "lithopscloud/ca-node20:01" }),
      /runtime 'lithopscloud\/ca-node20:01' is not in stack 'dev' \(lithops-aca:runtimes lists default \(512 MB\), imaging \(2048 MB\)\); deploy it with `npx lithops-aca runtime deploy lithopscloud\/ca-node20:01 --stack dev`/,
    );
  });
});

describe("cli plans: runtime delete", () => {
  it("removes the runtime's entries (highest index first, so indices stay valid), then pulumi up", () => {
    const current: RuntimeEntry[] = [{ name: "imaging", dockerfile: IMAGING, memory: 1024 }, ...DEV];
    const plan = planDelete({ ...ref, current, name: "imaging" });
    assert.deepEqual(plan.steps, [{ kind: "removeConfig", paths: ["lithops-aca:runtimes[2]", "lithops-aca:runtimes[0]"] }, { kind: "up" }]);
    assert.deepEqual(plan.after, [DEV[0]]);
  });

  it("--memory deletes one size only", () => {
    const current: RuntimeEntry[] = [...DEV, { name: "imaging", dockerfile: IMAGING, memory: 4096 }];
    const plan = planDelete({ ...ref, current, name: "imaging", memory: 4096 });
    assert.deepEqual(plan.steps[0], { kind: "removeConfig", paths: ["lithops-aca:runtimes[2]"] });
    assert.throws(() => planDelete({ ...ref, current, name: "imaging", memory: 8192 }), /runtime 'imaging' with 8192 MB is not in stack 'dev'/);
  });

  it("'all' removes every entry and leaves the stack with no runtimes; the result says how to deploy one", () => {
    const plan = planDelete({ ...ref, current: DEV, name: "all" });
    assert.deepEqual(plan.steps, [{ kind: "removeConfig", paths: ["lithops-aca:runtimes[1]", "lithops-aca:runtimes[0]"] }, { kind: "up" }]);
    assert.deepEqual(plan.after, []);
    assert.match(plan.notes.join("\n"), /keeps its storage account, job data, environment and signing key/);
    assert.equal(
      plan.result,
      "Runtime default (512 MB), imaging (2048 MB) deleted: stack 'dev' now has no runtimes (deploy one with `npx lithops-aca runtime deploy default --stack dev`)",
    );
  });

  it("deleting the last runtime works the same way", () => {
    const plan = planDelete({ ...ref, current: [DEV[0]!], name: "default" });
    assert.deepEqual(plan.steps, [{ kind: "removeConfig", paths: ["lithops-aca:runtimes[0]"] }, { kind: "up" }]);
    assert.deepEqual(plan.after, []);
    assert.match(plan.result, /stack 'dev' now has no runtimes/);
  });

  it("with the key unset (the implicit default runtime), 'all' writes the list then removes it, leaving an explicit []", () => {
    const plan = planDelete({ ...ref, current: undefined, name: "all" });
    assert.deepEqual(plan.steps, [
      { kind: "setConfig", values: { "lithops-aca:runtimes[0].name": "default" } },
      { kind: "removeConfig", paths: ["lithops-aca:runtimes[0]"] },
      { kind: "up" },
    ]);
    assert.deepEqual(plan.before, [{ name: "default" }]);
    assert.deepEqual(plan.after, []);
  });

  it("a stack with no runtimes: delete/update 'all' say there is nothing and how to deploy; deploy appends at index 0", () => {
    for (const plan of [planDelete, planUpdate]) {
      assert.throws(
        () => plan({ ...ref, current: [], name: "all" }),
        /stack 'dev' has no runtimes \(lithops-aca:runtimes is empty\); deploy one with `npx lithops-aca runtime deploy default --stack dev`/,
      );
    }
    assert.throws(() => planDelete({ ...ref, current: [], name: "default" }), /lithops-aca:runtimes lists none/);
    const deploy = planDeploy({ ...ref, current: [], name: "default" });
    assert.deepEqual(deploy.steps, [
      { kind: "setConfig", values: { "lithops-aca:runtimes[0].name": "default", "lithops-aca:runtimes[0].memory": "512" } },
      { kind: "up" },
    ]);
    assert.deepEqual(validateRuntimes(ref, []), []);
  });
});

describe("cli plans: runtime build", () => {
  it("records the Dockerfile, adds the runtime if needed, and runs up targeted at its image only", () => {
    const plan = planBuild({ ...ref, current: DEV, name: "myacct/tools:01", dockerfile: IMAGING, hasRegistry: true });
    assert.deepEqual(plan.steps, [
      {
        kind: "setConfig",
        values: {
          "lithops-aca:runtimes[2].name": "myacct/tools:01",
          "lithops-aca:runtimes[2].memory": "512",
          "lithops-aca:runtimes[2].dockerfile": IMAGING,
        },
      },
      {
        kind: "up",
        target: [
          "urn:pulumi:dev::lithops-aca::lithops-aca:index:LithopsStack$lithops-aca:index:RuntimeImage::lithops-image-myacct-tools-01",
          "urn:pulumi:dev::lithops-aca::lithops-aca:index:LithopsStack$lithops-aca:index:RuntimeImage$docker:index/image:Image::lithops-image-myacct-tools-01-build",
        ],
      },
    ]);
    assert.match(plan.notes.join("\n"), /only its image is built now/);
    assert.equal(plan.result, "Runtime myacct/tools:01 built and pushed (myacct/tools:01) in stack 'dev'");
  });

  it("a listed runtime gets the new Dockerfile; without -f a listed one keeps its own; default builds runtimes/default", () => {
    const changed = planBuild({ ...ref, current: DEV, name: "imaging", dockerfile: "runtimes/default/Dockerfile", hasRegistry: true });
    assert.deepEqual(changed.steps[0], { kind: "setConfig", values: { "lithops-aca:runtimes[1].dockerfile": "runtimes/default/Dockerfile" } });
    const same = planBuild({ ...ref, current: DEV, name: "imaging", hasRegistry: true });
    assert.equal(same.steps.length, 1);
    assert.deepEqual(
      (same.steps[0] as { target: string[] }).target[0],
      "urn:pulumi:dev::lithops-aca::lithops-aca:index:LithopsStack$lithops-aca:index:RuntimeImage::lithops-image-imaging-latest",
    );
    const fallback = planBuild({ ...ref, current: DEV, name: "default", hasRegistry: true });
    const expected = `lithops-image-lithops-aca-default-node${NODE_MAJOR}-${PACKAGE_VERSION.replace(/[^a-z0-9]+/g, "-")}`;
    assert.deepEqual(
      (fallback.steps[0] as { target: string[] }).target[0],
      `urn:pulumi:dev::lithops-aca::lithops-aca:index:LithopsStack$lithops-aca:index:RuntimeImage::${expected}`,
    );
  });

  it("a prebuilt image has nothing to build; a stack without a registry is told to deploy once", () => {
    const current: RuntimeEntry[] = [...DEV, { name: "tools", image: "lithopscloud/ca-node20:01" }];
    assert.throws(
      () => planBuild({ ...ref, current, name: "tools", hasRegistry: true }),
      /runs the prebuilt image lithopscloud\/ca-node20:01: there is nothing to build/,
    );
    assert.throws(
      () => planBuild({ ...ref, current: DEV, name: "imaging", hasRegistry: false }),
      /has no container registry yet.*`npx lithops-aca runtime deploy imaging --stack dev` once/,
    );
  });

  it("-f is relative to the current folder and must stay inside the project (the build context)", () => {
    assert.equal(projectDockerfile("Dockerfile", resolve(projectRoot, "runtimes/examples/imaging"), projectRoot), IMAGING);
    assert.equal(projectDockerfile(resolve(projectRoot, IMAGING), "/", projectRoot), IMAGING);
    assert.throws(() => projectDockerfile("../Dockerfile", projectRoot, projectRoot), /must be inside the Pulumi project/);
  });

  // 'myacct/img:1' and 'myacct-img:1' slug alike: the program names the second with a hash suffix, and so must the plan.
  for (const [label, current, name] of [
    ["a new image", DEV, "myacct/tools:01"],
    ["the second of two images whose names slug alike", [...DEV, { name: "myacct/img:1", dockerfile: IMAGING }], "myacct-img:1"],
  ] as const) {
    it(`the targeted URNs are exactly the URNs of the image resources the program declares, for ${label} (checked against a mock run of index.ts)`, async () => {
      const plan = planBuild({ ...ref, current: [...current], name, dockerfile: IMAGING, hasRegistry: true });
      const run = await runProgram({ stack: "dev", config: { runtimes: plan.after } });
      const targets = (plan.steps.at(-1) as { target: string[] }).target;
      assert.equal(targets.length, 2);
      const urns = new Set(run.resources.map((r) => r.urn));
      for (const urn of targets) assert.ok(urns.has(urn), `the program declares ${urn}`);
    });
  }
});

describe("cli plans: clean, stack destroy and list", () => {
  const deleteData = { kind: "deleteData", prefixes: ["lithops.jobs/", "lithops.runtimes/"] };

  it("clean is `runtime delete all` and up, then the job data and runtime metadata prefixes; never a destroy", () => {
    const plan = planClean({ ...ref, current: DEV, deployedRuntimes: true });
    assert.deepEqual(plan.steps, [...planDelete({ ...ref, current: DEV, name: "all" }).steps, deleteData]);
    assert.deepEqual(plan.steps.slice(0, 2), [{ kind: "removeConfig", paths: ["lithops-aca:runtimes[1]", "lithops-aca:runtimes[0]"] }, { kind: "up" }]);
    assert.deepEqual(plan.after, []);
    assert.ok(!plan.steps.some((step) => step.kind === "destroy"));
    assert.match(plan.notes.join("\n"), /the storage account, other objects in it, the config and the stack stay/);
  });

  it("clean of a stack that lists no runtimes: up only while its outputs still show some, then the data", () => {
    assert.deepEqual(planClean({ ...ref, current: [], deployedRuntimes: true }).steps, [{ kind: "up" }, deleteData]);
    assert.deepEqual(planClean({ ...ref, current: [], deployedRuntimes: false }).steps, [deleteData]);
  });

  it("stack destroy is one pulumi destroy; the config stays", () => {
    const plan = planDestroy({ stack: "dev", project: "lithops-aca", current: DEV });
    assert.deepEqual(plan.steps, [{ kind: "destroy" }]);
    assert.deepEqual(plan.after, DEV);
    assert.match(plan.notes.join("\n"), /storage account with every object in it/);
    assert.match(plan.result, /config is kept/);
  });

  it("list: deployed runtimes from the outputs, plus what the config lists and the last up did not deploy", () => {
    const outputs = [
      { name: "default", memory: 512, image: "acr.io/default@sha256:1", appName: "lithops-default-512" },
      { name: "old", memory: 1024, image: "old:1", appName: "lithops-old-1024" },
    ];
    assert.deepEqual(runtimeRows(outputs, DEV), [
      { name: "default", memory: 512, image: "acr.io/default@sha256:1", app: "lithops-default-512", status: "deployed" },
      { name: "old", memory: 1024, image: "old:1", app: "lithops-old-1024", status: "deployed, no longer in config (the next up deletes it)" },
      { name: "imaging", memory: 2048, image: IMAGING, app: "", status: "in config, not deployed yet" },
    ]);
    assert.deepEqual(runtimeRows(undefined, undefined), [{ name: "default", memory: 512, image: "", app: "", status: "in config, not deployed yet" }]);
  });
});

describe("runtime revision in the Pulumi program (what `runtime update` changes)", () => {
  it("revision > 0 sets LITHOPS_RUNTIME_REVISION on the app and LITHOPS_REVISION on the image build; 0 leaves both as before", async () => {
    const updated = planUpdate({ ...ref, current: DEV, name: "imaging" }).after;
    const [before, after] = [await runProgram({ config: { runtimes: DEV } }), await runProgram({ config: { runtimes: updated } })];
    const env = (run: Awaited<ReturnType<typeof runProgram>>) =>
      Object.fromEntries(
        (armProperties(named(run, "lithops-imaging-2048-app")).template.containers[0].env as { name: string; value?: string }[]).map((e) => [e.name, e.value]),
      );
    assert.equal(env(before)[ENV.runtimeRevision], undefined);
    assert.equal(env(after)[ENV.runtimeRevision], "1");
    const imagingBuild = (run: Awaited<ReturnType<typeof runProgram>>) =>
      ofType(run, "docker:index/image:Image").find((r) => r.name.startsWith("lithops-image-imaging"))!.inputs.build;
    assert.equal(reveal(imagingBuild(before)).args.LITHOPS_REVISION, undefined);
    assert.equal(reveal(imagingBuild(after)).args.LITHOPS_REVISION, "1");
    // The default runtime was not updated: its app has no revision variable.
    const defaultEnv = (armProperties(named(after, "lithops-default-512-app")).template.containers[0].env as { name: string }[]).map((e) => e.name);
    assert.ok(!defaultEnv.includes(ENV.runtimeRevision));
    assert.equal(validateRuntimes(ref, updated)[1]!.revision, 1);
  });
});
