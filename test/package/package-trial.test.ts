import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { PulumiStandIn } from "../support/pulumi-standin.ts";
import { ownProgram, removeTrial, run, runOk, trialProject } from "../support/package-trial.ts";

/**
 * What a new user does with the published package, outside this repository: install the
 * tarball into an empty project (no tsx, no Pulumi providers), then use the client from an
 * ES module, from CommonJS and from TypeScript under `tsc --strict`, run the command line,
 * and deploy runtimes from a platform team's own Pulumi program (under Pulumi's mocks).
 */

const MAP_100 = `await fexec.map((x) => x * 3, Array.from({ length: 100 }, (_, i) => i));
const results = await fexec.getResult();
console.log(JSON.stringify({ count: results.length, sum: results.reduce((a, b) => a + b, 0) }));
await fexec.close();`;
/** 3 x (0 + 1 + ... + 99) */
const EXPECTED = { count: 100, sum: 14_850 };

const TYPED_PROGRAM = `import { FunctionExecutor, RemoteCallError, Storage, args } from "lithops-aca";

const fexec = new FunctionExecutor({ maxWorkers: 2 });
const triple = (x: number): number => x * 3;
await fexec.map(triple, Array.from({ length: 100 }, (_, i) => i));
const results = (await fexec.getResult()) as number[];
await fexec.callAsync((a: number, b: number) => a + b, args(1, 2));
const storage: Storage = new Storage(fexec);
console.log(JSON.stringify({ count: results.length, sum: results.reduce((a, b) => a + b, 0), bucket: typeof storage.bucket, error: RemoteCallError.name }));
await fexec.close();
`;

/**
 * The `lithops-aca` command npm linked into a project's node_modules/.bin: what `npx` runs,
 * without npm's start-up (about a second of CPU a call). The `npx` test calls it through npx.
 */
const installedCli = (project: string) => join(project, "node_modules/.bin/lithops-aca");

function lastJsonLine(stdout: string): Record<string, unknown> {
  const line = stdout
    .trim()
    .split("\n")
    .reverse()
    .find((l) => l.startsWith("{"));
  assert.ok(line, `the program printed a JSON result line:\n${stdout}`);
  return JSON.parse(line) as Record<string, unknown>;
}

describe("the package from outside the repository (npm pack, installed from the tarball)", { timeout: 15 * 60_000 }, () => {
  let dir: string;
  let tarball: string;
  let app: string;
  let program: string | undefined;

  before(() => {
    ({ dir, tarball, app } = trialProject());
  });

  after(() => {
    if (dir) removeTrial(dir);
  });

  it("installs JavaScript only: no tsx, no TypeScript sources, no Pulumi providers", () => {
    const pkg = join(app, "node_modules/lithops-aca");
    assert.ok(existsSync(join(pkg, "dist/client/index.js")));
    assert.ok(existsSync(join(pkg, "dist/client/index.d.ts")));
    assert.ok(existsSync(join(pkg, "dist/bundle/worker.mjs")));
    for (const absent of ["client/index.ts", "test", "bench", "Pulumi.dev.yaml"]) assert.ok(!existsSync(join(pkg, absent)), `the package ships no ${absent}`);
    for (const absent of ["tsx", "@pulumi/pulumi", "@pulumi/azure-native", "@pulumi/docker", "vega"]) {
      assert.ok(!existsSync(join(app, "node_modules", absent)), `installing lithops-aca brings no ${absent}`);
    }
  });

  it("runs a 100-call map from an ES module on plain node", () => {
    writeFileSync(join(app, "map.mjs"), `import { FunctionExecutor } from "lithops-aca";\nconst fexec = new FunctionExecutor();\n${MAP_100}\n`);
    assert.deepEqual(lastJsonLine(runOk(process.execPath, ["map.mjs"], app)), EXPECTED);
  });

  it("runs a 100-call map from CommonJS (require)", () => {
    writeFileSync(
      join(app, "map.cjs"),
      `const { FunctionExecutor } = require("lithops-aca");\n(async () => {\nconst fexec = new FunctionExecutor();\n${MAP_100}\n})();\n`,
    );
    const result = run(process.execPath, ["map.cjs"], app);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(lastJsonLine(result.stdout), EXPECTED);
  });

  it("type-checks under tsc --strict with nodenext and with bundler resolution, and the compiled program runs", () => {
    writeFileSync(join(app, "app.ts"), TYPED_PROGRAM);
    const base = { target: "ES2022", strict: true, types: ["node"] };
    // The package's declaration files are checked themselves once (skipLibCheck false, nodenext),
    // with what they bring (@types/node, zod), not TypeScript's own lib.*.d.ts (a third of the time);
    // under bundler resolution the program is checked against them, the slow library check skipped.
    writeFileSync(
      join(app, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { ...base, skipLibCheck: false, skipDefaultLibCheck: true, module: "nodenext", moduleResolution: "nodenext", outDir: "out" },
        files: ["app.ts"],
      }),
    );
    writeFileSync(
      join(app, "tsconfig.bundler.json"),
      JSON.stringify({ compilerOptions: { ...base, skipLibCheck: true, module: "esnext", moduleResolution: "bundler", noEmit: true }, files: ["app.ts"] }),
    );
    const tsc = join(app, "node_modules/typescript/bin/tsc");
    // One build-mode run checks both projects, reusing the files they share (lib, @types/node): a sixth less CPU than two tsc -p.
    runOk(process.execPath, [tsc, "--build", "tsconfig.bundler.json", "tsconfig.json"], app);
    assert.deepEqual(lastJsonLine(runOk(process.execPath, ["out/app.js"], app)), { ...EXPECTED, bucket: "string", error: "RemoteCallError" });
  });

  it("`npx lithops-aca hello -b local` runs a call on the local backend", () => {
    const result = run("npx", ["--no-install", "lithops-aca", "hello", "-b", "local"], app);
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /lithops-aca is working/);
  });

  it("a command or option that drives Pulumi says which optional packages to install", () => {
    const list = run(installedCli(app), ["runtime", "list", "--stack", "dev"], app);
    assert.equal(list.status, 1);
    assert.match(list.stderr, /`lithops-aca runtime list` on a stack drives Pulumi and needs @pulumi\/pulumi.*npm install .*@pulumi\/azure-native/);
    writeFileSync(
      join(app, "stack.mjs"),
      `import { FunctionExecutor } from "lithops-aca";
const fexec = new FunctionExecutor({ stack: "dev" });
try { await fexec.callAsync((x) => x, 1); } catch (error) { console.log(JSON.stringify({ name: error.name, message: error.message })); }
await fexec.close();
`,
    );
    const bound = lastJsonLine(runOk(process.execPath, ["stack.mjs"], app));
    assert.equal(bound.name, "MissingPackageError");
    assert.match(String(bound.message), /stack 'dev' drives Pulumi .*npm install/);
  });

  it("examples/own-program deploys two runtimes with lithops-aca/pulumi, under Pulumi's mocks", () => {
    program = ownProgram(dir, tarball, app);
    runOk("npm", ["run", "build"], program);
    const result = run("npm", ["test"], program);
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
    // The TAP reporter (Node 20) prints "# pass 2", the spec reporter (Node 22+) "ℹ pass 2".
    assert.match(result.stdout, /[#ℹ] pass 2\b/);
    assert.match(result.stdout, /[#ℹ] fail 0\b/);
  });

  it("the installed command line drives the user's own Pulumi project (stand-in pulumi): deploy, list, clean without destroy", () => {
    assert.ok(program, "examples/own-program is installed");
    const pulumi = new PulumiStandIn({ current: "dev", stacks: { dev: { config: { "azure-native:location": "westeurope" }, outputs: {} } } });
    try {
      const cli = (...args: string[]) => run(installedCli(program!), args, program!, { pathFirst: pulumi.dir });
      const deploy = cli("runtime", "deploy", "default", "--memory", "1024", "--stack", "dev");
      assert.equal(deploy.status, 0, `${deploy.stdout}\n${deploy.stderr}`);
      assert.match(deploy.stdout, new RegExp(`Pulumi project in ${program!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
      const runtimes = pulumi.state().stacks.dev!.config["platform-lithops:runtimes"] as { name: string; memory?: number }[];
      assert.ok(
        runtimes.some((r) => r.name === "default" && r.memory === 1024),
        `the project's runtimes config lists default at 1024 MB: ${JSON.stringify(runtimes)}`,
      );
      const list = cli("runtime", "list", "--stack", "dev");
      assert.equal(list.status, 0, list.stderr);
      assert.match(list.stdout, /default\s+1024 MB/);
      assert.equal(cli("clean", "--stack", "dev").status, 0);
      const commands = pulumi.calls().map((c) => c.args[0]!);
      assert.ok(commands.includes("up"), `pulumi up ran: ${commands.join(", ")}`);
      assert.ok(!commands.includes("destroy"), "clean never destroys");
      assert.ok(
        pulumi.calls().every((c) => c.cwd === program),
        "every pulumi call runs in the user's project",
      );
    } finally {
      pulumi.remove();
    }
  });
});
