import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** A JavaScript or TypeScript code block of the documentation. */
export interface DocBlock {
  /** `README.md:63`: the file and the line of the opening fence. */
  where: string;
  language: "js" | "ts";
  /** Marked `azure` after the language: needs an Azure stack or the Pulumi CLI, so it is only checked, not run. */
  azure: boolean;
  code: string;
}

const LANGUAGES: Record<string, DocBlock["language"]> = { js: "js", javascript: "js", ts: "ts", typescript: "ts" };

/** The fenced JavaScript and TypeScript blocks of `README.md` and `docs/*.md` under `root`, in file order. */
export function docBlocks(root: string): DocBlock[] {
  const files = [
    "README.md",
    ...readdirSync(join(root, "docs"))
      .filter((name) => name.endsWith(".md"))
      .sort()
      .map((name) => `docs/${name}`),
  ];
  const blocks: DocBlock[] = [];
  for (const file of files) {
    const lines = readFileSync(join(root, file), "utf8").split("\n");
    for (let k = 0; k < lines.length; k++) {
      const fence = /^```(\w+)(.*)$/.exec(lines[k]);
      if (!fence) continue;
      const end = lines.findIndex((line, j) => j > k && line.startsWith("```"));
      const language = LANGUAGES[fence[1]];
      if (language) {
        blocks.push({ where: `${file}:${k + 1}`, language, azure: fence[2].trim().split(/\s+/).includes("azure"), code: lines.slice(k + 1, end).join("\n") });
      }
      k = end;
    }
  }
  return blocks;
}
