/** The options a test's local executor starts from: real Azurite and workers, no progress bar, no user config file. */
export declare const TEST_EXECUTOR_DEFAULTS: Readonly<{ backend: "local"; maxWorkers: number; progress: false; logLevel: "WARNING"; config: {} }>;

/** Sets the environment variable `dataDirEnv` to a temporary data folder (removed at exit) unless it names one already. */
export declare function useTemporaryDataDir(dataDirEnv: string): void;
