import type { ContainerClient } from "@azure/storage-blob";
import type { DequeuedMessageItem, QueueClient } from "@azure/storage-queue";
import { ENV } from "../protocol/env.ts";
import { deliveryMarkerKey, outputKey, rejectedMessageKey } from "../protocol/keys.ts";
import { InvalidArgumentError, REMOTE_ERROR_NAMES } from "../protocol/errors.ts";
import { decodeMessage, readBatchAddress, type CallBatchMessage } from "../protocol/message.ts";
import { MalformedMessageError } from "../protocol/errors.ts";
import { POISON_MARKER } from "../protocol/log-markers.ts";
import { nextPollDelay } from "../protocol/polling.ts";
import { blobExists, downloadBytes } from "../azure/storage-connection.ts";
import { checkGrant, detachSignature, messageKey, sha256, verifySignature } from "../protocol/signing.ts";
import { failAll, runBatch, storeBatchOutput, type BatchContext } from "./batch-runner.ts";
import { CancelWatch } from "./cancel-watch.ts";
import { recordRelease, runRedelivered } from "./redelivery.ts";

export interface ConsumerSettings {
  queueName: string;
  /** Seconds a received message stays invisible; renewed while its calls run. */
  visibilityTimeout: number;
  /** Deliveries after which a message that keeps killing its worker goes to the poison queue. */
  maxDeliveries: number;
  idlePollMaxMs: number;
  /** The stack's key; without one the consumer refuses to start unless `allowUnsigned` (ENV.allowUnsigned). */
  signingKey?: string;
  allowUnsigned?: boolean;
  /** Take this many messages, run them, and return (a Container Apps Job execution takes one); unlimited by default. */
  maxMessages?: number;
  log: (line: string) => void;
}

interface HeldMessage {
  item: DequeuedMessageItem;
  popReceipt: string;
  renewal: NodeJS.Timeout;
  /** Its job's cancel marker, read again at each renewal. */
  cancel?: CancelWatch;
}

const FIRST_IDLE_POLL_MS = 5;
/** Azure keeps a queue message at most 7 days (the default time-to-live); older ones can only be replays. One hour of clock skew allowed. */
const MAX_MESSAGE_AGE_MS = (7 * 24 + 1) * 3600 * 1000;

/**
 * Takes messages from the runtime's queue while there is room in the thread pool.
 * A message is deleted only after its batch's outcome is stored (at-least-once): if this
 * process dies, the message becomes visible again within `visibilityTimeout` seconds.
 */
export class QueueConsumer {
  private readonly held = new Map<string, HeldMessage>();
  private readonly inFlight = new Set<Promise<void>>();
  private stopping = false;
  private wake?: () => void;
  /**
   * When a poll last found messages or a nudge came: idle polls back off from then. A batch
   * ending wakes the loop for one poll at once (its job's next batch is likely queued), but does
   * not restart the backoff: after a job's last batch, the workers that ran it would otherwise
   * each make ~15 polls in the next 300 ms, a third of a 1,000-call map's requests.
   */
  private lastBusy = Date.now();

  constructor(
    private readonly queue: QueueClient,
    private readonly poisonQueue: QueueClient,
    private readonly container: ContainerClient,
    private readonly batch: BatchContext,
    private readonly settings: ConsumerSettings,
  ) {
    if (!settings.signingKey && !settings.allowUnsigned) {
      throw new InvalidArgumentError(
        `worker environment is invalid: ${ENV.signingKey} is not set, and a worker without a key would run any message anyone can queue; ` +
          `give it the stack's signing key, or set ${ENV.allowUnsigned}=1 to run unsigned messages on purpose (docs/security.md)`,
      );
    }
  }

  /** Messages received so far (for `maxMessages`). */
  private taken = 0;

  async run(): Promise<void> {
    while (!this.stopping) {
      const room = this.batch.pool.capacity - this.inFlight.size;
      if (room <= 0) {
        // A batch ends, or a call starts waiting on a nested job (which frees its slot).
        await Promise.race([...this.inFlight, this.batch.pool.capacityChanged()]);
        continue;
      }
      let received: DequeuedMessageItem[];
      let failed = false;
      try {
        const response = await this.queue.receiveMessages({
          numberOfMessages: Math.min(32, room, (this.settings.maxMessages ?? Number.POSITIVE_INFINITY) - this.taken),
          visibilityTimeout: this.settings.visibilityTimeout,
        });
        received = response.receivedMessageItems;
      } catch (error) {
        this.settings.log(`receive failed, backing off: ${(error as Error).message}`);
        received = [];
        failed = true;
      }
      if (this.stopping) {
        // Received while stopping (SIGTERM): hand them back at once instead of starting them.
        await Promise.all(received.map((item) => this.handBack(item, item.popReceipt)));
        break;
      }
      for (const item of received) this.track(this.handle(item));
      this.taken += received.length;
      if (this.taken >= (this.settings.maxMessages ?? Number.POSITIVE_INFINITY)) {
        await Promise.all(this.inFlight);
        break;
      }
      if (received.length > 0) {
        this.lastBusy = Date.now();
        continue;
      }
      // Idle: poll less and less often (a quarter of the idle time so far, up to idlePollMaxMs),
      // so an idle runtime costs few (billed) requests and a busy one picks up work within ms.
      const idleMs = nextPollDelay(Date.now() - this.lastBusy, { minMs: FIRST_IDLE_POLL_MS, maxMs: this.settings.idlePollMaxMs, fraction: 0.25 });
      await this.sleep(failed ? Math.max(idleMs, 500) : idleMs);
    }
  }

  /** Work was just queued (the local scaler says so): poll now and keep polling fast. */
  nudge(): void {
    this.lastBusy = Date.now();
    this.wake?.();
  }

  /** Stops taking messages (SIGTERM); waits up to `graceMs` for running batches, then hands the rest back. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.wake?.();
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([Promise.all(this.inFlight), grace]);
    clearTimeout(timer);
    const unfinished = [...this.held.values()];
    for (const held of unfinished) this.release(held);
    await Promise.all(unfinished.map((held) => this.handBack(held.item, held.popReceipt)));
  }

  /**
   * Makes a message visible again at once, for another worker, after noting in its batch's
   * attempt log that this delivery was handed back on SIGTERM rather than lost to a crash,
   * so it counts toward no delivery limit. Best effort: unrecorded, the delivery counts as a
   * failed one; not handed back, the message reappears after its visibility timeout anyway.
   */
  private async handBack(item: DequeuedMessageItem, popReceipt: string): Promise<void> {
    const batch = readBatchAddress(item.messageText);
    if (batch) {
      await recordRelease(this.container, batch, item.dequeueCount, this.batch.workerId).catch((error: Error) =>
        this.settings.log(`could not record the release of message ${item.messageId}: ${error.message}`),
      );
    }
    await this.queue.updateMessage(item.messageId, popReceipt, undefined, 0).catch(() => undefined);
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => {
      this.inFlight.delete(work);
      this.wake?.(); // a slot is free: poll at once
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private async handle(item: DequeuedMessageItem): Promise<void> {
    const held = this.hold(item);
    try {
      const parsed = this.parse(item);
      if ("reason" in parsed) {
        await this.failRejectedCalls(item, parsed.reason);
        await this.reject(item, parsed.reason, held);
        return;
      }
      const { message } = parsed;
      // A batch runs at most once to an outcome: a replayed message (or one redelivered after its
      // outcome was stored) is recorded and dropped, never run again.
      // The job's cancel marker is read alongside the delivery marker: cancelled calls do not start (worker/cancel-watch.ts).
      held.cancel = new CancelWatch(this.container, message);
      const [delivery] = await Promise.all([this.firstDelivery(item), held.cancel.check()]);
      if (delivery === "replay") {
        await this.reject(
          item,
          `replayed: a copy of this message (batch ${message.batch} of job ${message.executorId}/${message.jobId}) was delivered before; not run again`,
          held,
        );
        return;
      }
      // Only a message delivered before can have stored its batch's outcome: the first delivery
      // writes the marker before it runs anything, so a first delivery needs no output check.
      if (delivery === "again" && (await blobExists(this.container, outputKey(message.executorId, message.jobId, message.batch)))) {
        await this.reject(item, `replayed: batch ${message.batch} of job ${message.executorId}/${message.jobId} already has its output; not run again`, held);
        return;
      }
      if (item.dequeueCount > 1) {
        // Redelivered: its worker died (or let it go). Run it call by call to find a call that kills workers.
        const outcome = await runRedelivered(message, item.dequeueCount, this.batch, this.settings.maxDeliveries, held.cancel);
        if (outcome.kind === "poison-batch") {
          await this.poison(item, message, held, outcome.reason);
          return;
        }
        if (outcome.poisonedCalls.length > 0) {
          this.settings.log(
            `${POISON_MARKER} message ${item.messageId}: calls ${outcome.poisonedCalls.join(", ")} kept killing their worker; reported as PoisonCallError, message copied to the poison queue`,
          );
          await this.poisonQueue.sendMessage(item.messageText);
        }
      } else {
        await runBatch(message, item.dequeueCount, this.batch, held.cancel);
      }
      await this.delete(held);
    } catch (error) {
      if (error instanceof MalformedMessageError) {
        // A blob of the message failed its digest (worker/payloads.ts): the message's fault, refused like a bad signature.
        await this.failRejectedCalls(item, error.message);
        await this.reject(item, error.message, held);
        return;
      }
      // Outcome not stored (storage unreachable): keep the message, it will be delivered again.
      this.settings.log(`batch in message ${item.messageId} not finished: ${(error as Error).message}`);
      this.release(held);
    }
  }

  private parse(item: DequeuedMessageItem): { message: CallBatchMessage } | { reason: string } {
    try {
      const message = decodeMessage(item.messageText);
      if (this.settings.signingKey) {
        if (message.dlg !== undefined) checkGrant(message.dlg);
        checkSignature(item.messageText, messageKey(this.settings.signingKey, message.dlg));
      }
      if (message.queue !== this.settings.queueName) {
        throw new MalformedMessageError(
          `message is for queue ${message.queue}, not this runtime's queue ${this.settings.queueName}: moved from another runtime`,
        );
      }
      if (Date.now() - message.submitted > MAX_MESSAGE_AGE_MS) {
        throw new MalformedMessageError(`message was submitted ${new Date(message.submitted).toISOString()}, longer ago than a queue keeps messages: a replay`);
      }
      return { message };
    } catch (error) {
      // Whatever fails here is the message's fault: reject it rather than let it come back forever.
      return {
        reason:
          error instanceof MalformedMessageError ? error.message : `message could not be read (${String((error as Error)?.message ?? error).slice(0, 200)})`,
      };
    }
  }

  /**
   * Whether this message was delivered before: "first" time, "again" (the same message
   * redelivered: same id), or a "replay" (another message with the same signature, or the same
   * text when unsigned). The first delivery leaves a marker named by the signature's digest
   * holding its message id, outside the job's data (protocol/keys.ts), so cleaning the job does
   * not make the message runnable again. Markers must outlive MAX_MESSAGE_AGE_MS (the stack's lifecycle rule).
   */
  private async firstDelivery(item: DequeuedMessageItem): Promise<"first" | "again" | "replay"> {
    const signed = detachSignature(item.messageText)?.sig ?? item.messageText;
    const marker = this.container.getBlockBlobClient(deliveryMarkerKey(this.settings.queueName, sha256(Buffer.from(signed))));
    try {
      await marker.upload(item.messageId, Buffer.byteLength(item.messageId), { conditions: { ifNoneMatch: "*" } });
      return "first";
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      if (status !== 409 && status !== 412) throw error;
    }
    return (await downloadBytes(this.container, marker.name)).toString("utf8") === item.messageId ? "again" : "replay";
  }

  /**
   * A message this runtime will not run still names its batch, most often: the batch's
   * output then fails each of its calls with the reason, so that the futures waiting on it
   * end within a poll instead of never. A batch that has an outcome already keeps it.
   */
  private async failRejectedCalls(item: DequeuedMessageItem, reason: string): Promise<void> {
    const batch = readBatchAddress(item.messageText);
    if (!batch || (await blobExists(this.container, outputKey(batch.executorId, batch.jobId, batch.batch)))) return;
    const calls = failAll(batch, item.dequeueCount, this.batch.workerId, {
      name: REMOTE_ERROR_NAMES.messageRejected,
      message: `the runtime's worker rejected the queue message carrying this call, so it did not run: ${reason}`,
    });
    await storeBatchOutput(batch, calls, this.batch);
  }

  /** Records a message this runtime will not run, then removes it so it cannot block the queue. */
  private async reject(item: DequeuedMessageItem, reason: string, held: HeldMessage): Promise<void> {
    this.settings.log(`rejected message ${item.messageId}: ${reason}`);
    const record = JSON.stringify({
      reason,
      messageId: item.messageId,
      dequeueCount: item.dequeueCount,
      insertedOn: item.insertedOn,
      text: item.messageText.slice(0, 4096),
    });
    await this.container.getBlockBlobClient(rejectedMessageKey(this.settings.queueName, item.messageId)).upload(record, Buffer.byteLength(record));
    await this.delete(held);
  }

  private async poison(item: DequeuedMessageItem, message: CallBatchMessage, held: HeldMessage, reason: string): Promise<void> {
    this.settings.log(`${POISON_MARKER} message ${item.messageId}: ${reason}: moving it to the poison queue`);
    const calls = failAll(message, item.dequeueCount, this.batch.workerId, {
      name: "PoisonMessageError",
      message: `${reason}; the batch was moved to the poison queue`,
    });
    await storeBatchOutput(message, calls, this.batch);
    await this.poisonQueue.sendMessage(item.messageText);
    await this.delete(held);
  }

  private hold(item: DequeuedMessageItem): HeldMessage {
    const held: HeldMessage = {
      item,
      popReceipt: item.popReceipt,
      renewal: setInterval(() => void this.renew(held), (this.settings.visibilityTimeout * 1000) / 3),
    };
    this.held.set(item.messageId, held);
    return held;
  }

  private async renew(held: HeldMessage): Promise<void> {
    try {
      const [response] = await Promise.all([
        this.queue.updateMessage(held.item.messageId, held.popReceipt, undefined, this.settings.visibilityTimeout),
        // A failed read of the marker must not lose the new pop receipt: the next renewal reads again.
        held.cancel?.check().catch(() => undefined),
      ]);
      if (response.popReceipt) held.popReceipt = response.popReceipt;
    } catch (error) {
      this.settings.log(`could not renew message ${held.item.messageId}: ${(error as Error).message}`);
    }
  }

  private release(held: HeldMessage): void {
    clearInterval(held.renewal);
    this.held.delete(held.item.messageId);
  }

  private async delete(held: HeldMessage): Promise<void> {
    this.release(held);
    await this.queue.deleteMessage(held.item.messageId, held.popReceipt);
  }
}

function checkSignature(text: string, key: string): void {
  const signed = detachSignature(text);
  if (!signed) throw new MalformedMessageError("message is not signed and this runtime requires signed invocations");
  if (!verifySignature(signed.unsigned, signed.sig, key)) {
    throw new MalformedMessageError("message signature does not match: the message was altered or signed with another key");
  }
}
