import { Readable } from "node:stream";
import type { ContainerClient } from "@azure/storage-blob";
import type { ObjectPartRef, StorageObject } from "../protocol/call-refs.ts";
import { downloadStream } from "../azure/storage-connection.ts";

const NEWLINE = 0x0a;
/** Bytes read past a part's nominal end per request while looking for the end of its last line. */
const LOOKAHEAD_BYTES = 128 * 1024;

/**
 * One part of an object, as a function processing objects receives it. Lithops's rule
 * keeps lines whole: a part's end moves forward to the end of the line it cuts, and a
 * part other than the first skips its start up to the first newline at or after the byte
 * before it. Both moves find the same boundary (one past the first newline at or after
 * the byte before the nominal boundary), so every line is in exactly one part.
 */
export class ObjectPart implements StorageObject {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  readonly partNumber: number;
  readonly totalParts: number;
  readonly dataByteRange: readonly [number, number] | undefined;

  constructor(
    private readonly ref: ObjectPartRef,
    private readonly container: ContainerClient,
  ) {
    this.bucket = ref.bucket;
    this.key = ref.key;
    this.size = ref.size;
    this.partNumber = ref.partNumber;
    this.totalParts = ref.totalParts;
    this.dataByteRange = ref.totalParts === 1 ? undefined : [ref.start, ref.end - 1];
  }

  get obj(): this {
    return this;
  }

  async data(): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.adjustedBytes()) chunks.push(chunk);
    return Buffer.concat(chunks);
  }

  stream(): Readable {
    return Readable.from(this.adjustedBytes(), { objectMode: false });
  }

  /** The part's bytes after the newline adjustment, streamed in the SDK's chunks. */
  private async *adjustedBytes(): AsyncGenerator<Buffer> {
    const { start, end, size } = this.ref;
    let position = start === 0 ? 0 : start - 1;
    let skipping = start > 0;
    let windowEnd = end >= size ? size : Math.min(size, end + LOOKAHEAD_BYTES);
    while (position < size) {
      for await (const received of await downloadStream(this.container, this.key, position, windowEnd)) {
        let chunk = received as Buffer;
        if (skipping) {
          const newline = chunk.indexOf(NEWLINE);
          if (newline === -1) {
            position += chunk.length;
            continue;
          }
          chunk = chunk.subarray(newline + 1);
          position += newline + 1;
          skipping = false;
          // The line the start skipped reaches past the nominal end: the previous part holds it, this one is empty.
          if (end < size && position >= end) return;
        }
        if (end < size && position + chunk.length > end - 1) {
          const newline = chunk.indexOf(NEWLINE, Math.max(0, end - 1 - position));
          if (newline !== -1) {
            yield chunk.subarray(0, newline + 1);
            return;
          }
        }
        if (chunk.length > 0) yield chunk;
        position += chunk.length;
      }
      windowEnd = Math.min(size, position + LOOKAHEAD_BYTES);
    }
  }
}
