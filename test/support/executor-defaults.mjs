// The options a test's local executor starts from, in one place for both homes of a test
// executor: test/support/executor.ts (the tests, on the sources) and
// test/support/built-executor.mjs (child programs, on the built dist/).
export const TEST_EXECUTOR_DEFAULTS = Object.freeze({ backend: "local", maxWorkers: 2, progress: false, logLevel: "WARNING", config: {} });
