import { after, before } from "node:test";
import { FunctionExecutor, Storage } from "../../client/index.ts";
import { LOCAL_DATA_DIR_ENV, type ExecutorOptions } from "../../client/config.ts";
import { TEST_EXECUTOR_DEFAULTS, useTemporaryDataDir } from "./executor-defaults.mjs";

useTemporaryDataDir(LOCAL_DATA_DIR_ENV);

/**
 * A local-backend executor for integration tests: real Azurite, real worker processes,
 * no progress bar, no user config file (TEST_EXECUTOR_DEFAULTS). Close it in `after`.
 */
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
