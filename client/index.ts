/** lithops-aca's client: the package's main export. */
export { args, CallArgs } from "./args.ts";
export type { Elements, MapReduceFutures, ObjectElement, ResultOf, Settled, SettledAll } from "./call-types.ts";
export type { ExecutorOptions, LithopsConfigFile } from "./config.ts";
export { ConfigError } from "./errors.ts";
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
  CallCancelledError,
  RemoteCallError,
  ResultTimeoutError,
  UnserializableResultError,
} from "./errors.ts";
export { StorageUnavailableError } from "./errors.ts";
export { JobNotFoundError } from "./errors.ts";
export { RuntimeNotDeployedError } from "./errors.ts";
export { ResponseFuture, type CallStatus, type FutureStats } from "./response-future.ts";
export { JOB_SUMMARY_COLUMNS, toCsv, type JobSummaryOptions, type JobSummaryRow } from "./job-summary.ts";
export { DEFAULT_PLOT_DIR, type PlotPaths } from "./plot.ts";
export { PlotPackagesMissingError } from "./errors.ts";
export { MissingPackageError } from "./errors.ts";
export { UnshippableFunctionError } from "./ship-function.ts";
export { Storage, type GetObjectOptions, type ObjectBody, type ObjectHead, type ObjectInfo } from "./storage.ts";
export { StorageNoSuchKeyError } from "./errors.ts";
export type { StorageObject } from "../protocol/call-refs.ts";
export { partitionObject, type ByteRange, type ObjectChunking } from "./object-partitioner.ts";
export { RetryingFunctionExecutor, RetryingFuture } from "./retrying-executor.ts";
export { RetriesExhaustedError } from "./errors.ts";
export { UnserializableValueError } from "../protocol/errors.ts";
export { InvalidMemoryError } from "../runtime-model/errors.ts";
export { InvalidRuntimeNameError } from "../azure/errors.ts";
export { InvalidStorageNameError } from "../azure/errors.ts";
export { MalformedMessageError } from "../protocol/errors.ts";
