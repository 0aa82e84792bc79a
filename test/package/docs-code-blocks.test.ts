import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { packageRoot } from "../../protocol/version.ts";
import { type DocBlock, docBlocks } from "../support/doc-blocks.ts";
import { linkRepositoryPackages, removeTrial, run, runOk, trialProject } from "../support/package-trial.ts";

/** What a block's program is called in the trial project: its file and line, as a file name. */
const fileName = (block: DocBlock) => `${block.where.replace(/[^\w]+/g, "-")}${block.language === "ts" ? ".ts" : ".mjs"}`;

/**
 * Every JavaScript and TypeScript block of README.md and docs/*.md, run as a user would
 * paste it into a project that installed the packed package (issue 17): JavaScript on plain
 * `node`, TypeScript compiled with `tsc --strict` and the output run. Blocks marked `azure`
 * need an Azure stack or the Pulumi CLI: they are only compiled (TypeScript) or parsed
 * (JavaScript). They run one after another on the local backend of the trial's home folder.
 */
describe("every code block of the README and docs/ runs from the installed package", { timeout: 30 * 60_000 }, () => {
  const blocks = docBlocks(packageRoot());
  let dir: string;
  let app: string;
  /** tsc's complaints, by block file. */
  const typeErrors = new Map<string, string[]>();

  before(() => {
    ({ dir, app } = trialProject());
    // docs/plots-and-summaries.md's plot() needs the optional plotting peers, as its text says.
    linkRepositoryPackages(app, ["vega", "vega-lite"]);
    mkdirSync(join(app, "blocks"));
    for (const block of blocks) {
      // `export {}` makes a block without imports a module, where top-level await is allowed, as in a .mjs file.
      writeFileSync(join(app, "blocks", fileName(block)), block.language === "ts" ? `${block.code}\nexport {};\n` : `${block.code}\n`);
    }
    writeFileSync(
      join(app, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: "nodenext",
          moduleResolution: "nodenext",
          target: "es2022",
          lib: ["es2023", "esnext.disposable"],
          types: ["node"],
          skipLibCheck: true,
          outDir: "out",
          rootDir: "blocks",
        },
        include: ["blocks/*.ts"],
      }),
    );
    // What the blocks read: files a user would have in the folder.
    writeFileSync(join(app, "words.txt"), "one two three\nfour five\n");
    writeFileSync(join(app, "big.csv"), Array.from({ length: 1000 }, (_, i) => `${i},${i * i}`).join("\n"));
    const tsc = run(process.execPath, [join(app, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], app);
    for (const line of `${tsc.stdout}${tsc.stderr}`.split("\n")) {
      const file = /^blocks\/([^(]+)\(/.exec(line)?.[1];
      if (file) typeErrors.set(file, [...(typeErrors.get(file) ?? []), line]);
    }
  });

  after(() => {
    if (dir) removeTrial(dir);
  });

  it("finds the blocks: JavaScript and TypeScript, some marked azure", () => {
    assert.ok(blocks.some((b) => b.language === "js" && !b.azure));
    assert.ok(blocks.some((b) => b.language === "ts" && !b.azure));
    assert.ok(blocks.some((b) => b.azure));
  });

  for (const block of blocks) {
    const what = `${block.where} (${block.language === "ts" ? "TypeScript" : "JavaScript"}${block.azure ? ", azure: checked only" : ""})`;
    it(what, () => {
      const file = fileName(block);
      if (block.language === "ts") {
        assert.deepEqual(typeErrors.get(file) ?? [], [], `tsc --strict finds errors in ${block.where}`);
      } else {
        runOk(process.execPath, ["--check", join("blocks", file)], app);
      }
      if (block.azure) return;
      const program = block.language === "ts" ? join("out", file.replace(/\.ts$/, ".js")) : join("blocks", file);
      const result = run(process.execPath, [program], app, { timeoutMs: 180_000 });
      assert.equal(result.status, 0, `${block.where} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
    });
  }
});
