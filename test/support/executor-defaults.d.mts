/** The options a test's local executor starts from: real Azurite and workers, no progress bar, no user config file. */
export declare const TEST_EXECUTOR_DEFAULTS: Readonly<{ backend: "local"; maxWorkers: number; progress: false; logLevel: "WARNING"; config: {} }>;
