import type { Readable } from "node:stream";

/**
 * Plain descriptors that travel in a call's arguments or result in place of something
 * that cannot be serialized, and are turned back into that thing on the other side:
 * - an object part: the worker's call thread gives the function a StorageObject;
 * - call results: the worker's call thread waits for those calls' status documents and
 *   gives the function their values (a reducer reads the map outputs itself);
 * - a future: a function returned a nested job's ResponseFuture; the client follows it.
 */
const REF = "$lithopsRef";

/** A byte range of one storage object, read with the newline adjustment by the worker. */
export interface ObjectPartRef {
  [REF]: "object-part";
  bucket: string;
  key: string;
  /** The whole object's size in bytes. */
  size: number;
  partNumber: number;
  totalParts: number;
  /** Nominal range [start, end) before the newline adjustment. */
  start: number;
  end: number;
}

/** The results of calls first..first+count-1 of a job, held in the status documents of `batches`. */
export interface CallResultsRef {
  [REF]: "call-results";
  executorId: string;
  jobId: string;
  first: number;
  count: number;
  batches: number[];
}

/** One call of a (nested) job. */
export interface FutureRef {
  [REF]: "future";
  executorId: string;
  jobId: string;
  callId: string;
  batch: number;
}

/** Objects that can stand for themselves as a FutureRef (ResponseFuture) implement this method. */
export const TO_FUTURE_REF = Symbol.for("lithops-aca.toFutureRef");

export interface FutureRefSource {
  [TO_FUTURE_REF](): FutureRef;
}

/** What a function processing objects receives for each part of an object. */
export interface StorageObject {
  readonly bucket: string;
  readonly key: string;
  /** The whole object's size in bytes. */
  readonly size: number;
  /** 0-based part of the object; `totalParts` parts in all. */
  readonly partNumber: number;
  readonly totalParts: number;
  /**
   * The nominal byte range [first, last] (inclusive, as in an HTTP Range) before the
   * newline adjustment; undefined when the object is processed whole.
   */
  readonly dataByteRange: readonly [number, number] | undefined;
  /** The part's bytes: whole lines only, each line in exactly one part. */
  data(): Promise<Buffer>;
  /** The same bytes as a stream, for parts too large to hold in memory. */
  stream(): Readable;
  /** This object again: a function written for `{ obj }` elements, `({ obj }) => ...`, gets it too. */
  readonly obj: StorageObject;
}

export function objectPartRef(part: Omit<ObjectPartRef, typeof REF>): ObjectPartRef {
  return { [REF]: "object-part", ...part };
}

export function callResultsRef(calls: Omit<CallResultsRef, typeof REF>): CallResultsRef {
  return { [REF]: "call-results", ...calls };
}

export function futureRef(call: Omit<FutureRef, typeof REF>): FutureRef {
  return { [REF]: "future", ...call };
}

function refKind(value: unknown): unknown {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[REF] : undefined;
}

export function isObjectPartRef(value: unknown): value is ObjectPartRef {
  return refKind(value) === "object-part";
}

export function isCallResultsRef(value: unknown): value is CallResultsRef {
  return refKind(value) === "call-results";
}

export function isFutureRef(value: unknown): value is FutureRef {
  return refKind(value) === "future";
}

export function isFutureRefSource(value: unknown): value is FutureRefSource {
  return typeof value === "object" && value !== null && typeof (value as Partial<FutureRefSource>)[TO_FUTURE_REF] === "function";
}
