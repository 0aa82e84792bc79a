import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import type { FunctionExecutor } from "../../client/index.ts";
import { shipFunction } from "../../client/ship-function.ts";
import { loadFunction } from "../../worker/load-function.ts";
import { testExecutor } from "../support/executor.ts";
import { repoPath } from "../support/package-paths.ts";

// Plain JavaScript on purpose, without declarations (see the file), from the repository whether the tests run from their sources or their build.
const { nestedJobs, shapes } = (await import(pathToFileURL(repoPath("test/support/shadowing-shapes.mjs")).href)) as {
  nestedJobs: unknown[];
  shapes: unknown[];
};

const functionFile = repoPath(".lithops-function-test.cjs");
type Shape = [string, (x: number) => unknown, unknown];

/**
 * A name declared inside the shipped function is its own, never the module-level binding of
 * the same name (issue 17, point 3). The functions come from a plain JavaScript file that
 * imports the client at its top and holds a socket, neither of which can ship.
 */
describe("function serializer: names declared inside the function shadow the module's", () => {
  for (const [shape, fn, expected] of shapes as Shape[]) {
    it(`${shape}: ships and computes with its own binding`, async () => {
      const remote = loadFunction(await shipFunction(fn), "handler", functionFile) as (x: number) => unknown;
      assert.deepEqual(await remote(1), expected);
    });
  }
});

describe("nested jobs shipped from a file that imports FunctionExecutor at the top", () => {
  let fexec: FunctionExecutor;
  before(() => {
    fexec = testExecutor({ maxWorkers: 1 });
  });
  after(async () => {
    await fexec.close();
  });

  for (const [shape, fn, expected] of nestedJobs as Shape[]) {
    it(shape, async () => {
      const future = await fexec.callAsync(fn, 10);
      assert.deepEqual(await fexec.getResult(future), expected);
    });
  }
});
