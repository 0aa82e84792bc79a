import type { ContainerClient } from "@azure/storage-blob";
import type { PayloadRef } from "../protocol/message.ts";
import { sha256 } from "../protocol/signing.ts";
import { downloadBytes } from "../azure/storage-connection.ts";
import { PayloadIntegrityError } from "./errors.ts";

const FUNCTION_CACHE_SIZE = 64;

/**
 * Reads the bytes a message points at. A blob's bytes must match the SHA-256 the (signed)
 * message carries, checked before anything is compiled or deserialized: write access to the
 * job's blobs is not enough to run code. Function texts are cached by that digest, since
 * every batch of a job ships the same function and a worker usually sees many batches of one job.
 */
export class PayloadReader {
  private readonly functions = new Map<string, string>();

  constructor(private readonly container: ContainerClient) {}

  async bytes(ref: PayloadRef, what = "data"): Promise<Buffer> {
    if ("inline" in ref) return Buffer.from(ref.inline, "base64");
    const bytes = await downloadBytes(this.container, ref.key, ref.start, ref.end);
    const actual = sha256(bytes);
    if (actual !== ref.sha256) {
      throw new PayloadIntegrityError(
        `the ${what} blob ${ref.key} (bytes ${ref.start}-${ref.end}) has SHA-256 ${actual}, not the ${ref.sha256} its signed message names: it was changed after the job was submitted, so it was not run`,
      );
    }
    return bytes;
  }

  async functionText(ref: PayloadRef): Promise<string> {
    const cacheKey = "inline" in ref ? ref.inline : ref.sha256;
    const cached = this.functions.get(cacheKey);
    if (cached !== undefined) return cached;
    const text = (await this.bytes(ref, "function")).toString("utf8");
    if (this.functions.size >= FUNCTION_CACHE_SIZE) {
      const oldest = this.functions.keys().next().value;
      if (oldest !== undefined) this.functions.delete(oldest);
    }
    this.functions.set(cacheKey, text);
    return text;
  }
}
