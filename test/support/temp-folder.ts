import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";

/**
 * A temporary folder for the enclosing suite, made before its tests and removed after them;
 * `file(name, text)` writes a file there and returns its path.
 */
export function suiteFolder(prefix: string): { path: () => string; file: (name: string, text: string) => string } {
  let dir = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  return {
    path: () => dir,
    file: (name, text) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
  };
}
