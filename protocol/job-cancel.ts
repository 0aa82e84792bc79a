import { InvalidArgumentError } from "./errors.ts";

/**
 * A job's cancel marker (protocol/keys.ts's cancelMarkerKey): which of its calls were
 * cancelled, every one (`{"all":true}`) or some (`{"calls":["00003",...]}`). Clients write
 * it (FunctionExecutor.cancel, `lithops-aca job cancel`); workers read it before a batch
 * starts and while it runs, and end the cancelled calls with CallCancelledError.
 */
export type CancelMarker = { all: true } | { calls: string[] };

export function parseCancelMarker(bytes: Uint8Array, key: string): CancelMarker {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    throw new InvalidArgumentError(`cancel marker ${key} is not JSON`);
  }
  const value = raw as { all?: unknown; calls?: unknown } | null;
  if (value?.all === true) return { all: true };
  if (Array.isArray(value?.calls) && value.calls.every((id) => typeof id === "string")) return { calls: value.calls as string[] };
  throw new InvalidArgumentError(`cancel marker ${key} is not valid: expected {"all":true} or {"calls":["00000",...]}`);
}

/** The marker after cancelling `calls` (undefined: all) on top of what `existing` cancelled. */
export function addToCancelMarker(existing: CancelMarker | undefined, calls: readonly string[] | undefined): CancelMarker {
  if (calls === undefined || (existing && "all" in existing)) return { all: true };
  return { calls: [...new Set([...(existing?.calls ?? []), ...calls])] };
}

export function isCallCancelled(marker: CancelMarker | undefined, callId: string): boolean {
  return marker !== undefined && ("all" in marker || marker.calls.includes(callId));
}

export function encodeCancelMarker(marker: CancelMarker): Buffer {
  return Buffer.from(JSON.stringify(marker));
}

/** What a cancelled call's outcome says. */
export function cancelledMessage(executorId: string, jobId: string): string {
  return `the call's job ${executorId}/${jobId} was cancelled (fexec.cancel; close() or a Ctrl-C of its program on the local backend; or \`lithops-aca job cancel\`) before the call finished`;
}
