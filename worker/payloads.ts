import type { ContainerClient } from "@azure/storage-blob";
import type { PayloadRef } from "../protocol/message.ts";
import { downloadBytes } from "../azure/storage-connection.ts";

const FUNCTION_CACHE_SIZE = 64;

/**
 * Reads the bytes a message points at. Function texts are cached, since every batch of
 * a job ships the same function and a worker usually sees many batches of one job.
 */
export class PayloadReader {
  private readonly functions = new Map<string, string>();

  constructor(private readonly container: ContainerClient) {}

  async bytes(ref: PayloadRef): Promise<Buffer> {
    if ("inline" in ref) return Buffer.from(ref.inline, "base64");
    return downloadBytes(this.container, ref.key, ref.start, ref.end);
  }

  async functionText(ref: PayloadRef): Promise<string> {
    const cacheKey = "inline" in ref ? ref.inline : `${ref.key}#${ref.start}-${ref.end}`;
    const cached = this.functions.get(cacheKey);
    if (cached !== undefined) return cached;
    const text = (await this.bytes(ref)).toString("utf8");
    if (this.functions.size >= FUNCTION_CACHE_SIZE) {
      const oldest = this.functions.keys().next().value;
      if (oldest !== undefined) this.functions.delete(oldest);
    }
    this.functions.set(cacheKey, text);
    return text;
  }
}
