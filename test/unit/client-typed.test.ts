import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import ts from "typescript";
import { repoPath } from "../support/package-paths.ts";

const TYPED_API = repoPath("test/types/typed-api.ts");
// The same file with its @ts-expect-error marks blanked out: a sibling, so that its relative imports resolve alike.
const UNMARKED = TYPED_API.replace(/\.ts$/, ".unmarked.ts");

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

const isMark = (line: string) => line.trim().startsWith("// @ts-expect-error");
const source = readFileSync(TYPED_API, "utf8");
const lines = source.split("\n");
const unmarked = lines.map((line) => (isMark(line) ? "" : line)).join("\n");

// One program holds both versions: building and checking the client's types once, not per case, is what keeps this test quick.
const host = ts.createCompilerHost(COMPILER_OPTIONS);
const readSource = host.getSourceFile.bind(host);
const virtualFiles = new Map([[UNMARKED, unmarked]]);
host.getSourceFile = (name, language, ...rest) => {
  const text = virtualFiles.get(name);
  return text === undefined ? readSource(name, language, ...rest) : ts.createSourceFile(name, text, language);
};
host.fileExists = (
  (exists) => (name: string) =>
    virtualFiles.has(name) || exists(name)
)(host.fileExists.bind(host));
// The client reaches the Pulumi components only through auto-deploy's dynamic import; their Azure provider is some
// 5,600 declaration files that no client type depends on. Left unresolved (any), they cost nothing here.
const UNCHECKED_PACKAGE = /^@pulumi\/azure-native(\/|$)/;
const resolutionCache = ts.createModuleResolutionCache(host.getCurrentDirectory(), host.getCanonicalFileName, COMPILER_OPTIONS);
host.resolveModuleNameLiterals = (literals, containingFile, redirected, options, containingSourceFile) =>
  literals.map((literal) =>
    UNCHECKED_PACKAGE.test(literal.text)
      ? { resolvedModule: undefined }
      : ts.resolveModuleName(
          literal.text,
          containingFile,
          options,
          host,
          resolutionCache,
          redirected,
          ts.getModeForUsageLocation(containingSourceFile, literal, options),
        ),
  );
const program = ts.createProgram([TYPED_API, UNMARKED], COMPILER_OPTIONS, host);

/** tsc --strict's errors in one root file (only that file is checked, and the types it uses), as "line: message". */
function typeErrors(fileName: string): string[] {
  const file = program.getSourceFile(fileName);
  assert.ok(file, `${fileName} is not in the program`);
  return [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)].map(
    (d) => `${file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`,
  );
}

describe("typed client API (tsc --strict)", () => {
  it("compiles with the program's options", () => {
    assert.deepEqual(
      [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()].map((d) => ts.flattenDiagnosticMessageText(d.messageText, " ")),
      [],
    );
  });

  it("infers argument and result types without casts", () => {
    assert.deepEqual(typeErrors(TYPED_API), []);
  });

  it("refuses each wrong argument type marked @ts-expect-error, on the line after the mark", () => {
    const marked = lines.flatMap((line, i) => (isMark(line) ? [i + 2] : []));
    assert.ok(marked.length >= 5, `only ${marked.length} @ts-expect-error lines`);
    const errorLines = new Set(typeErrors(UNMARKED).map((error) => Number(error.split(":")[0])));
    for (const line of marked) assert.ok(errorLines.has(line), `line ${line} (${lines[line - 1].trim()}) compiles without its @ts-expect-error`);
  });
});
