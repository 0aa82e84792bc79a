import assert from "node:assert/strict";
import { Socket } from "node:net";
import { describe, it } from "node:test";
import { UnshippableFunctionError } from "../../client/index.ts";
import { classShapesThroughTsx } from "../support/class-shapes-through-tsx.ts";
import { suiteExecutor } from "../support/executor.ts";

const classShapes = await classShapesThroughTsx();

/**
 * Issue 11, point 6: functions ship whole, or not at all. Each class shape, from a .ts
 * file run with tsx, is mapped on the local backend's worker processes and compared with
 * the same function run here; what cannot ship is refused at submit with what to change.
 */
describe("classes ship to local workers and give the same results as locally", () => {
  const fexec = suiteExecutor();
  const inputs = [1, 2, 3];

  for (const [shape, fn] of Object.entries(classShapes)) {
    it(`${shape}`, async () => {
      const futures = await fexec().map(fn, inputs);
      assert.deepEqual(
        await fexec().getResult(futures, { timeout: 120 }),
        inputs.map((n) => fn(n)),
      );
    });
  }

  it("refuses at submit, before any call is queued, each value that cannot ship, naming it and what to change", async () => {
    const conn = new Socket();
    const pending = Promise.resolve(2);
    const seen = new WeakSet<object>();
    class Vault {
      #secret = 1;
      read(): number {
        return this.#secret;
      }
    }
    const vault = new Vault();
    const scale = function (this: { k: number }, x: number) {
      return x * this.k;
    }.bind({ k: 2 });
    const cases: [(n: number) => unknown, RegExp][] = [
      [(n) => conn.write(String(n)), /captures `conn`, a Socket, which holds native state of this process; create it inside the function/],
      [(n) => pending.then((k) => k * n), /captures `pending`, a Promise; await it before submitting/],
      [(n) => seen.has({ n }), /captures `seen`, a WeakSet, whose entries cannot be listed; use a Map or Set instead/],
      [(n) => vault.read() + n, /captures `vault`, an instance of Vault with private fields \(#secret\), which cannot be copied/],
      [(n) => scale(n), /captures `scale`, a bound function .*use an arrow function instead/],
    ];
    const submitted = fexec().allFutures().length;
    try {
      for (const [fn, message] of cases) {
        await assert.rejects(fexec().map(fn, inputs), (error: unknown) => error instanceof UnshippableFunctionError && message.test(error.message));
      }
      assert.equal(fexec().allFutures().length, submitted);
    } finally {
      conn.destroy();
    }
  });
});
