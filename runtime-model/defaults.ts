/**
 * Defaults a runtime gets when its config leaves them out, shared so that the stack
 * (components/) and the client agree on what an unconfigured runtime is.
 */
export const DEFAULT_RUNTIME_TIMEOUT_S = 600;
/** Replicas (KEDA max); Lithops caps at 30, Container Apps allows 1,000 per app. */
export const DEFAULT_MAX_WORKERS = 30;
