/**
 * Defaults a runtime gets when its config leaves them out, shared so that the stack
 * (components/) and the client agree on what an unconfigured runtime is.
 */
export const DEFAULT_RUNTIME_TIMEOUT_S = 600;
/** Replicas (KEDA max); Lithops caps at 30, Container Apps allows 1,000 per app. */
export const DEFAULT_MAX_WORKERS = 30;
/**
 * KEDA's seconds between queue checks and idle seconds before scaling to zero. From the scale
 * model (bench/scale-model.ts, docs/performance.md): 5 s takes 100 calls of 1 s from ~42 s to
 * ~31 s for 360 more queue reads an hour; a 120 s cooldown leaves 3,600 idle replica-seconds
 * after a job of 30 replicas instead of 9,000 (KEDA's defaults are 30 s and 300 s).
 */
export const DEFAULT_POLLING_INTERVAL_S = 5;
export const DEFAULT_COOLDOWN_PERIOD_S = 120;
