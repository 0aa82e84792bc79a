import { futureRef, TO_FUTURE_REF, type FutureRef, type FutureRefSource } from "../protocol/call-refs.ts";
import { decodeValue } from "../protocol/data-codec.ts";
import type { CallOutcome } from "../protocol/output.ts";
import type { FutureOwner } from "./future-owner.ts";
import { checkOptions, getResultOptionsSchema, type GetResultOptions } from "./options.ts";
import { remoteCallError } from "./remote-error.ts";
import { ResultTimeoutError, type RemoteCallError } from "./errors.ts";
import { LithopsError } from "../protocol/errors.ts";

/**
 * As Lithops's futures: `invoked` (queued), `running` (a worker started it), `ready` (it
 * finished on its worker; its outcome is not collected yet), then `success` or `error`.
 * `running` and `ready` come from batch progress (written only for batches that run
 * longer than a second), so a short call may go from `invoked` straight to its outcome.
 */
export type CallStatus = "invoked" | "running" | "ready" | "success" | "error";

/** A call's value as getResult and result() give it: with `throwExcept: false`, a failed call's error takes its place. */
export type Settled<T, O> = O extends { throwExcept: false } ? T | RemoteCallError : T;

const STATUS_ORDER: Record<CallStatus, number> = { invoked: 0, running: 1, ready: 2, success: 3, error: 3 };

export interface FutureStats {
  /** Epoch milliseconds when the client queued the call. */
  submitted: number;
  started?: number;
  finished?: number;
  /** When the client saw the outcome. */
  collected?: number;
  workerId?: string;
  /** Which delivery of the batch produced the outcome (1 = first). */
  attempt?: number;
  resultBytes?: number;
  /** The worker's measures of the call (protocol/output.ts's CallStats): busy time of its thread, in ms, and its peak memory growth, in bytes. */
  cpuMs?: number;
  peakMemoryBytes?: number;
  argumentBytes: number;
  batch: number;
  /** With `speculative`, once a backup of the call's batch was queued: which copy's outcome this is (client/speculation.ts). */
  speculative?: "original" | "backup";
  /** When the client saw the original running and queued the backup (epoch ms): the losing copy is billed from then (client/job-costs.ts). */
  copies?: { originalRunning: number; backupQueued: number };
}

/**
 * Stats of a call just submitted, with every field a finished call gets already in place:
 * a 100,000-call map keeps 100,000 of these, and fields added later cost a second object each.
 */
export function newStats(submitted: number, batch: number, argumentBytes: number): FutureStats {
  return {
    submitted,
    started: undefined,
    finished: undefined,
    collected: undefined,
    workerId: undefined,
    attempt: undefined,
    resultBytes: undefined,
    cpuMs: undefined,
    peakMemoryBytes: undefined,
    argumentBytes,
    batch,
    speculative: undefined,
    copies: undefined,
  };
}

/** One call's handle: status, timing stats and, once done, its result. */
export class ResponseFuture<T = unknown> implements FutureRefSource {
  status: CallStatus = "invoked";
  /**
   * Set once getResult or result() reported this call (returned its value or threw its error),
   * or when a RetryingFunctionExecutor ran it again: getResult() without futures skips it from then on.
   */
  retrieved = false;
  /** false for the maps of a mapReduce: as in Lithops, getResult() leaves their values out (their own result() still gives them). */
  producesOutput = true;
  readonly stats: FutureStats;
  private outcome?: CallOutcome;
  private decoded?: { value: unknown };
  /** Set when the call returned futures of a nested job: their value (or error) is this call's. */
  private nested?: { value: unknown } | { error: RemoteCallError };

  constructor(
    readonly executorId: string,
    readonly jobId: string,
    readonly callId: string,
    /** Calls made by map() are always returned in arrays by getResult(). */
    readonly fromMap: boolean,
    stats: FutureStats,
    /** The executor that watches the call: wait() and getResult() on any executor, or the module's, ask it. */
    readonly owner: FutureOwner<ResponseFuture>,
  ) {
    this.stats = stats;
  }

  /** Waits (up to `timeout` seconds) for this call, through the executor that watches it. */
  private async waitForIt(timeout?: number): Promise<void> {
    await this.owner.waitFor([this], timeout);
  }

  get done(): boolean {
    return STATUS_ORDER[this.status] === STATUS_ORDER.success;
  }

  get failed(): boolean {
    return this.status === "error";
  }

  /** Called by the job monitor when batch progress says the call started or finished; never goes back. */
  progressed(status: "running" | "ready"): boolean {
    if (STATUS_ORDER[status] <= STATUS_ORDER[this.status]) return false;
    this.status = status;
    return true;
  }

  /** Called by the job monitor when the call's outcome arrives; later duplicates are ignored. */
  complete(outcome: CallOutcome, collected: number): boolean {
    if (this.outcome) return false;
    this.outcome = outcome;
    this.status = outcome.ok ? "success" : "error";
    Object.assign(this.stats, outcome.stats).collected = collected;
    return true;
  }

  /** The call returned futures of a nested job and the client followed them to this outcome. */
  resolveNested(outcome: { value: unknown } | { error: RemoteCallError }): void {
    this.nested = outcome;
    if ("error" in outcome) this.status = "error";
  }

  /** How this future travels when a function running in a worker returns it. */
  [TO_FUTURE_REF](): FutureRef {
    return futureRef({ executorId: this.executorId, jobId: this.jobId, callId: this.callId, batch: this.stats.batch });
  }

  /** The remote error, if the call failed. */
  error(): RemoteCallError | undefined {
    if (this.nested && "error" in this.nested) return this.nested.error;
    const outcome = this.outcome;
    return outcome && !outcome.ok ? remoteCallError(outcome.error, this.jobId, this.callId) : undefined;
  }

  /** The value (or, with throwExcept false, the error) of a finished call. */
  settledValue(throwExcept: boolean): unknown {
    const outcome = this.outcome;
    if (!outcome) throw new LithopsError(`call ${this.jobId}/${this.callId} has not finished`);
    if (this.nested) {
      if (!("error" in this.nested)) return this.nested.value;
      if (throwExcept) throw this.nested.error;
      return this.nested.error;
    }
    if (!outcome.ok) {
      const error = remoteCallError(outcome.error, this.jobId, this.callId);
      if (throwExcept) throw error;
      return error;
    }
    this.decoded ??= { value: decodeValue(outcome.result) };
    return this.decoded.value;
  }

  /** Waits for the call and returns its value; rethrows its error unless throwExcept is false. */
  async result<O extends GetResultOptions = GetResultOptions>(options?: O): Promise<Settled<T, O>> {
    checkOptions("result", getResultOptionsSchema, options);
    await this.waitForIt(options?.timeout);
    if (!this.done) throw new ResultTimeoutError(`call ${this.jobId}/${this.callId} not done after ${options?.timeout} s`);
    this.retrieved = true;
    return this.settledValue(options?.throwExcept ?? true) as Settled<T, O>;
  }

  /** Waits for the call and returns what it wrote to stdout and stderr on its worker (capped at 64 KiB), "" if nothing. */
  async logs(options: { timeout?: number } = {}): Promise<string> {
    await this.waitForIt(options.timeout);
    if (!this.outcome) throw new ResultTimeoutError(`call ${this.jobId}/${this.callId} not done after ${options.timeout} s: no logs yet`);
    return this.outcome.logs ?? "";
  }
}
