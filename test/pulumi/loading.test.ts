import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { parse } from "yaml";
import { runtimeResourceName } from "../../azure/runtime-name.ts";
import { REPO_ROOT } from "../support/package-paths.ts";

/**
 * A real `pulumi up` runs `node <runtime.options.nodeargs> <Pulumi's run.js>`, which
 * dynamic-imports the `main` of Pulumi.yaml (package.json has "type": "module"). These
 * tests load the program the same way, in a child process: plain JavaScript, with only
 * the nodeargs from Pulumi.yaml to make index.ts loadable, and each example stack file
 * as its config. The child runs the program in its own main thread (runProgramHere), not in
 * the harness's worker thread, which would register tsx whatever the nodeargs.
 */
const root = REPO_ROOT;
const project = parse(readFileSync(`${root}/Pulumi.yaml`, "utf8"));
const run = promisify(execFile);

/**
 * Runs the program under mocks in one fresh node with the given flags, once per stack file, and
 * returns each stack's outputs. The first run loads it as Pulumi does; the next ones import it
 * afresh (a query string), since one program declares one stack per process.
 */
async function loadInChild(nodeargs: string[], stacks: string[]): Promise<Record<string, Record<string, any>>> {
  const namespace = `${project.name}:`;
  const program = pathToFileURL(`${root}/${project.main}`).href;
  const scenarios = stacks.map((stack, i) => {
    const stackFile = parse(readFileSync(`${root}/Pulumi.${stack}.yaml`, "utf8")).config as Record<string, unknown>;
    const config = Object.fromEntries(
      Object.entries(stackFile)
        .filter(([k]) => k.startsWith(namespace))
        .map(([k, v]) => [k.slice(namespace.length), v]),
    );
    return { stack, location: stackFile["azure-native:location"], config, program: i === 0 ? program : `${program}?stack=${stack}` };
  });
  const script = `
    import { resolve } from "node:path";
    import { pathToFileURL } from "node:url";
    const { runProgramHere } = await import(pathToFileURL(resolve("test/support/pulumi-program-run.ts")).href);
    const outputs = {};
    for (const scenario of ${JSON.stringify(scenarios)}) outputs[scenario.stack] = (await runProgramHere(scenario)).outputs;
    process.stdout.write(JSON.stringify(outputs));
  `;
  const { stdout } = await run(process.execPath, [...nodeargs, "--input-type=module", "-e", script], { cwd: root, timeout: 60_000 });
  return JSON.parse(stdout);
}

describe("pulumi program: loads the way Pulumi.yaml tells `pulumi up` to", () => {
  /** Both stack files' outputs, from one child for both tests (a child's start is most of a load's CPU). */
  let loaded: Promise<Record<string, Record<string, any>>> | undefined;
  const loadedWithNodeargs = () => (loaded ??= loadInChild(project.runtime.options.nodeargs.split(" "), ["dev", "prod"]));

  it("Pulumi.yaml: nodejs without ts-node, tsx as the loader, index.ts as main", () => {
    assert.equal(project.name, "lithops-aca");
    assert.equal(project.runtime.name, "nodejs");
    assert.equal(project.runtime.options.typescript, false);
    assert.equal(project.runtime.options.nodeargs, "--import tsx");
    assert.equal(project.main, "index.ts");
    assert.ok(existsSync(`${root}/${project.main}`));
    const pkg = JSON.parse(readFileSync(`${root}/package.json`, "utf8"));
    assert.equal(pkg.type, "module", "Pulumi imports an ES module program with import()");
  });

  for (const [stack, expected] of [
    [
      "dev",
      [
        ["default", 512],
        ["imaging", 2048],
      ],
    ],
    [
      "prod",
      [
        ["default", 2048],
        ["imaging", 4096],
      ],
    ],
  ] as const) {
    it(`Pulumi.${stack}.yaml deploys its runtimes when loaded with the nodeargs`, async () => {
      const outputs = (await loadedWithNodeargs())[stack]!;
      assert.deepEqual(
        outputs.runtimes.map((r: { name: string; memory: number; appName: string }) => [r.name, r.memory, r.appName]),
        expected.map(([name, memory]) => [name, memory, runtimeResourceName(name, memory)]),
      );
    });
  }

  it("without the nodeargs, node cannot load the program (so the tests above depend on them)", async () => {
    const script = `import { pathToFileURL } from "node:url"; await import(pathToFileURL(${JSON.stringify(`${root}/${project.main}`)}).href);`;
    await assert.rejects(run(process.execPath, ["--input-type=module", "-e", script], { cwd: root, timeout: 30_000 }), /ERR_UNKNOWN_FILE_EXTENSION/);
  });
});
