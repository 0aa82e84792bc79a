import { tsImport } from "tsx/esm/api";
import { repoPath } from "./package-paths.ts";

/**
 * test/support/class-shapes.ts loaded through tsx, whether the tests run from their sources or
 * from their build (dist/test/): what tsx's compiler adds to classes and functions (`__name`
 * calls, static blocks) is part of what a user running TypeScript with tsx ships.
 */
export async function classShapesThroughTsx(): Promise<typeof import("./class-shapes.ts").classShapes> {
  const module = (await tsImport(repoPath("test/support/class-shapes.ts"), import.meta.url)) as typeof import("./class-shapes.ts");
  return module.classShapes;
}
