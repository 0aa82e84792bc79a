import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import ts from "typescript";

const TYPED_API = fileURLToPath(new URL("../types/typed-api.ts", import.meta.url));

const COMPILER_OPTIONS: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  target: ts.ScriptTarget.ES2022,
  lib: ["lib.es2023.d.ts", "lib.esnext.disposable.d.ts"],
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  allowImportingTsExtensions: true,
  skipLibCheck: true,
  types: ["node"],
};

/** tsc --strict's errors for test/types/typed-api.ts with `text` as its contents, as "line: message". */
function typeErrors(text: string): string[] {
  const host = ts.createCompilerHost(COMPILER_OPTIONS);
  const readSource = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, ...rest) => (name === TYPED_API ? ts.createSourceFile(name, text, language) : readSource(name, language, ...rest));
  const program = ts.createProgram([TYPED_API], COMPILER_OPTIONS, host);
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file?.fileName === TYPED_API)
    .map((d) => `${d.file!.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`);
}

describe("typed client API (tsc --strict)", () => {
  const source = readFileSync(TYPED_API, "utf8");

  it("infers argument and result types without casts", () => {
    assert.deepEqual(typeErrors(source), []);
  });

  it("refuses each wrong argument type marked @ts-expect-error, on the line after the mark", () => {
    const lines = source.split("\n");
    const marked = lines.flatMap((line, i) => (line.trim().startsWith("// @ts-expect-error") ? [i + 2] : []));
    assert.ok(marked.length >= 5, `only ${marked.length} @ts-expect-error lines`);
    const unmarked = lines.map((line) => (line.trim().startsWith("// @ts-expect-error") ? "" : line)).join("\n");
    const errorLines = new Set(typeErrors(unmarked).map((error) => Number(error.split(":")[0])));
    for (const line of marked) assert.ok(errorLines.has(line), `line ${line} (${lines[line - 1].trim()}) compiles without its @ts-expect-error`);
  });
});
