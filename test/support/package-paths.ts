import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot, WORKER_BUNDLE } from "../../protocol/version.ts";

/** What the package starts as processes, as built by `npm run build`: tests run these, not the sources. */
const manifest = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { bin: Record<string, string> };

/** The `lithops-aca` command (package.json's bin), plain JavaScript. */
export const CLI_BIN = join(packageRoot(), manifest.bin["lithops-aca"]!);
/** The bundled worker, the program a runtime image runs. */
export const WORKER_BIN = join(packageRoot(), WORKER_BUNDLE);
