import assert from "node:assert/strict";
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { contextDigest, IMAGE_PACKAGE_DIR, stageImageContext, STAGED_DOCKERFILE, treeBytes } from "../../components/image-context.ts";
import { BUNDLE_DIR, packageRoot, WORKER_BUNDLE } from "../../protocol/version.ts";
import { imageBuiltFrom, runProgram } from "../support/pulumi-harness.ts";

/**
 * A runtime image is built from a staged context that holds only what the image contains:
 * the runtime's Dockerfile folder and the worker bundle. So editing the README, a test or
 * the stack's YAML changes no image input (no rebuild, no new revision), and editing the
 * worker or the runtime's folder does.
 */
describe("runtime image build context", () => {
  let project: string;
  let dockerfile: string;
  const stage = (name: string, bundle?: string) => stageImageContext(dockerfile, join(project, ".lithops-aca/build"), name, bundle);

  before(() => {
    project = mkdtempSync(join(tmpdir(), "image-context-"));
    mkdirSync(join(project, "runtimes/geo"), { recursive: true });
    dockerfile = join(project, "runtimes/geo/Dockerfile");
    writeFileSync(dockerfile, "FROM node:22-bookworm-slim\nWORKDIR /app\nCOPY package.json ./\nRUN npm install\n");
    writeFileSync(join(project, "runtimes/geo/package.json"), '{ "dependencies": { "left-pad": "1.3.0" } }\n');
    writeFileSync(join(project, "README.md"), "# my project\n");
    writeFileSync(join(project, "Pulumi.dev.yaml"), "config: {}\n");
  });

  after(() => rmSync(project, { recursive: true, force: true }));

  it("holds the Dockerfile's folder, the worker bundle without source maps, and the Dockerfile with the worker layer", () => {
    const staged = stage("geo");
    assert.ok(existsSync(join(staged.dir, "package.json")));
    assert.ok(!existsSync(join(staged.dir, "README.md")), "nothing from outside the runtime's folder");
    assert.ok(existsSync(join(staged.dir, ".lithops-aca-worker", WORKER_BUNDLE)));
    assert.ok(!existsSync(join(staged.dir, ".lithops-aca-worker", `${WORKER_BUNDLE}.map`)));
    const text = readFileSync(join(staged.dir, STAGED_DOCKERFILE), "utf8");
    assert.ok(text.startsWith(readFileSync(dockerfile, "utf8").trimEnd()), "the user's Dockerfile comes first, unchanged");
    assert.ok(text.includes(`CMD ["node", "${IMAGE_PACKAGE_DIR}/${WORKER_BUNDLE}"]`));
    const layer = text.slice(readFileSync(dockerfile, "utf8").trimEnd().length);
    const user = layer.match(/^USER (.+)$/m);
    assert.ok(user && layer.indexOf(user[0]) < layer.indexOf("CMD "), "the worker layer sets a USER before its CMD");
    assert.equal(user[1], "${LITHOPS_USER}");
    assert.match(layer, /^ARG LITHOPS_USER=1000:1000$/m, "non-root by default");
    const manifest = JSON.parse(readFileSync(join(staged.dir, ".lithops-aca-worker/package.json"), "utf8")) as {
      name: string;
      exports: Record<string, string>;
    };
    assert.equal(manifest.name, "lithops-aca", "functions in the image resolve `lithops-aca` (nested jobs) to the bundled client");
    assert.match(manifest.exports["."]!, /^\.\/dist\/bundle\/client\.mjs$/);
  });

  it("the worker layer's files stay within 20 MB over the Node.js base image", () => {
    const staged = stage("geo-size");
    assert.ok(treeBytes(join(staged.dir, ".lithops-aca-worker")) < 20 * 1024 * 1024);
  });

  it("editing the README, a test or the stack's YAML leaves the context unchanged; the runtime's folder or the worker changes it", () => {
    const before = stage("geo-a").digest;
    writeFileSync(join(project, "README.md"), "# my project, edited\n");
    appendFileSync(join(project, "Pulumi.dev.yaml"), "# edited\n");
    mkdirSync(join(project, "test"), { recursive: true });
    writeFileSync(join(project, "test/new.test.ts"), "export {};\n");
    assert.equal(stage("geo-b").digest, before, "files outside the runtime's folder are not image inputs");

    writeFileSync(join(project, "runtimes/geo/package.json"), '{ "dependencies": { "left-pad": "1.3.1" } }\n');
    const afterRuntimeEdit = stage("geo-c").digest;
    assert.notEqual(afterRuntimeEdit, before, "a change in the runtime's folder is an image input");

    const editedBundle = join(project, "edited-bundle");
    cpSync(join(packageRoot(), BUNDLE_DIR), editedBundle, { recursive: true });
    appendFileSync(join(editedBundle, "worker.mjs"), "\n// a worker change\n");
    assert.notEqual(stage("geo-d", editedBundle).digest, afterRuntimeEdit, "a change in the worker is an image input");
  });

  it("restaging an image replaces only its own earlier context, not that of an image whose name it starts", () => {
    const longer = stage("geo-slim");
    const own = stage("geo-e");
    writeFileSync(join(project, "runtimes/geo/extra.txt"), "changed\n");
    const restaged = stage("geo-e");
    assert.notEqual(restaged.dir, own.dir);
    assert.ok(!existsSync(own.dir), "the image's earlier context is removed");
    assert.ok(existsSync(join(longer.dir, STAGED_DOCKERFILE)), "another image's context survives");
    stage("geo");
    assert.ok(existsSync(join(longer.dir, STAGED_DOCKERFILE)), "staging 'geo' keeps the context of 'geo-slim'");
  });

  it("the program passes the staged context's digest to the image build, so Pulumi sees a change exactly when the context changes", async () => {
    const run = await runProgram({ config: { runtimes: [{ name: "default" }] } });
    const image = imageBuiltFrom(run, "runtimes/default/Dockerfile");
    assert.equal(image.inputs.build.args.LITHOPS_CONTEXT_DIGEST, contextDigest(image.inputs.build.context));
  });
});
