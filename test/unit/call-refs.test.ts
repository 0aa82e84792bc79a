import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  callResultsRef,
  futureRef,
  isCallResultsRef,
  isFutureRef,
  isFutureRefSource,
  isObjectPartRef,
  objectPartRef,
  TO_FUTURE_REF,
} from "../../protocol/call-refs.ts";
import { decodeValue, encodeValue } from "../../protocol/data-codec.ts";

describe("call refs: markers for values the worker replaces", () => {
  const part = objectPartRef({ bucket: "b", key: "k", size: 10, partNumber: 0, totalParts: 1, start: 0, end: 10 });
  const results = callResultsRef({ executorId: "e", jobId: "M000", first: 0, count: 2, batches: [0] });
  const future = futureRef({ executorId: "e", jobId: "M000", callId: "00000", batch: 0 });

  it("each guard recognises its own kind only", () => {
    assert.deepEqual([isObjectPartRef(part), isCallResultsRef(part), isFutureRef(part)], [true, false, false]);
    assert.deepEqual([isObjectPartRef(results), isCallResultsRef(results), isFutureRef(results)], [false, true, false]);
    assert.deepEqual([isObjectPartRef(future), isCallResultsRef(future), isFutureRef(future)], [false, false, true]);
  });

  it("plain values, even with the same fields, are not refs", () => {
    for (const value of [
      null,
      undefined,
      1,
      "future",
      [],
      { bucket: "b", key: "k" },
      { $lithopsRef: "other" },
      { executorId: "e", jobId: "M000", callId: "00000" },
    ]) {
      assert.deepEqual([isObjectPartRef(value), isCallResultsRef(value), isFutureRef(value), isFutureRefSource(value)], [false, false, false, false]);
    }
  });

  it("a ref is plain data: it keeps its kind and fields through the data codec, so the other side still knows it", () => {
    for (const ref of [part, results, future]) assert.deepEqual(decodeValue(encodeValue(ref, "argument")), ref);
    assert.equal(isFutureRef(decodeValue(encodeValue(future, "argument"))), true);
  });

  it("a future ref source is any object with a TO_FUTURE_REF method", () => {
    assert.equal(isFutureRefSource({ [TO_FUTURE_REF]: () => future }), true);
    assert.equal(isFutureRefSource({ [TO_FUTURE_REF]: future }), false);
  });
});
