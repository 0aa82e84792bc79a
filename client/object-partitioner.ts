import { InvalidArgumentError } from "../protocol/errors.ts";

/** How map splits each object into parts: by size, by count, or not at all (one part per object). */
export interface ObjectChunking {
  /** Bytes per part: ceil(size / objChunkSize) parts per object, as in Lithops. */
  objChunkSize?: number;
  /** Parts per object (fewer only when the object has fewer bytes than that). */
  objChunkNumber?: number;
}

/** A nominal byte range [start, end) of an object; the worker moves both ends to line boundaries. */
export interface ByteRange {
  start: number;
  end: number;
}

export function validateChunking(chunking: ObjectChunking): void {
  const { objChunkSize, objChunkNumber } = chunking;
  for (const [name, value] of [
    ["objChunkSize", objChunkSize],
    ["objChunkNumber", objChunkNumber],
  ] as const) {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 1)) {
      throw new InvalidArgumentError(`${name}: ${JSON.stringify(value)} is not valid; use a whole number of 1 or more`);
    }
  }
  if (objChunkSize !== undefined && objChunkNumber !== undefined) {
    throw new InvalidArgumentError(`give objChunkSize (${objChunkSize}) or objChunkNumber (${objChunkNumber}), not both`);
  }
}

/**
 * The parts of an object of `size` bytes. An empty object has no parts (Lithops skips it
 * too). With objChunkNumber the bytes are spread evenly: part sizes differ by at most one.
 */
export function partitionObject(size: number, chunking: ObjectChunking = {}): ByteRange[] {
  validateChunking(chunking);
  if (!Number.isSafeInteger(size) || size < 0) throw new InvalidArgumentError(`object size ${size} is not a byte count`);
  if (size === 0) return [];
  if (chunking.objChunkSize !== undefined) {
    const chunk = chunking.objChunkSize;
    const count = Math.ceil(size / chunk);
    return Array.from({ length: count }, (_, i) => ({ start: i * chunk, end: Math.min(size, (i + 1) * chunk) }));
  }
  if (chunking.objChunkNumber !== undefined) {
    const count = Math.min(chunking.objChunkNumber, size);
    const base = Math.floor(size / count);
    const longer = size % count;
    // The first `longer` parts get one byte more; integer arithmetic stays exact for any object size.
    const startOf = (i: number): number => i * base + Math.min(i, longer);
    return Array.from({ length: count }, (_, i) => ({ start: startOf(i), end: startOf(i + 1) }));
  }
  return [{ start: 0, end: size }];
}
