import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { repoPath } from "../support/package-paths.ts";

/**
 * The public API is a recorded contract: the exports of `lithops-aca` and `lithops-aca/pulumi`,
 * as built in dist/ (npm test builds first), match api/*.api.md. Run here, beside the other
 * tiers, rather than as a step before them, so that its work overlaps theirs.
 */
const REPORT_TOOL = repoPath("tools/api-report.mjs");

describe("public API report", () => {
  it("the built declarations match api/lithops-aca.api.md and api/lithops-aca-pulumi.api.md", () => {
    const run = spawnSync(process.execPath, [REPORT_TOOL], { encoding: "utf8", timeout: 300_000 });
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}\n(tools/api-report.mjs exited with ${run.status ?? run.signal})`);
  });
});
