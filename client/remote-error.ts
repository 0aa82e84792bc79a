import type { RemoteErrorInfo } from "../protocol/data-codec.ts";
import { LithopsError } from "./errors.ts";

/**
 * A call's failure, rethrown on the client: the remote error's name, message and stack,
 * plus which call it was.
 */
export class RemoteCallError extends LithopsError {
  readonly remoteStack?: string;
  /** What the call threw when it was not an Error. */
  readonly thrownValue?: unknown;

  constructor(
    info: RemoteErrorInfo,
    readonly jobId: string,
    readonly callId: string,
  ) {
    super(info.message);
    this.name = info.name;
    this.remoteStack = info.stack;
    this.thrownValue = info.thrownValue;
    this.stack = `${info.stack ?? `${info.name}: ${info.message}`}\n    at (remote call ${jobId}/${callId})`;
  }
}

export class ResultTimeoutError extends LithopsError {
  override name = "ResultTimeoutError";
}
