import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { partitionObject, type FunctionExecutor, type Storage, type StorageObject } from "../../client/index.ts";
import { startAzurite, type Azurite } from "../../local/azurite.ts";
import { objectPartRef } from "../../protocol/call-refs.ts";
import { connectStorage } from "../../azure/storage-connection.ts";
import { ObjectPart } from "../../worker/object-part.ts";
import { executorWithObjects } from "../support/executor.ts";

/** Every part of `text` as the worker reads it, for the given chunking. */
async function readParts(
  container: ReturnType<typeof connectStorage>["container"],
  key: string,
  text: string,
  chunking: Parameters<typeof partitionObject>[1],
): Promise<string[]> {
  const size = Buffer.byteLength(text);
  const ranges = partitionObject(size, chunking);
  const parts = ranges.map(
    ({ start, end }, partNumber) =>
      new ObjectPart(objectPartRef({ bucket: container.containerName, key, size, partNumber, totalParts: ranges.length, start, end }), container),
  );
  return Promise.all(parts.map(async (part) => (await part.data()).toString()));
}

/**
 * The newline rule: the parts put back together are the object (no byte lost or read
 * twice), and every part ends at the end of a line (a newline, or the object's end).
 */
function assertWholeLines(parts: string[], text: string, label: string): void {
  assert.equal(parts.join(""), text, `${label}: parts joined differ from the object`);
  let offset = 0;
  parts.forEach((part, i) => {
    offset += part.length;
    assert.ok(part === "" || part.endsWith("\n") || offset === text.length, `${label}: part ${i} cuts a line: ${JSON.stringify(part)}`);
  });
}

function wordCounts(texts: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const word of texts.join("\n").split(/\s+/).filter(Boolean)) counts[word] = (counts[word] ?? 0) + 1;
  return counts;
}

function mergeCounts(partial: Record<string, number>[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const counts of partial) for (const [word, n] of Object.entries(counts)) total[word] = (total[word] ?? 0) + n;
  return total;
}

const countWords = async (obj: StorageObject): Promise<Record<string, number>> => {
  const counts: Record<string, number> = {};
  for (const word of (await obj.data()).toString().split(/\s+/).filter(Boolean)) counts[word] = (counts[word] ?? 0) + 1;
  return counts;
};

const WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"];

/** Lines of 1-12 words, deterministic. */
function lines(count: number, seed: number): string {
  let state = seed;
  const next = (): number => (state = (state * 1103515245 + 12345) % 2147483648);
  return Array.from({ length: count }, () => Array.from({ length: 1 + (next() % 12) }, () => WORDS[next() % WORDS.length]).join(" ")).join("\n");
}

describe("object partitioner: calls per object, as Lithops counts them", () => {
  it("objChunkSize gives ceil(size / chunk) parts covering the object", () => {
    for (const [size, chunk, parts] of [
      [10, 3, 4],
      [9, 3, 3],
      [1, 64, 1],
      [63, 64, 1],
      [64, 64, 1],
      [65, 64, 2],
      [1_000_000, 65_536, 16],
    ] as const) {
      const ranges = partitionObject(size, { objChunkSize: chunk });
      assert.equal(ranges.length, parts, `size ${size}, chunk ${chunk}`);
      assert.deepEqual(ranges[0], { start: 0, end: Math.min(size, chunk) });
      assert.equal(ranges.at(-1)?.end, size);
    }
  });

  it("objChunkNumber gives that many parts, or one per byte for a smaller object", () => {
    assert.deepEqual(partitionObject(10, { objChunkNumber: 4 }), [
      { start: 0, end: 3 },
      { start: 3, end: 6 },
      { start: 6, end: 8 },
      { start: 8, end: 10 },
    ]);
    assert.equal(partitionObject(10, { objChunkNumber: 6 }).length, 6);
    assert.equal(partitionObject(3, { objChunkNumber: 5 }).length, 3);
    assert.equal(partitionObject(2 ** 40 + 7, { objChunkNumber: 3 }).at(-1)?.end, 2 ** 40 + 7);
  });

  it("an empty object has no parts; no chunking is one part", () => {
    assert.deepEqual(partitionObject(0, { objChunkSize: 10 }), []);
    assert.deepEqual(partitionObject(0, { objChunkNumber: 3 }), []);
    assert.deepEqual(partitionObject(0), []);
    assert.deepEqual(partitionObject(1234), [{ start: 0, end: 1234 }]);
  });

  it("parts are contiguous and never empty, for any size and chunking", () => {
    fc.assert(
      fc.property(fc.nat(100_000), fc.boolean(), fc.integer({ min: 1, max: 5000 }), (size, bySize, n) => {
        const ranges = partitionObject(size, bySize ? { objChunkSize: n } : { objChunkNumber: n });
        const expected = size === 0 ? 0 : bySize ? Math.ceil(size / n) : Math.min(n, size);
        assert.equal(ranges.length, expected);
        ranges.forEach((range, i) => {
          assert.equal(range.start, i === 0 ? 0 : ranges[i - 1].end);
          assert.ok(range.end > range.start);
        });
        if (size > 0) assert.equal(ranges.at(-1)?.end, size);
      }),
    );
  });

  it("rejects bad chunking with the value and what is valid", () => {
    assert.throws(() => partitionObject(10, { objChunkSize: 0 }), /objChunkSize: 0 is not valid; use a whole number of 1 or more/);
    assert.throws(() => partitionObject(10, { objChunkNumber: 2.5 }), /objChunkNumber: 2.5 is not valid/);
    assert.throws(() => partitionObject(10, { objChunkSize: 4, objChunkNumber: 2 }), /objChunkSize \(4\) or objChunkNumber \(2\), not both/);
  });
});

describe("object parts read in the worker: whole lines, each in exactly one part", () => {
  let azurite: Azurite;
  let container: ReturnType<typeof connectStorage>["container"];
  before(async () => {
    azurite = await startAzurite();
    container = connectStorage({ connectionString: azurite.connectionString, container: "parts" }).container;
    await container.create();
  });
  after(async () => {
    await azurite.stop();
  });

  // 10 lines have every line length that 40 of lines() have (5 to 53 bytes, so lines longer than a
  // 50-byte part too), in a quarter of the bytes: chunk size 1 reads each byte as a part, one request each.
  const texts: Record<string, string> = {
    trailing: `${lines(10, 1)}\n`,
    "no-trailing-newline": lines(10, 2),
    "blank-lines": "a\n\n\nbb\n\n",
    "one-line": "no newline at all in this object",
    newlines: "\n\n\n\n",
  };

  for (const [name, text] of Object.entries(texts)) {
    it(`${name}: for chunk sizes from 1 byte to more than the object`, async () => {
      await container.getBlockBlobClient(name).uploadData(Buffer.from(text));
      const size = Buffer.byteLength(text);
      for (const objChunkSize of [1, 2, 3, 7, 16, 50, size - 1, size, size + 10].filter((n) => n >= 1)) {
        assertWholeLines(await readParts(container, name, text, { objChunkSize }), text, `chunk ${objChunkSize}`);
      }
      for (const objChunkNumber of [2, 3, 5]) {
        assertWholeLines(await readParts(container, name, text, { objChunkNumber }), text, `${objChunkNumber} parts`);
      }
    });
  }

  it("a line longer than the read-ahead window stays in one part", async () => {
    const long = "x".repeat(300 * 1024);
    const text = `short\n${long}\nend\n`;
    await container.getBlockBlobClient("long-line").uploadData(Buffer.from(text));
    const parts = await readParts(container, "long-line", text, { objChunkNumber: 8 });
    assertWholeLines(parts, text, "8 parts");
    assert.equal(parts.filter((part) => part.includes(long)).length, 1);
  });

  it("stream() gives the same bytes as data()", async () => {
    const text = lines(200, 3);
    await container.getBlockBlobClient("stream").uploadData(Buffer.from(text));
    const size = Buffer.byteLength(text);
    const part = new ObjectPart(objectPartRef({ bucket: "parts", key: "stream", size, partNumber: 1, totalParts: 3, start: 500, end: 1500 }), container);
    const chunks: Buffer[] = [];
    for await (const chunk of part.stream()) chunks.push(chunk as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), (await part.data()).toString());
    assert.deepEqual(part.dataByteRange, [500, 1499]);
    assert.equal(part.obj, part);
  });

  it("random texts and chunk sizes", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom("a", "bc", " ", "\n", "\n\n", "déf"), { maxLength: 60 }).map((pieces) => pieces.join("")),
        fc.integer({ min: 1, max: 40 }),
        async (text, objChunkSize) => {
          await container.getBlockBlobClient("random").uploadData(Buffer.from(text));
          assertWholeLines(await readParts(container, "random", text, { objChunkSize }), text, `chunk ${objChunkSize}`);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe("object processing on the local backend: word count", () => {
  let fexec: FunctionExecutor;
  let storage: Storage;
  const objects: Record<string, string> = {
    "wc/lines.txt": `${lines(600, 11)}\n`,
    "wc/no-trailing-newline.txt": lines(300, 12),
    "wc/small.txt": "eta theta\nalpha\n",
    "wc/empty.txt": "",
  };
  const CHUNK = 2000;
  before(async () => {
    ({ fexec, storage } = await executorWithObjects(objects));
  });
  after(async () => {
    await fexec.close();
  });

  it("a prefix with objChunkSize: Lithops's number of calls, the word count of the objects", async () => {
    const fs = await fexec.map(countWords, `az://${storage.bucket}/wc/`, { objChunkSize: CHUNK });
    const expectedCalls = Object.values(objects).reduce((sum, text) => sum + Math.ceil(Buffer.byteLength(text) / CHUNK), 0);
    assert.equal(fs.length, expectedCalls);
    const partial = (await fexec.getResult(fs)) as Record<string, number>[];
    assert.deepEqual(mergeCounts(partial), wordCounts(Object.values(objects)));
  });

  it("the function receives a StorageObject with its part's place in the object", async () => {
    const fs = await fexec.map(
      (obj: StorageObject) => ({ bucket: obj.bucket, key: obj.key, size: obj.size, part: obj.partNumber, parts: obj.totalParts, range: obj.dataByteRange }),
      [`az://${storage.bucket}/wc/lines.txt`, `az://${storage.bucket}/wc/small.txt`],
      { objChunkSize: CHUNK },
    );
    const seen = (await fexec.getResult(fs)) as { bucket: string; key: string; size: number; part: number; parts: number; range?: [number, number] }[];
    const size = Buffer.byteLength(objects["wc/lines.txt"]);
    const lineParts = seen.filter((s) => s.key === "wc/lines.txt");
    assert.equal(lineParts.length, Math.ceil(size / CHUNK));
    lineParts.forEach((s, i) => {
      assert.equal(s.bucket, storage.bucket);
      assert.equal(s.size, size);
      assert.equal(s.part, i);
      assert.equal(s.parts, lineParts.length);
      assert.deepEqual(s.range, [i * CHUNK, Math.min(size, (i + 1) * CHUNK) - 1]);
    });
    assert.deepEqual(seen.at(-1), { bucket: storage.bucket, key: "wc/small.txt", size: 16, part: 0, parts: 1, range: undefined });
  });

  it("a list of URIs with objChunkNumber, read with stream()", async () => {
    const keys = ["wc/lines.txt", "wc/no-trailing-newline.txt", "wc/small.txt"];
    const fs = await fexec.map(
      async (obj: StorageObject) => {
        let text = "";
        for await (const chunk of obj.stream()) text += chunk;
        const counts: Record<string, number> = {};
        for (const word of text.split(/\s+/).filter(Boolean)) counts[word] = (counts[word] ?? 0) + 1;
        return counts;
      },
      keys.map((key) => `az://${storage.bucket}/${key}`),
      { objChunkNumber: 5 },
    );
    assert.equal(fs.length, 15);
    assert.deepEqual(mergeCounts((await fexec.getResult(fs)) as Record<string, number>[]), wordCounts(keys.map((key) => objects[key])));
  });

  it("{ obj } elements: named values next to the object, and a bare { obj } destructures too", async () => {
    const named = await fexec.map(
      async ({ obj, label }: { obj: StorageObject; label: string }) => `${label}:${obj.key}:${(await obj.data()).length}`,
      [{ obj: `az://${storage.bucket}/wc/small.txt`, label: "s" }],
    );
    const bare = await fexec.map(async ({ obj }: { obj: StorageObject }) => (await obj.data()).toString(), [{ obj: `${storage.bucket}/wc/small.txt` }]);
    assert.deepEqual(await fexec.getResult(named), ["s:wc/small.txt:16"]);
    assert.deepEqual(await fexec.getResult(bare), [objects["wc/small.txt"]]);
  });

  it("bad object input fails at submit with a message naming it", async () => {
    // @ts-expect-error a number among object URIs: the types refuse it too
    await assert.rejects(fexec.map(countWords, [`az://${storage.bucket}/wc/small.txt`, 3]), /mixes storage objects .* \(element 1: 3\)/);
    await assert.rejects(
      fexec.map((x: number) => x, [1, 2], { objChunkSize: 10 }),
      /objChunkSize and objChunkNumber split storage objects, but iterdata names none/,
    );
    await assert.rejects(fexec.map(countWords, `az://${storage.bucket}/wc/missing.txt`), /az:\/\/lithops-jobs\/wc\/missing.txt does not exist/);
    await assert.rejects(fexec.map(countWords, `az://${storage.bucket}/nothing-here/`), /no objects under az:\/\/lithops-jobs\/nothing-here\//);
    await assert.rejects(fexec.map(countWords, "az://Bad_Container/x"), /not a valid Azure container name/);
  });
});
