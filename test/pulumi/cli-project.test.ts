import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, it } from "node:test";
import { INLINE_PROJECT_DESCRIPTION, pulumiProject } from "../../deploy/pulumi-project.ts";
import { PulumiProjectError } from "../../deploy/errors.ts";
import { runProgram } from "../support/pulumi-harness.ts";
import { REPO_ROOT, runningModule } from "../support/package-paths.ts";

/**
 * Which Pulumi project the command line works on from a user's folder, and that the inline
 * program it runs when there is none declares the very stack the repository's index.ts does.
 */

const root = REPO_ROOT;
let scratch: string;

before(() => {
  scratch = mkdtempSync(join(tmpdir(), "cli-project-"));
});

after(() => {
  rmSync(scratch, { recursive: true, force: true });
});

function folder(...parts: string[]): string {
  const dir = join(scratch, ...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe("the Pulumi project of a folder", () => {
  it("a Pulumi.yaml in the folder or a parent: the user's own project, Dockerfiles relative to it", () => {
    const own = folder("own");
    writeFileSync(join(own, "Pulumi.yaml"), "name: platform\nruntime: nodejs\n");
    const deep = folder("own", "src", "jobs");
    assert.deepEqual(pulumiProject({}, deep), { kind: "local", workDir: own, root: own });
    assert.deepEqual(pulumiProject({}, root), { kind: "local", workDir: root, root }, "this repository is a Pulumi project of its own");
  });

  it("no Pulumi.yaml: the inline program, stack files in lithops-aca/ of the nearest package folder (else the folder itself)", () => {
    const app = folder("app");
    writeFileSync(join(app, "package.json"), "{}\n");
    const src = folder("app", "src");
    assert.deepEqual(pulumiProject({}, src), { kind: "inline", workDir: join(app, "lithops-aca"), root: app });
    const bare = folder("bare");
    assert.deepEqual(pulumiProject({}, bare), { kind: "inline", workDir: join(bare, "lithops-aca"), root: bare });
  });

  it("the Pulumi.yaml the inline workspace writes is recognised as such, from inside it and from beside it", () => {
    const workDir = folder("ours", "lithops-aca");
    writeFileSync(join(workDir, "Pulumi.yaml"), `name: lithops-aca\nruntime: nodejs\ndescription: "${INLINE_PROJECT_DESCRIPTION}"\n`);
    const expected = { kind: "inline", workDir, root: join(scratch, "ours") };
    assert.deepEqual(pulumiProject({}, workDir), expected);
    assert.deepEqual(pulumiProject({}, folder("ours", "scripts")), expected);
  });

  it("LITHOPS_PULUMI_DIR wins (relative to the folder); node_modules is refused, as the folder or the current one", () => {
    const app = folder("env-app");
    assert.deepEqual(pulumiProject({ LITHOPS_PULUMI_DIR: "infra/stacks" }, app), {
      kind: "inline",
      workDir: join(app, "infra", "stacks"),
      root: join(app, "infra"),
    });
    assert.throws(() => pulumiProject({ LITHOPS_PULUMI_DIR: "node_modules/lithops-aca" }, app), PulumiProjectError);
    const installed = folder("env-app", "node_modules", "lithops-aca");
    assert.throws(() => pulumiProject({}, installed), /inside node_modules: run lithops-aca from your project's folder/);
  });
});

describe("the inline program (deploy/inline-program.ts) under Pulumi's mocks", () => {
  it("declares the same resources and outputs as the repository's index.ts for the same stack config", { timeout: 120_000 }, async () => {
    const config = { runtimes: [{ name: "default" }, { name: "imaging", dockerfile: "runtimes/examples/imaging/Dockerfile", memory: 2048 }] };
    const fromIndex = await runProgram({ stack: "dev", config });
    // A module that exports what the inline program returns, under the names index.ts exports.
    const names = Object.keys(fromIndex.outputs);
    const module = join(scratch, "inline-program.mjs");
    writeFileSync(
      module,
      `import { inlineProgram } from ${JSON.stringify(pathToFileURL(runningModule("deploy/inline-program")).href)};\n` +
        `export const { ${names.join(", ")} } = await inlineProgram(${JSON.stringify(root)})();\n`,
    );
    const inline = await runProgram({ stack: "dev", config, program: pathToFileURL(module).href });
    assert.deepEqual(inline.outputs, fromIndex.outputs);
    assert.deepEqual(inline.secretOutputs, fromIndex.secretOutputs);
    const shape = (run: typeof inline) => run.resources.map((r) => `${r.type} ${r.name}`).sort();
    assert.deepEqual(shape(inline), shape(fromIndex));
  });
});
