import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, it } from "node:test";

/**
 * DESIGN.md's one direction of dependency, checked on the import statements: protocol/
 * depends on nothing of ours; client/, worker/, components/, local/ only on protocol/
 * (client may load local/ lazily, with a dynamic import, for the embedded backend); the
 * runtime image holds protocol/, worker/ and client/, so those must not import anything else
 * statically.
 */
const root = resolve(import.meta.dirname, "..");

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
  protocol: { static: ["protocol", "package.json"], dynamic: [] },
  worker: { static: ["worker", "protocol", "package.json"], dynamic: [] },
  client: { static: ["client", "protocol"], dynamic: ["local"] },
  local: { static: ["local", "protocol"], dynamic: [] },
  components: { static: ["components", "protocol"], dynamic: [] },
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
