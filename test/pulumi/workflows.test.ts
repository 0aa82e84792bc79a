import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, it } from "node:test";
import { build } from "esbuild";
import { parse } from "yaml";
import { STAGED_DOCKERFILE, workerLayer } from "../../components/image-context.ts";

/**
 * The example workflows in docs/ stay valid and current: they pass a workflow linter
 * (@action-validator/cli, a devDependency), the GitOps workflow runs on every change that
 * changes an image or the program, every action runs on a current Node.js runtime, and the
 * release workflow builds the default runtime the way a stack does, for each supported major.
 */
const root = fileURLToPath(new URL("../..", import.meta.url));
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

type Workflow = {
  on: Record<string, { paths?: string[] }>;
  env?: Record<string, string>;
  jobs: Record<
    string,
    { steps: { uses?: string; run?: string; id?: string; with?: Record<string, unknown> }[]; strategy?: { matrix: Record<string, unknown[]> } }
  >;
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

    it(`${file}: every action runs on Node 24`, () => {
      const uses = Object.values(load(file).jobs).flatMap((job) => job.steps.map((step) => step.uses).filter((u): u is string => !!u));
      assert.ok(uses.length > 0);
      for (const use of uses) {
        const [action, ref] = use.split("@");
        const minimum = NODE24_MAJORS[action!];
        assert.ok(minimum !== undefined, `${use}: not known to run on node24; add it to NODE24_MAJORS once checked`);
        assert.ok(Number(/^v(\d+)/.exec(ref ?? "")?.[1]) >= minimum, `${use}: ${action} runs on node24 from v${minimum}`);
      }
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
