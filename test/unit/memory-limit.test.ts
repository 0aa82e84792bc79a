import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { cgroupMemoryLimit, memoryLimit } from "../../worker/memory-limit.ts";

const MB = 1024 * 1024;

describe("a worker's memory limit: runtime_memory, or the container's cgroup limit when lower", () => {
  const folder = mkdtempSync(join(tmpdir(), "lithops-cgroup-"));
  after(() => rmSync(folder, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const path = join(folder, name);
    writeFileSync(path, text);
    return path;
  };

  it("reads cgroup v2's memory.max, `max` meaning none, and skips files that do not exist", () => {
    assert.equal(cgroupMemoryLimit([join(folder, "absent"), file("v2", "1073741824\n")]), 1024 * MB);
    assert.equal(cgroupMemoryLimit([file("v2-max", "max\n")]), undefined);
    assert.equal(cgroupMemoryLimit([file("v1-unlimited", "9223372036854771712\n")]), undefined);
    assert.equal(cgroupMemoryLimit([join(folder, "absent")]), undefined);
  });

  it("takes the lower limit and names it", () => {
    assert.deepEqual(memoryLimit(512, undefined), { bytes: 512 * MB, describe: "runtime_memory 512 MB" });
    assert.deepEqual(memoryLimit(512, 4096 * MB), { bytes: 512 * MB, describe: "runtime_memory 512 MB" });
    const container = memoryLimit(2048, 1024 * MB);
    assert.ok(container.bytes < 1024 * MB && container.bytes > 900 * MB);
    assert.equal(container.describe, "the container's memory limit (1024 MB)");
  });
});
