/** `lithops-aca/pulumi`: the components of a lithops-aca stack, for this repository's program and anyone else's. */
export {
  LithopsStack,
  lithopsStackFromConfig,
  type DeployedRuntime,
  type EnvironmentArgs,
  type LithopsStackArgs,
  type PoisonAlertArgs,
  type RegistryArgs,
  type RuntimeArgs,
  type StorageArgs,
} from "./lithops-stack.ts";
export { LithopsRuntime, type LithopsRuntimeArgs, type PoisonAlertTarget, type RegistryPull, type StorageRef } from "./runtime.ts";
export { JobStorage, type JobStorageArgs, type PrincipalRef } from "./storage.ts";
export { RuntimeEnvironment, type RuntimeEnvironmentArgs } from "./environment.ts";
export { RuntimeRegistry, type RuntimeRegistryArgs } from "./registry.ts";
export { RuntimeImage, type RuntimeImageArgs } from "./image.ts";
export {
  DEFAULT_STACK_NAME,
  imageKey,
  imageResourceNames,
  loadStackConfig,
  parseStackConfig,
  type ImageSource,
  type RuntimeEntry,
  type RuntimeSpec,
  type StackConfig,
} from "./stack-config.ts";
export { StackConfigError } from "./errors.ts";
export { DEFAULT_JOB_CONTAINER } from "../azure/storage-names.ts";
