import { FunctionExecutor } from "../../client/index.ts";
import type { ExecutorOptions } from "../../client/config.ts";

/**
 * A local-backend executor for integration tests: real Azurite, real worker processes,
 * no progress bar, no user config file. Close it in `after`.
 */
export function testExecutor(options: ExecutorOptions = {}): FunctionExecutor {
  return new FunctionExecutor({ backend: "local", maxWorkers: 2, progress: false, logLevel: "WARNING", config: {}, ...options });
}
