// testExecutor for the child programs the local tests start (test/support/*-child.mjs): the
// built package (dist/, which `npm test` builds first) loads in about a third of the time tsx
// takes to compile the sources, and each test starts several such programs. Plain
// JavaScript, as a user's program would be.
import { FunctionExecutor } from "../../dist/client/index.js";
import { LOCAL_DATA_DIR_ENV } from "../../dist/client/config.js";
import { TEST_EXECUTOR_DEFAULTS, useTemporaryDataDir } from "./executor-defaults.mjs";

useTemporaryDataDir(LOCAL_DATA_DIR_ENV);

/** A local-backend executor with the tests' defaults (test/support/executor-defaults.mjs) and `options` over them. */
export function testExecutor(options = {}) {
  return new FunctionExecutor({ ...TEST_EXECUTOR_DEFAULTS, ...options });
}
