import { inspect } from "node:util";
import { ConfigError } from "./errors.ts";
import { objectPartRef } from "../protocol/call-refs.ts";
import { parseStorageUri } from "../azure/storage-names.ts";
import { partitionObject, validateChunking, type ObjectChunking } from "./object-partitioner.ts";
import type { Storage } from "./storage.ts";
import { StorageNoSuchKeyError } from "./errors.ts";

export type Iterdata = Iterable<unknown> | AsyncIterable<unknown>;

/** The calls of a map: one per element, or one per object part when iterdata names storage objects. */
export interface MapInput {
  elements: unknown[];
  /** With object input: how many calls each object got, in call order (0 for an empty object). */
  partsPerObject?: number[];
}

const SCHEME = "az://";
const HEAD_CONCURRENCY = 16;

/** One entry of object input: a URI (an object, or a prefix ending in '/'), with the other named values of a `{ obj }` element. */
interface ObjectSource {
  uri: string;
  named?: Record<string, unknown>;
}

interface SizedObject {
  bucket: string;
  key: string;
  size: number;
  named?: Record<string, unknown>;
}

function isObjectUri(value: unknown): value is string {
  return typeof value === "string" && value.startsWith(SCHEME);
}

/** `{ obj: uri, ...named }`: the key `obj` is reserved for storage objects, as in Lithops. */
function asObjectSource(element: unknown): ObjectSource | undefined {
  if (isObjectUri(element)) return { uri: element };
  if (typeof element !== "object" || element === null || Array.isArray(element)) return undefined;
  // Look before spreading: a rest spread of a 1 MB Buffer copies a million properties.
  if (typeof (element as { obj?: unknown }).obj !== "string") return undefined;
  const { obj, ...named } = element as { obj: string };
  return { uri: obj.startsWith(SCHEME) ? obj : `${SCHEME}${obj}`, named };
}

function describe(value: unknown): string {
  const text = inspect(value, { depth: 1, breakLength: Infinity, maxStringLength: 60 });
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Collects a map's iterdata. Storage objects (`az://container/prefix/`, a list of
 * `az://container/key`, or `{ obj: uri, ...named }` elements) become one call per object
 * part: the call's argument is a reference the worker turns into a StorageObject.
 */
export async function collectMapInput(iterdata: Iterdata, chunking: ObjectChunking, storage: () => Storage): Promise<MapInput> {
  validateChunking(chunking);
  const elements: unknown[] = [];
  if (isObjectUri(iterdata)) elements.push(iterdata);
  else for await (const element of iterdata) elements.push(element);

  const sources = elements.map(asObjectSource);
  const firstPlain = sources.indexOf(undefined);
  if (firstPlain === -1 && elements.length > 0) return partsOf(await sizeObjects(sources as ObjectSource[], storage()), chunking);
  if (sources.some((source) => source !== undefined)) {
    throw new ConfigError(
      `iterdata mixes storage objects (az://... or { obj }) with other values (element ${firstPlain}: ${describe(elements[firstPlain])}); map over one kind at a time`,
    );
  }
  if (chunking.objChunkSize !== undefined || chunking.objChunkNumber !== undefined) {
    throw new ConfigError(
      "objChunkSize and objChunkNumber split storage objects, but iterdata names none: give az://container/prefix/, az://container/key URIs or { obj: uri } elements",
    );
  }
  return { elements };
}

/** Lists prefixes and looks up single objects, keeping iterdata's order (and a listing's order within a prefix). */
async function sizeObjects(sources: ObjectSource[], storage: Storage): Promise<SizedObject[]> {
  const found: SizedObject[][] = new Array(sources.length);
  for (let i = 0; i < sources.length; i += HEAD_CONCURRENCY) {
    await Promise.all(
      sources.slice(i, i + HEAD_CONCURRENCY).map(async ({ uri, named }, offset) => {
        const { container: bucket, key } = parseStorageUri(uri, { prefix: true });
        if (key === "" || key.endsWith("/")) {
          // Keys ending in '/' are folder markers, not data.
          const listed = (await storage.listObjects(bucket, key)).filter((object) => !object.key.endsWith("/"));
          if (listed.length === 0) throw new StorageNoSuchKeyError(`no objects under ${uri}: the prefix is empty or does not exist`);
          found[i + offset] = listed.map((object) => ({ bucket, key: object.key, size: object.size, named }));
        } else {
          found[i + offset] = [{ bucket, key, size: (await storage.headObject(bucket, key)).size, named }];
        }
      }),
    );
  }
  return found.flat();
}

function partsOf(objects: SizedObject[], chunking: ObjectChunking): MapInput {
  const elements: unknown[] = [];
  const partsPerObject: number[] = [];
  for (const { bucket, key, size, named } of objects) {
    const parts = partitionObject(size, chunking);
    parts.forEach(({ start, end }, partNumber) => {
      const ref = objectPartRef({ bucket, key, size, partNumber, totalParts: parts.length, start, end });
      // A bare `{ obj }` gets the StorageObject itself (whose `obj` is itself, so `({ obj }) =>` works too).
      elements.push(named && Object.keys(named).length > 0 ? { ...named, obj: ref } : ref);
    });
    partsPerObject.push(parts.length);
  }
  return { elements, partsPerObject };
}
