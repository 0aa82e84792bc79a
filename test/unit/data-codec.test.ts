import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { deserialize, serialize } from "node:v8";
import fc from "fast-check";
import { decodeValue, encodeCompact, encodeValue } from "../../protocol/data-codec.ts";
import { UnserializableValueError } from "../../protocol/errors.ts";

/** What V8's format gives back: the reference every encoding must match. */
const viaV8 = (value: unknown): unknown => deserialize(serialize(value));
/** The first byte of V8's serialization format. */
const V8_VERSION_TAG = 0xff;

describe("compact data encoding: JSON text when it decodes to the same value, V8 otherwise", () => {
  it("decodes any value exactly as V8's format does", () => {
    fc.assert(
      fc.property(
        fc.anything({
          withBigInt: true,
          withBoxedValues: true,
          withDate: true,
          withMap: true,
          withSet: true,
          withNullPrototype: true,
          withSparseArray: true,
          withTypedArray: true,
        }),
        (value) => {
          const encoded = encodeCompact(value, "value");
          const decoded = decodeValue(encoded);
          if (encoded[0] === V8_VERSION_TAG) {
            // Both sides come out of V8's deserializer, so their bytes must match; deepStrictEqual
            // would call two invalid Dates unequal (NaN !== NaN).
            assert.deepStrictEqual(serialize(decoded), serialize(viaV8(value)));
          } else {
            assert.deepStrictEqual(decoded, viaV8(value));
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("uses JSON for plain data and V8 for everything JSON would change", () => {
    const json = (value: unknown): boolean => encodeCompact(value, "value")[0] !== 0xff;
    for (const plain of [[3], ["text", true, null, 1.5], { a: [1, { b: "c" }] }, [], {}, ["\ud800 lone surrogate"], [Number.MAX_VALUE, -1e-300]]) {
      assert.ok(json(plain), JSON.stringify(plain));
    }
    const shared = { x: 1 };
    const circular: unknown[] = [];
    circular.push(circular);
    const withExtra = Object.assign([1, 2], { extra: true });
    const deep = JSON.parse("[".repeat(200) + "]".repeat(200)) as unknown;
    for (const other of [
      [undefined],
      [-0],
      [NaN],
      [Infinity],
      [1n],
      [new Date(0)],
      [Buffer.from("x")],
      [new Map()],
      [[, 1]],
      [shared, shared],
      circular,
      withExtra,
      deep,
      [new (class Point {})()],
      Array.from({ length: 5000 }, (_, i) => i),
    ]) {
      assert.equal(json(other), false, String(other));
      assert.deepStrictEqual(decodeValue(encodeCompact(other, "value")), viaV8(other));
    }
  });

  it("keeps shared references shared", () => {
    const shared = { x: 1 };
    const [a, b] = decodeValue(encodeCompact([shared, shared], "value")) as object[];
    assert.equal(a, b);
  });

  it("still decodes V8-encoded bytes (encodeValue), and refuses what V8 refuses", () => {
    assert.deepStrictEqual(decodeValue(encodeValue([1, "a", { b: 2 }], "value")), [1, "a", { b: 2 }]);
    assert.throws(
      () => encodeCompact([() => 1], "the argument of call 3"),
      (error: unknown) => error instanceof UnserializableValueError && /call 3/.test((error as Error).message),
    );
  });

  it("decodes from a view into a larger buffer", () => {
    const bytes = Buffer.concat([encodeCompact([1, 2], "a"), encodeCompact(["x"], "b")]);
    const first = encodeCompact([1, 2], "a").length;
    assert.deepStrictEqual(decodeValue(bytes.subarray(0, first)), [1, 2]);
    assert.deepStrictEqual(decodeValue(new Uint8Array(bytes.buffer, bytes.byteOffset + first, bytes.length - first)), ["x"]);
  });
});
