import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, it } from "node:test";
import { build } from "esbuild";
import { parse } from "yaml";
import { STAGED_DOCKERFILE, workerLayer } from "../../components/image-context.ts";
import { REPO_ROOT } from "../support/package-paths.ts";

/**
 * The example workflows in docs/ stay valid, current and safe: they pass a workflow linter
 * (@action-validator/cli, a devDependency), the GitOps workflow runs on every change that
 * changes an image or the program, every action is pinned by commit and runs on a current
 * Node.js runtime, no secret reaches a job a pull request runs, the Pulumi token reaches only
 * the step that needs it in its environment, checkouts keep no credentials, and the release
 * workflow runs only for tags, behind an environment, and builds the default runtime the
 * way a stack does, for each supported major, naming the image by digest.
 */
const root = REPO_ROOT;
const run = promisify(execFile);
const WORKFLOWS = ["docs/gitops-workflow.yml", "docs/release-workflow.yml"];

/** The first major of each action whose `runs.using` is node24 (node20 reached end of life in April 2026). */
const NODE24_MAJORS: Record<string, number> = {
  "actions/checkout": 6,
  "actions/setup-node": 6,
  "pulumi/actions": 7,
  "docker/setup-qemu-action": 4,
  "docker/setup-buildx-action": 4,
  "docker/login-action": 4,
  "docker/build-push-action": 7,
};
const SUPPORTED_NODE_MAJORS = [22, 24];

type Step = { uses?: string; run?: string; id?: string; with?: Record<string, unknown>; env?: Record<string, string> };
type Job = { if?: string; environment?: string; env?: Record<string, string>; steps: Step[]; strategy?: { matrix: Record<string, unknown[]> } };
type Workflow = {
  on: Record<string, { paths?: string[]; tags?: string[] }>;
  env?: Record<string, string>;
  jobs: Record<string, Job>;
};
const load = (file: string) => parse(readFileSync(join(root, file), "utf8")) as Workflow;

/** GitHub's `paths` patterns: `**` matches across folders, `*` within one; dots are literal. */
function pathPattern(glob: string): RegExp {
  const source = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*\*/g, "\0")
    .replace(/\*/g, "[^/]*")
    .replace(/\0/g, ".*");
  return new RegExp(`^${source}$`);
}

/** Files the worker bundle is built from: esbuild's own account, with tools/build.mjs's entry points and externals. */
async function bundleInputs(): Promise<string[]> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: ["worker/main.ts", "worker/call-thread.ts", "client/index.ts"],
    bundle: true,
    write: false,
    metafile: true,
    format: "esm",
    platform: "node",
    outdir: "unused",
    external: ["@pulumi/*", "azurite", "vega", "vega-lite", "commander", "cli-progress"],
    logLevel: "silent",
  });
  return Object.keys(result.metafile.inputs).filter((file) => !file.includes("node_modules"));
}

describe("example workflows", () => {
  for (const file of WORKFLOWS) {
    it(`${file} passes @action-validator/cli`, async () => {
      const cli = createRequire(import.meta.url).resolve("@action-validator/cli/cli.mjs");
      const { stderr } = await run(process.execPath, [cli, file], { cwd: root, timeout: 60_000 }).catch((error: { stdout: string; stderr: string }) => {
        assert.fail(`${file} is not a valid workflow:\n${error.stdout}${error.stderr}`);
      });
      // It warns that it does not check globs; anything else would be news.
      for (const line of stderr.split("\n").filter(Boolean)) assert.match(line, /Glob validation is not yet supported/);
    });

    it(`${file}: every action is pinned by commit, with the release it was checked against, and runs on Node 24`, () => {
      const lines = readFileSync(join(root, file), "utf8")
        .split("\n")
        .filter((line) => /^\s*-?\s*uses:/.test(line));
      assert.ok(lines.length > 0);
      for (const line of lines) {
        const pinned = /uses: ([\w.-]+\/[\w.-]+)@([0-9a-f]{40}) # v(\d+)\.\d+\.\d+$/.exec(line.trim());
        assert.ok(pinned, `${line.trim()}: pin the action by its full commit SHA, followed by '# vX.Y.Z'`);
        const [, action, , major] = pinned;
        const minimum = NODE24_MAJORS[action!];
        assert.ok(minimum !== undefined, `${action}: not known to run on node24; add it to NODE24_MAJORS once checked`);
        assert.ok(Number(major) >= minimum, `${line.trim()}: ${action} runs on node24 from v${minimum}`);
      }
    });

    it(`${file}: every checkout keeps no credentials in .git/config`, () => {
      const checkouts = Object.values(load(file).jobs).flatMap((job) => job.steps.filter((step) => step.uses?.startsWith("actions/checkout@")));
      assert.ok(checkouts.length > 0);
      for (const step of checkouts) assert.equal(step.with?.["persist-credentials"], false);
    });
  }

  it("the GitOps workflow runs for every file that changes an image or the program, on pull requests and pushes alike", async () => {
    const workflow = load("docs/gitops-workflow.yml");
    const pr = workflow.on.pull_request!.paths!;
    assert.deepEqual(workflow.on.push!.paths, pr);
    const patterns = pr.map(pathPattern);
    const covered = (path: string) => patterns.some((pattern) => pattern.test(path));
    const mustTrigger = [
      ...(await bundleInputs()),
      "runtimes/default/Dockerfile",
      "runtimes/examples/imaging/package.json",
      "components/lithops-stack.ts",
      "index.ts",
      "Pulumi.yaml",
      "Pulumi.prod.yaml",
      "package.json",
      "package-lock.json",
      "tsconfig.json",
      "tsconfig.build.json",
      "tools/build.mjs",
      ".dockerignore",
    ];
    assert.ok(
      mustTrigger.some((f) => f.startsWith("azure/")),
      "the bundle's inputs were found",
    );
    for (const path of mustTrigger) assert.ok(covered(path), `a change to ${path} does not run the workflow`);
    for (const path of ["README.md", "docs/cli.md", "test/pulumi/program.test.ts", "bench/run.ts"]) assert.ok(!covered(path), `${path} should not run it`);
  });

  it("the GitOps workflow gives no secret to a job a pull request runs, and the Pulumi token only to the step that needs it, in its environment", () => {
    const workflow = load("docs/gitops-workflow.yml");
    const mentionsSecret = (value: unknown): boolean => JSON.stringify(value ?? null).includes("secrets.");
    assert.ok(!mentionsSecret(workflow.env), "the workflow-wide env holds a secret, which pull-request jobs would get");
    const jobs = Object.entries(workflow.jobs);
    const pullRequestJobs = jobs.filter(([, job]) => !/github\.event_name == 'push'/.test(job.if ?? "") && !/needs/.test(JSON.stringify(job)));
    assert.ok(pullRequestJobs.length > 0);
    for (const [name, job] of pullRequestJobs) {
      assert.match(job.if ?? "", /github\.event_name == 'pull_request'/, `${name} runs on pull requests but is not limited to them`);
      assert.ok(!mentionsSecret(job), `${name} runs on pull requests and refers to a secret`);
      assert.ok(
        !JSON.stringify(job).includes("stack-name: prod") && job.steps.every((step) => step.with?.["stack-name"] !== "prod"),
        `${name} previews prod with a branch's code`,
      );
    }
    for (const [name, job] of jobs) {
      const { steps, ...rest } = job;
      assert.ok(!mentionsSecret(rest), `${name}: a secret in the job's own env reaches every step`);
      for (const step of steps) {
        if (!mentionsSecret(step)) continue;
        assert.ok(step.uses?.startsWith("pulumi/actions@"), `${name}: only the Pulumi step gets a secret`);
        assert.deepEqual(Object.keys(step.env ?? {}), ["PULUMI_ACCESS_TOKEN"]);
        assert.ok(job.environment, `${name}: the token must be an environment's secret`);
        if (step.with?.["stack-name"] === "prod") assert.equal(job.environment, "production");
      }
    }
  });

  it("the release workflow runs only for version tags, behind an environment, and names the image by digest", () => {
    const workflow = load("docs/release-workflow.yml");
    assert.deepEqual(Object.keys(workflow.on), ["push"]);
    assert.deepEqual(workflow.on.push, { tags: ["v*"] });
    const job = workflow.jobs["default-runtime"]!;
    assert.ok(job.environment, "publishing needs a protected environment");
    assert.match(job.if ?? "", /startsWith\(github\.ref, 'refs\/tags\/v'\)/);
    const login = job.steps.findIndex((s) => s.uses?.startsWith("docker/login-action@"));
    const install = job.steps.findIndex((s) => s.run?.startsWith("npm ci"));
    assert.ok(install >= 0 && login > install, "the push token is used only after npm ci");
    job.steps.forEach((step, i) => {
      if (i !== login) assert.ok(!JSON.stringify(step).includes("secrets."), `step ${i} gets a secret`);
    });
    assert.ok(job.steps.some((s) => /steps\.push\.outputs\.digest/.test(JSON.stringify(s.env ?? {})) && /GITHUB_STEP_SUMMARY/.test(s.run ?? "")));
  });

  it("the GitOps workflow builds on a supported Node.js major", () => {
    assert.ok(SUPPORTED_NODE_MAJORS.includes(Number(load("docs/gitops-workflow.yml").env!.NODE_VERSION)));
  });

  it("the release workflow builds the default runtime for each supported major, amd64 and arm64, from the staged context", () => {
    const job = load("docs/release-workflow.yml").jobs["default-runtime"]!;
    assert.deepEqual(job.strategy!.matrix.node, SUPPORTED_NODE_MAJORS);
    const runs = job.steps.map((s) => s.run ?? "");
    assert.ok(runs.includes("npm ci && npm run build"));
    const push = job.steps.find((s) => s.uses?.startsWith("docker/build-push-action@"))!;
    assert.equal(push.with!.platforms, "linux/amd64,linux/arm64");
    assert.equal(push.with!.context, "${{ steps.stage.outputs.dir }}");
    assert.equal(push.with!.file, "${{ steps.stage.outputs.dockerfile }}");
    assert.match(String(push.with!["build-args"]), /NODE_MAJOR=\$\{\{ matrix\.node \}\}/);
    assert.equal(push.with!.push, true);
  });

  it("the release workflow's staging step, run here, stages the default runtime with the worker layer and names the image", async () => {
    assert.ok(existsSync(join(root, "dist/components/image-context.js")), "run `npm run build` first (npm test does)");
    const stage = load("docs/release-workflow.yml").jobs["default-runtime"]!.steps.find((s) => s.id === "stage")!;
    const script = /node --input-type=module -e '([\s\S]*)'\s*$/.exec(stage.run!)?.[1];
    assert.ok(script, stage.run);
    const out = mkdtempSync(join(tmpdir(), "release-stage-"));
    try {
      const outputFile = join(out, "github-output");
      await run(process.execPath, ["--input-type=module", "-e", script], {
        cwd: root,
        env: { ...process.env, GITHUB_OUTPUT: outputFile, OWNER: "SomeOrg" },
        timeout: 60_000,
      });
      const outputs = Object.fromEntries(
        readFileSync(outputFile, "utf8")
          .trim()
          .split("\n")
          .map((line) => line.split(/=(.*)/s).slice(0, 2)),
      );
      const major = process.versions.node.split(".")[0];
      const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
      assert.equal(outputs.image, `ghcr.io/someorg/lithops-aca-default-node${major}:${version}`);
      assert.match(outputs.digest!, /^[0-9a-f]{64}$/);
      assert.equal(outputs.dockerfile, join(outputs.dir!, STAGED_DOCKERFILE));
      assert.ok(readFileSync(join(root, outputs.dockerfile!), "utf8").endsWith(workerLayer()));
    } finally {
      rmSync(out, { recursive: true, force: true });
      rmSync(join(root, ".lithops-aca/release"), { recursive: true, force: true });
    }
  });
});
