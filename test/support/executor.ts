import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { FunctionExecutor, Storage } from "../../client/index.ts";
import { LOCAL_DATA_DIR_ENV, type ExecutorOptions } from "../../client/config.ts";

/**
 * The local executors of the tests and of the child programs they start (test/support/*-child.mjs,
 * which import this file's build, dist/test/support/executor.js: plain JavaScript on the built
 * package, as a user's program would be, loading in a third of the time tsx takes over the sources).
 */

/** What a test's local executor starts from: real Azurite and workers, no progress bar, no user config file. */
export const TEST_EXECUTOR_DEFAULTS: Readonly<ExecutorOptions> = Object.freeze({
  backend: "local",
  maxWorkers: 2,
  progress: false,
  logLevel: "WARNING",
  config: {},
});

/**
 * Tests never touch the user's ~/.lithops-aca: unless LOCAL_DATA_DIR_ENV already names one, the
 * local backend's data folder is a temporary one per test process (and the child processes it
 * starts, which inherit the variable), removed when the process that made it exits.
 */
function useTemporaryDataDir(): void {
  if (process.env[LOCAL_DATA_DIR_ENV]) return;
  const dataDir = mkdtempSync(join(tmpdir(), "lithops-test-data-"));
  process.env[LOCAL_DATA_DIR_ENV] = dataDir;
  process.once("exit", () => {
    try {
      rmSync(dataDir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // An executor left open: its Azurite may still be writing there as it stops. Never fail the tests for that.
    }
  });
}

useTemporaryDataDir();

/** A local-backend executor for integration tests, with TEST_EXECUTOR_DEFAULTS under `options`. Close it in `after`. */
export function testExecutor(options: ExecutorOptions = {}): FunctionExecutor {
  return new FunctionExecutor({ ...TEST_EXECUTOR_DEFAULTS, ...options });
}

/** A testExecutor(options) and its Storage, with `objects` (key to text) put in its bucket. Close it in `after`. */
export async function executorWithObjects(
  objects: Record<string, string>,
  options: ExecutorOptions = {},
): Promise<{ fexec: FunctionExecutor; storage: Storage }> {
  const fexec = testExecutor(options);
  const storage = new Storage(fexec);
  await Promise.all(Object.entries(objects).map(([key, text]) => storage.putObject(storage.bucket, key, text)));
  return { fexec, storage };
}

/**
 * A testExecutor(options) for the enclosing describe block: made in its `before`, closed in
 * its `after`. Returns a getter for the block's tests.
 */
export function suiteExecutor(options: ExecutorOptions = {}): () => FunctionExecutor {
  let fexec: FunctionExecutor | undefined;
  before(() => {
    fexec = testExecutor(options);
  });
  after(async () => {
    await fexec?.close();
  });
  return () => {
    if (fexec === undefined) throw new Error("suiteExecutor: the executor exists only while its describe block's tests run");
    return fexec;
  };
}
