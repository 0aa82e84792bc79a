import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, it } from "node:test";

/**
 * DESIGN.md's one direction of dependency, checked on the import statements: protocol/
 * (the wire contract) depends on nothing of ours; azure/ (SDK plumbing, naming rules) on
 * protocol/; client/, worker/, components/, local/ on those two (client may load local/
 * and deploy/ lazily, with a dynamic import); deploy/ (driving Pulumi) sits on
 * components/ and client/; cli/ on top. The worker bundle holds protocol/, azure/,
 * worker/ and client/, so those must not import anything else statically.
 */
const root = resolve(import.meta.dirname, "../..");

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|mjs|cjs|js)$/.test(entry.name) ? [path] : [];
  });
}

/** Top-level directories of ours that a file imports, split into static and dynamic imports. */
function importedDirs(file: string): { static: Set<string>; dynamic: Set<string> } {
  const text = readFileSync(join(root, file), "utf8");
  const found = { static: new Set<string>(), dynamic: new Set<string>() };
  const record = (kind: "static" | "dynamic", specifier: string): void => {
    if (!specifier.startsWith(".")) return;
    const target = relative(root, resolve(join(root, file, ".."), specifier));
    found[kind].add(target.split("/")[0]);
  };
  for (const match of text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']/gm)) record("static", match[1]);
  for (const match of text.matchAll(/^\s*import\s+["']([^"']+)["']/gm)) record("static", match[1]);
  for (const match of text.matchAll(/import\(\s*["']([^"']+)["']\s*\)/g)) record("dynamic", match[1]);
  return found;
}

const allowed: Record<string, { static: string[]; dynamic: string[] }> = {
  protocol: { static: ["protocol"], dynamic: [] },
  azure: { static: ["azure", "protocol"], dynamic: [] },
  worker: { static: ["worker", "protocol", "azure"], dynamic: [] },
  client: { static: ["client", "protocol", "azure"], dynamic: ["local", "deploy"] },
  local: { static: ["local", "protocol", "azure"], dynamic: [] },
  components: { static: ["components", "protocol", "azure"], dynamic: [] },
  deploy: { static: ["deploy", "components", "client", "protocol", "azure"], dynamic: [] },
  cli: { static: ["cli", "deploy", "client", "local", "components", "protocol", "azure"], dynamic: ["cli", "client", "local", "deploy"] },
};

describe("layout: one direction of dependency", () => {
  for (const [dir, rule] of Object.entries(allowed)) {
    it(`${dir}/ imports only ${rule.static.join(", ")}${rule.dynamic.length ? ` (and ${rule.dynamic.join(", ")} lazily)` : ""}`, () => {
      const files = sourceFiles(dir);
      assert.ok(files.length > 0, `${dir}/ has source files`);
      for (const file of files) {
        const imports = importedDirs(file);
        for (const target of imports.static) assert.ok(rule.static.includes(target), `${file} imports ${target}/ statically`);
        for (const target of imports.dynamic) {
          assert.ok([...rule.static, ...rule.dynamic].includes(target), `${file} imports ${target}/`);
        }
      }
    });
  }
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
