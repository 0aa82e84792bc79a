import { StorageUnavailableError } from "./errors.ts";

const TRANSIENT_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EAI_AGAIN", "ENOTFOUND", "REQUEST_SEND_ERROR", "UND_ERR_SOCKET"]);

/** Connection failures, timeouts, throttling (429) and server errors (5xx): worth retrying. */
export function isTransientStorageError(error: unknown): boolean {
  const e = error as { statusCode?: number; code?: string; cause?: { code?: string } } | undefined;
  if (!e || typeof e !== "object") return false;
  if (e.statusCode !== undefined) return e.statusCode === 408 || e.statusCode === 429 || e.statusCode >= 500;
  return TRANSIENT_CODES.has(e.code ?? "") || TRANSIENT_CODES.has(e.cause?.code ?? "");
}

export class StorageOutage {
  private since?: number;
  private warned = false;

  constructor(
    /** Seconds storage may stay unreachable before giving up. */
    private readonly limitSeconds: number,
    private readonly describe: () => string,
    private readonly warn: (line: string) => void,
  ) {}

  /** A request went through: the outage (if any) is over. */
  ok(): void {
    if (this.since !== undefined && this.warned) this.warn("storage reachable again");
    this.since = undefined;
    this.warned = false;
  }

  /**
   * A request (begun at `attempted`, its SDK retries included) failed: returns if it is
   * worth retrying, throws otherwise. The outage is counted from the first failed attempt's start.
   */
  failed(error: unknown, attempted = Date.now()): void {
    if (!isTransientStorageError(error)) throw error;
    const now = Date.now();
    this.since ??= attempted;
    const message = (error as Error).message?.split("\n")[0] ?? String(error);
    if ((now - this.since) / 1000 >= this.limitSeconds) {
      throw new StorageUnavailableError(
        `storage unreachable for ${Math.round((now - this.since) / 1000)} s (limit lithops.storage_retry_timeout = ${this.limitSeconds} s) while waiting for ${this.describe()}; last error: ${message}. ` +
          "Submitted calls keep running: wait again, or re-attach from another client with fexec.attach(executorId, jobIds)",
      );
    }
    if (!this.warned) {
      this.warned = true;
      this.warn(`storage unreachable (${message}): retrying for up to ${this.limitSeconds} s`);
    }
  }
}
