// Plain JavaScript, as a program run with `node app.mjs` is (tsx would rename the shadowing
// locals below and hide the case): the client imported at the top of the file, and functions
// that declare the same names again. Shipping the client's classes is refused (they capture
// zod's internals) and so is the socket, so a function that took a local for the module's
// binding fails at submit.
import { Socket } from "node:net";
import { FunctionExecutor, Storage } from "lithops-aca";

const conn = new Socket();
const limit = 10;
const scale = (x) => x * limit;
export const moduleBindings = () => [FunctionExecutor, Storage, conn];

/** [shape, function of one number, its value for 1] */
export const shapes = [
  [
    "a const",
    (x) => {
      const Storage = 1;
      return Storage + x;
    },
    2,
  ],
  ["a parameter", (FunctionExecutor) => FunctionExecutor * 2, 2],
  ["a default parameter reading a module-level name", (conn, Storage = limit) => [conn, Storage], [1, 10]],
  ["object destructuring with rest and renaming", (x) => (({ a: Storage, ...conn }) => [Storage, conn])({ a: x, b: limit }), [1, { b: 10 }]],
  [
    "array destructuring with a default, in a nested block",
    (x) => {
      {
        const [Storage, , FunctionExecutor = 3] = [x, 0];
        return Storage + FunctionExecutor;
      }
    },
    4,
  ],
  [
    "a var in a nested block, hoisted",
    (x) => {
      if (x > 0) {
        // biome-ignore lint/correctness/noInnerDeclarations: the hoisted var is the case under test
        var Storage = x * 5;
      }
      return Storage;
    },
    5,
  ],
  [
    "a function declaration",
    (x) => {
      function Storage(n) {
        return n + 1;
      }
      return Storage(x);
    },
    2,
  ],
  [
    "a class declaration",
    (x) => {
      class FunctionExecutor {
        constructor(n) {
          this.n = n;
        }
      }
      return new FunctionExecutor(x).n;
    },
    1,
  ],
  [
    "a catch binding",
    (x) => {
      try {
        throw new Error(String(x));
      } catch (conn) {
        return conn.message;
      }
    },
    "1",
  ],
  [
    "a destructured catch binding",
    (x) => {
      try {
        throw { Storage: x };
      } catch ({ Storage }) {
        return Storage;
      }
    },
    1,
  ],
  [
    "for-of and for-in bindings",
    (x) => {
      let sum = 0;
      for (const Storage of [x, x]) sum += Storage;
      for (const FunctionExecutor in { ab: 1 }) sum += FunctionExecutor.length;
      return sum;
    },
    4,
  ],
  [
    "a nested function's own parameter, while the outer function reads the module's",
    (x) => {
      const inner = (limit) => limit + 1;
      return inner(x) + limit;
    },
    12,
  ],
  [
    "a name shadowed in one block and read from the module in another",
    (x) => {
      {
        const limit = 100;
        void limit;
      }
      return scale(x) + limit;
    },
    20,
  ],
  [
    "a method and a class field of a local class",
    (x) => {
      const conn = { Storage: x };
      class Holder {
        FunctionExecutor = conn.Storage;
        get Storage() {
          return this.FunctionExecutor;
        }
      }
      return new Holder().Storage;
    },
    1,
  ],
];

/** The nested-job forms of docs/executor-api.md, each [shape, function of one number, its value for 10]. */
export const nestedJobs = [
  [
    "the documented example: a map inside a map, results gathered with getResult",
    async (n) => {
      const { FunctionExecutor } = await import("lithops-aca");
      const inner = new FunctionExecutor();
      try {
        await inner.map((x) => x * n, [1, 2, 3]);
        return await inner.getResult();
      } finally {
        await inner.close();
      }
    },
    [10, 20, 30],
  ],
  [
    "returning the nested futures",
    async (n) => {
      const { FunctionExecutor } = await import("lithops-aca");
      const inner = new FunctionExecutor();
      try {
        return await inner.map((x) => x + n, [1, 2]);
      } finally {
        await inner.close();
      }
    },
    [11, 12],
  ],
  [
    "one returned future, the client's Storage used inside too",
    async (n) => {
      const { FunctionExecutor, Storage } = await import("lithops-aca");
      const inner = new FunctionExecutor();
      try {
        const storage = new Storage(inner);
        await storage.putObject(storage.bucket, `nested-${n}`, String(n));
        return await inner.callAsync(async (key) => {
          const { Storage } = await import("lithops-aca");
          const own = new Storage();
          return Number(String(await own.getObject(own.bucket, key))) * 2;
        }, `nested-${n}`);
      } finally {
        await inner.close();
      }
    },
    20,
  ],
];
