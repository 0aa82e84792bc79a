import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, it } from "node:test";
import { REPO_ROOT } from "../support/package-paths.ts";

/**
 * DESIGN.md's one direction of dependency, checked on the import statements: protocol/
 * (the wire contract) depends on nothing of ours; azure/ (storage connections, Azure naming
 * rules) on protocol/; runtime-model/ (the backend interface, memory table, defaults) on
 * those two; client/, worker/, components/, local/ on those three (client may load local/
 * lazily, and deploy/ only from client/auto-deploy.ts, the one upward edge); deploy/
 * (driving Pulumi) sits on components/ and client/; cli/ on top. The worker bundle holds
 * protocol/, azure/, runtime-model/, worker/ and client/, so those import nothing else statically.
 */
const root = REPO_ROOT;
const SOURCE_DIRS = ["protocol", "azure", "runtime-model", "client", "worker", "local", "components", "deploy", "cli"];

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|mjs|cjs|js)$/.test(entry.name) ? [path] : [];
  });
}

/** The files of ours that `file` imports (paths from the root), split into static (type-only included) and dynamic imports. */
function importsOf(file: string): { static: Set<string>; dynamic: Set<string> } {
  const text = readFileSync(join(root, file), "utf8");
  const found = { static: new Set<string>(), dynamic: new Set<string>() };
  const record = (kind: "static" | "dynamic", specifier: string): void => {
    if (specifier.startsWith(".")) found[kind].add(relative(root, resolve(join(root, file, ".."), specifier)));
  };
  for (const match of text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']/gm)) record("static", match[1]);
  for (const match of text.matchAll(/^\s*import\s+["']([^"']+)["']/gm)) record("static", match[1]);
  for (const match of text.matchAll(/import\(\s*["']([^"']+)["']\s*\)/g)) record("dynamic", match[1]);
  return found;
}

const topDir = (path: string): string => path.split("/")[0];

const allowed: Record<string, { static: string[]; dynamic: string[] }> = {
  protocol: { static: ["protocol"], dynamic: [] },
  azure: { static: ["azure", "protocol"], dynamic: [] },
  "runtime-model": { static: ["runtime-model", "azure", "protocol"], dynamic: [] },
  worker: { static: ["worker", "runtime-model", "azure", "protocol"], dynamic: [] },
  client: { static: ["client", "runtime-model", "azure", "protocol"], dynamic: ["local"] },
  local: { static: ["local", "runtime-model", "azure", "protocol"], dynamic: [] },
  components: { static: ["components", "runtime-model", "azure", "protocol"], dynamic: [] },
  deploy: { static: ["deploy", "components", "client", "runtime-model", "azure", "protocol"], dynamic: [] },
  cli: { static: ["cli", "deploy", "client", "local", "components", "runtime-model", "azure", "protocol"], dynamic: ["cli", "client", "local", "deploy"] },
};

/** client -> deploy, for auto-deploy and binding an executor to a stack: the one upward edge, in one file. */
const UPWARD_EDGE = { file: "client/auto-deploy.ts", to: "deploy" };

describe("layout: one direction of dependency", () => {
  it("every top-level source folder has a rule", () => {
    assert.deepEqual(Object.keys(allowed).sort(), [...SOURCE_DIRS].sort());
  });
  for (const [dir, rule] of Object.entries(allowed)) {
    it(`${dir}/ imports only ${rule.static.join(", ")}${rule.dynamic.length ? ` (and ${rule.dynamic.join(", ")} lazily)` : ""}`, () => {
      const files = sourceFiles(dir);
      assert.ok(files.length > 0, `${dir}/ has source files`);
      for (const file of files) {
        const imports = importsOf(file);
        for (const target of imports.static) assert.ok(rule.static.includes(topDir(target)), `${file} imports ${target} statically`);
        for (const target of imports.dynamic) {
          const upward = file === UPWARD_EDGE.file && topDir(target) === UPWARD_EDGE.to;
          assert.ok(upward || [...rule.static, ...rule.dynamic].includes(topDir(target)), `${file} imports ${target}`);
        }
      }
    });
  }
});

/** Import cycles reachable from `files`, each as a list of files; type-only imports count, lazy `import()` does not. */
function importCycles(files: string[]): string[][] {
  const edges = new Map<string, string[]>();
  const targetsOf = (file: string): string[] => {
    if (!edges.has(file))
      edges.set(
        file,
        [...importsOf(file).static].filter((target) => target !== file && target.endsWith(".ts")),
      );
    return edges.get(file) ?? [];
  };
  const cycles: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, "open");
    stack.push(file);
    for (const target of targetsOf(file)) {
      if (state.get(target) === "open") cycles.push([...stack.slice(stack.indexOf(target)), target]);
      else if (!state.has(target)) visit(target);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of files) if (!state.has(file)) visit(file);
  return cycles;
}

describe("layout: no import cycles", () => {
  it("no source file reaches itself through its imports", () => {
    const cycles = importCycles(SOURCE_DIRS.flatMap(sourceFiles).filter((file) => file.endsWith(".ts")));
    assert.deepEqual(
      cycles.map((cycle) => cycle.join(" -> ")),
      [],
    );
  });
  it("the check finds a cycle when there is one", () => {
    assert.equal(importCycles(["test/support/cycle-a.ts"]).length, 1);
  });
});

describe("layout: what the package starts as processes exists in the build", () => {
  it("package.json's bin, the worker bundle with its thread entry, and the parent watchdog are built files", async () => {
    const { CLI_BIN, WORKER_BIN } = await import("../support/package-paths.ts");
    const { PARENT_WATCHDOG } = await import("../../local/azurite.ts");
    for (const path of [CLI_BIN, WORKER_BIN, join(WORKER_BIN, "../call-thread.mjs"), PARENT_WATCHDOG]) {
      assert.ok(existsSync(path), `${path} exists (run npm run build)`);
    }
    // The worker bundle runs on plain Node: no TypeScript loader, no import of the sources.
    const bundle = readFileSync(WORKER_BIN, "utf8");
    assert.doesNotMatch(bundle, /from\s*["'][^"']*\.ts["']|tsx\/esm/);
  });
});
