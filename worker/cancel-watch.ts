import type { ContainerClient } from "@azure/storage-blob";
import { downloadBytes, isNotFound } from "../azure/storage-connection.ts";
import { REMOTE_ERROR_NAMES } from "../protocol/errors.ts";
import { cancelledMessage, isCallCancelled, parseCancelMarker, type CancelMarker } from "../protocol/job-cancel.ts";
import { cancelMarkerKey } from "../protocol/keys.ts";
import type { BatchAddress } from "../protocol/message.ts";
import type { RemoteErrorInfo } from "../protocol/data-codec.ts";

/**
 * Whether a batch's calls were cancelled (protocol/job-cancel.ts), read from its job's cancel
 * marker before the batch starts and again at each visibility renewal while it runs (no
 * requests of its own in between): a cancelled call that has not started never does, a
 * running one has its signal aborted, which ends its call thread (worker/thread-pool.ts).
 */
export class CancelWatch {
  private marker?: CancelMarker;
  private readonly controllers = new Map<string, AbortController>();

  constructor(
    private readonly container: ContainerClient,
    private readonly batch: BatchAddress,
  ) {}

  /** Reads the marker; aborts the calls it newly cancels. A failed read changes nothing (the next renewal reads again). */
  async check(): Promise<void> {
    const key = cancelMarkerKey(this.batch.executorId, this.batch.jobId);
    try {
      this.marker = parseCancelMarker(await downloadBytes(this.container, key), key);
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    for (const [callId, controller] of this.controllers) if (this.cancelled(callId)) controller.abort();
  }

  cancelled(callId: string): boolean {
    return isCallCancelled(this.marker, callId);
  }

  /** Aborted when the call is cancelled. */
  signal(callId: string): AbortSignal {
    let controller = this.controllers.get(callId);
    if (!controller) {
      controller = new AbortController();
      this.controllers.set(callId, controller);
      if (this.cancelled(callId)) controller.abort();
    }
    return controller.signal;
  }

  get error(): RemoteErrorInfo {
    return { name: REMOTE_ERROR_NAMES.cancelled, message: cancelledMessage(this.batch.executorId, this.batch.jobId) };
  }
}
