/** lithops-aca's client: the package's main export. */
export { args } from "./args.ts";
export { ConfigError, type ExecutorOptions, type LithopsConfigFile } from "./config.ts";
export {
  ALL_COMPLETED,
  ALWAYS,
  ANY_COMPLETED,
  FunctionExecutor,
  type CallOptions,
  type GetResultOptions,
  type MapOptions,
  type MapReduceOptions,
  type ReturnWhen,
  type WaitOptions,
} from "./executor.ts";
export { RemoteCallError, ResultTimeoutError } from "./remote-error.ts";
export { StorageUnavailableError } from "./storage-outage.ts";
export { JobNotFoundError } from "./job-manifest.ts";
export { RuntimeNotDeployedError } from "./azure-backend.ts";
export { ResponseFuture, type CallStatus, type FutureStats } from "./response-future.ts";
export { JOB_SUMMARY_COLUMNS, toCsv, type JobSummaryOptions, type JobSummaryRow } from "./job-summary.ts";
export { DEFAULT_PLOT_DIR, type PlotPaths } from "./plot.ts";
export { UnshippableFunctionError } from "./ship-function.ts";
export { Storage, StorageNoSuchKeyError, type GetObjectOptions, type ObjectBody, type ObjectHead, type ObjectInfo } from "./storage.ts";
export type { StorageObject } from "../protocol/call-refs.ts";
export { partitionObject, type ByteRange, type ObjectChunking } from "./object-partitioner.ts";
export { RetriesExhaustedError, RetryingFunctionExecutor, RetryingFuture, type RetryingMapOptions } from "./retrying-executor.ts";
export { UnserializableValueError } from "../protocol/data-codec.ts";
