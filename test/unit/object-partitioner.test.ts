import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { partitionObject, validateChunking } from "../../client/object-partitioner.ts";
import { InvalidArgumentError } from "../../protocol/errors.ts";

const size = fc.integer({ min: 1, max: 1_000_000_000_000 });

/** The parts tile [0, size): they start at 0, each begins where the last ended, and the last ends at size. */
function assertTiles(parts: { start: number; end: number }[], total: number): void {
  assert.equal(parts[0].start, 0);
  for (let i = 1; i < parts.length; i++) assert.equal(parts[i].start, parts[i - 1].end);
  assert.equal(parts.at(-1)!.end, total);
  assert.ok(parts.every((part) => part.end > part.start));
}

describe("object partitioner: byte ranges of an object's parts", () => {
  it("without chunking an object is one part; an empty object has none", () => {
    assert.deepEqual(partitionObject(10), [{ start: 0, end: 10 }]);
    assert.deepEqual(partitionObject(0, { objChunkSize: 4 }), []);
    assert.deepEqual(partitionObject(0, { objChunkNumber: 4 }), []);
  });

  it("objChunkSize gives ceil(size / objChunkSize) parts of that size, the last one shorter", () => {
    assert.deepEqual(partitionObject(10, { objChunkSize: 4 }), [
      { start: 0, end: 4 },
      { start: 4, end: 8 },
      { start: 8, end: 10 },
    ]);
    fc.assert(
      fc.property(size, fc.integer({ min: 1, max: 1_000_000_000_000 }), (total, chunk) => {
        fc.pre(total / chunk <= 10_000);
        const parts = partitionObject(total, { objChunkSize: chunk });
        assert.equal(parts.length, Math.ceil(total / chunk));
        assertTiles(parts, total);
        assert.ok(parts.slice(0, -1).every((part) => part.end - part.start === chunk));
      }),
    );
  });

  it("objChunkNumber spreads the bytes evenly (sizes differ by one at most), fewer parts only when there are fewer bytes", () => {
    assert.deepEqual(partitionObject(10, { objChunkNumber: 3 }), [
      { start: 0, end: 4 },
      { start: 4, end: 7 },
      { start: 7, end: 10 },
    ]);
    assert.equal(partitionObject(2, { objChunkNumber: 5 }).length, 2);
    fc.assert(
      fc.property(size, fc.integer({ min: 1, max: 5_000 }), (total, count) => {
        const parts = partitionObject(total, { objChunkNumber: count });
        assert.equal(parts.length, Math.min(count, total));
        assertTiles(parts, total);
        const lengths = parts.map((part) => part.end - part.start);
        assert.ok(Math.max(...lengths) - Math.min(...lengths) <= 1);
      }),
    );
  });

  it("refuses chunk settings that are not whole numbers of 1 or more, or both at once, naming the value", () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(
        () => validateChunking({ objChunkSize: bad }),
        (error: Error) => error instanceof InvalidArgumentError && /objChunkSize: .* 1 or more/.test(error.message),
      );
      assert.throws(() => partitionObject(10, { objChunkNumber: bad }), InvalidArgumentError);
    }
    assert.throws(() => validateChunking({ objChunkSize: 4, objChunkNumber: 2 }), /objChunkSize \(4\) or objChunkNumber \(2\), not both/);
    assert.throws(() => partitionObject(-1), /object size -1 is not a byte count/);
    assert.doesNotThrow(() => validateChunking({}));
  });
});
