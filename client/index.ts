/** lithops-aca's client: the package's main export. */
export { args, CallArgs } from "./args.ts";
export type { Elements, MapReduceFutures, ObjectElement, ResultOf, Settled, SettledAll } from "./call-types.ts";
export { ConfigError, type ExecutorOptions, type LithopsConfigFile } from "./config.ts";
export { FunctionExecutor } from "./executor.ts";
export { getResult, wait } from "./module-wait.ts";
export {
  ALL_COMPLETED,
  ALWAYS,
  ANY_COMPLETED,
  DEFAULT_SPAWN_REDUCER,
  type CallOptions,
  type GetResultOptions,
  type MapOptions,
  type MapReduceOptions,
  type RetryingMapOptions,
  type ReturnWhen,
  type WaitOptions,
} from "./options.ts";
export { ExecutorClosedError, FutureNotWatchedError, InvalidArgumentError, LithopsError } from "./errors.ts";
export {
  CallExitedError,
  CallTimeoutError,
  MessageRejectedError,
  OutOfMemoryError,
  PoisonCallError,
  RemoteCallError,
  ResultTimeoutError,
  UnserializableResultError,
} from "./remote-error.ts";
export { StorageUnavailableError } from "./storage-outage.ts";
export { JobNotFoundError } from "./job-manifest.ts";
export { RuntimeNotDeployedError } from "./azure-backend.ts";
export { ResponseFuture, type CallStatus, type FutureStats } from "./response-future.ts";
export { JOB_SUMMARY_COLUMNS, toCsv, type JobSummaryOptions, type JobSummaryRow } from "./job-summary.ts";
export { DEFAULT_PLOT_DIR, PlotPackagesMissingError, type PlotPaths } from "./plot.ts";
export { MissingPackageError } from "./optional-packages.ts";
export { UnshippableFunctionError } from "./ship-function.ts";
export { Storage, StorageNoSuchKeyError, type GetObjectOptions, type ObjectBody, type ObjectHead, type ObjectInfo } from "./storage.ts";
export type { StorageObject } from "../protocol/call-refs.ts";
export { partitionObject, type ByteRange, type ObjectChunking } from "./object-partitioner.ts";
export { RetriesExhaustedError, RetryingFunctionExecutor, RetryingFuture } from "./retrying-executor.ts";
export { UnserializableValueError } from "../protocol/data-codec.ts";
export { InvalidMemoryError } from "../runtime-model/memory.ts";
export { InvalidRuntimeNameError } from "../azure/runtime-name.ts";
export { InvalidStorageNameError } from "../azure/storage-names.ts";
export { MalformedMessageError } from "../protocol/message.ts";
