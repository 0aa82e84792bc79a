// What a test's local executor starts from, in one place for both homes of a test executor:
// test/support/executor.ts (the tests, on the sources) and test/support/built-executor.mjs
// (child programs, on the built dist/).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const TEST_EXECUTOR_DEFAULTS = Object.freeze({ backend: "local", maxWorkers: 2, progress: false, logLevel: "WARNING", config: {} });

/**
 * Tests never touch the user's ~/.lithops-aca: unless `dataDirEnv` (the client's
 * LOCAL_DATA_DIR_ENV) already names one, the local backend's data folder is a temporary one
 * per test process (and the child processes it starts, which inherit the variable), removed
 * when the process that made it exits.
 */
export function useTemporaryDataDir(dataDirEnv) {
  if (process.env[dataDirEnv]) return;
  const dataDir = mkdtempSync(join(tmpdir(), "lithops-test-data-"));
  process.env[dataDirEnv] = dataDir;
  process.once("exit", () => {
    try {
      rmSync(dataDir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // An executor left open: its Azurite may still be writing there as it stops. Never fail the tests for that.
    }
  });
}
