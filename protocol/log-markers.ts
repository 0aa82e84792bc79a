/**
 * Markers in the worker's own log lines that alerts match (components/runtime.ts's poison
 * alert). The worker writes its log on stderr; calls' console output is passed through on
 * stdout only (worker/call-thread.ts), so a function's printout cannot fire an alert:
 * alerts match the marker on the stderr stream. (A function deliberately writing to file
 * descriptor 2 could; it runs with the runtime's identity and could poison-queue a message
 * for real, so that stays inside the stack's trust domain: docs/security.md.)
 */
export const POISON_MARKER = "lithops-aca:poison-message";
