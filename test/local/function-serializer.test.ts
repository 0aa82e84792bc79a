import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, createSecretKey } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as path from "node:path";
import { PassThrough } from "node:stream";
import { after, describe, it } from "node:test";
import { Worker } from "node:worker_threads";
import { transformSync } from "esbuild";
import { LithopsError } from "../../client/errors.ts";
import { shipFunction, UnshippableFunctionError } from "../../client/ship-function.ts";
import * as keys from "../../protocol/keys.ts";
import { loadFunction } from "../../worker/load-function.ts";
import { classShapesThroughTsx } from "../support/class-shapes-through-tsx.ts";
import { REPO_ROOT } from "../support/package-paths.ts";

const classShapes = await classShapesThroughTsx();

const root = REPO_ROOT;
// The worker compiles shipped text as a file of the user's project would be; nothing is written there.
const functionFile = join(root, ".lithops-function-test.cjs");

/** `fn` as the worker gets it: shipped to text, then loaded in this process. */
async function shipped<F extends (...args: never[]) => unknown>(fn: F): Promise<F> {
  return loadFunction(await shipFunction(fn), "handler", functionFile) as unknown as F;
}

async function refusal(fn: unknown): Promise<string> {
  const error = await shipFunction(fn).then(
    () => assert.fail("expected the function to be refused"),
    (thrown: unknown) => thrown,
  );
  assert.ok(error instanceof UnshippableFunctionError, `expected UnshippableFunctionError, got ${String(error)}`);
  assert.ok(error instanceof LithopsError);
  return error.message;
}

describe("function serializer: what a function captures is recreated in the worker", () => {
  it("primitives keep their exact value: NaN, -0, Infinity, bigint, registered symbols, undefined, odd strings", async () => {
    const values = [NaN, -0, Infinity, -Infinity, 2n ** 70n, Symbol.for("lithops.test"), undefined, null, true, 'quote " \\ \n \u2028 é 😀', 1e-7];
    const fn = () => values;
    const remote = (await shipped(fn))();
    assert.equal(remote.length, values.length);
    values.forEach((value, k) => void assert.ok(Object.is(remote[k], value), `element ${k}: ${String(remote[k])} is not ${String(value)}`));
  });

  it("shared and circular references stay shared and circular", async () => {
    const shared = { n: 1 };
    const node: { name: string; self?: unknown; peers: unknown[] } = { name: "a", peers: [] };
    node.self = node;
    node.peers.push(node, shared);
    const byKey = new Map<string, unknown>([
      ["x", shared],
      ["y", shared],
    ]);
    const fn = () => [node.self === node, node.peers[0] === node, node.peers[1] === byKey.get("x"), byKey.get("x") === byKey.get("y"), shared.n];
    assert.deepEqual((await shipped(fn))(), [true, true, true, true, 1]);
  });

  it("Map, Set, Date, RegExp, Error, Buffer, typed arrays over one ArrayBuffer and DataView keep contents and identity", async () => {
    const memory = new ArrayBuffer(16);
    const words = new Uint32Array(memory, 0, 2);
    const bytes = new Uint8Array(memory);
    words[0] = 0xdeadbeef;
    const pattern = /a(b+)/gi;
    pattern.exec("xabbb ab");
    const failure = new RangeError("too far", { cause: new Error("inner") });
    Object.assign(failure, { code: "E_FAR" });
    const captured = {
      map: new Map<unknown, unknown>([
        [1, "one"],
        [{ k: 2 }, new Set([3])],
      ]),
      date: new Date(Date.UTC(2024, 1, 29, 12)),
      invalidDate: new Date(NaN),
      pattern,
      failure,
      buffer: Buffer.from("héllo"),
      floats: Float64Array.from([0.5, -0]),
      view: new DataView(memory, 4, 8),
    };
    const fn = () => {
      const remoteWords = words;
      return { ...captured, words: remoteWords, bytes, sameMemory: remoteWords.buffer === bytes.buffer && captured.view.buffer === bytes.buffer };
    };
    const remote = (await shipped(fn))();
    const local = fn();
    assert.deepEqual(remote.map, local.map);
    assert.equal(remote.date.getTime(), local.date.getTime());
    assert.ok(Number.isNaN(remote.invalidDate.getTime()));
    assert.equal(remote.pattern.source, "a(b+)");
    assert.equal(remote.pattern.flags, "gi");
    assert.equal(remote.pattern.lastIndex, pattern.lastIndex);
    assert.ok(remote.failure instanceof RangeError);
    assert.equal(remote.failure.message, "too far");
    assert.equal((remote.failure.cause as Error).message, "inner");
    assert.equal((remote.failure as unknown as { code: string }).code, "E_FAR");
    assert.equal(remote.failure.stack, failure.stack);
    assert.ok(Buffer.isBuffer(remote.buffer));
    assert.equal(remote.buffer.toString(), "héllo");
    assert.deepEqual(remote.floats, local.floats);
    assert.ok(Object.is(remote.floats[1], -0));
    assert.equal(remote.words[0], 0xdeadbeef);
    assert.equal(remote.view.getUint32(0), local.view.getUint32(0));
    assert.equal(remote.sameMemory, true);
  });

  it("objects keep key order, accessors, attributes, null prototypes, holes and frozenness", async () => {
    const config = {
      first: 1,
      get doubled(): number {
        return this.first * 2;
      },
      last: 3,
    };
    Object.defineProperty(config, "hidden", { value: "h", enumerable: false });
    const dictionary = Object.assign(Object.create(null) as Record<string, number>, { a: 1 });
    const holes = [1, , 3]; // eslint-disable-line no-sparse-arrays
    const frozen = Object.freeze({ level: "info" });
    const fn = () => ({
      keys: Object.keys(config),
      doubled: config.doubled,
      hidden: Object.getOwnPropertyDescriptor(config, "hidden"),
      nullPrototype: Object.getPrototypeOf(dictionary) === null && dictionary.a === 1,
      holes: [holes.length, 1 in holes],
      frozen: Object.isFrozen(frozen),
    });
    assert.deepEqual((await shipped(fn))(), fn());
  });

  it("every kind of function ships: function, async, generators, methods, getters, recursion and functions with properties", async () => {
    function factorial(n: number): number {
      return n <= 1 ? 1 : n * factorial(n - 1);
    }
    function isEven(n: number): boolean {
      return n === 0 ? true : isOdd(n - 1);
    }
    function isOdd(n: number): boolean {
      return n === 0 ? false : isEven(n - 1);
    }
    const delayed = async (x: number) => (await Promise.resolve(x)) + 1;
    function* count(to: number) {
      for (let k = 1; k <= to; k++) yield k;
    }
    async function* countAsync(to: number) {
      yield* count(to);
    }
    const api = {
      scale: 3,
      times(x: number) {
        return x * this.scale;
      },
      get label() {
        return `x${this.scale}`;
      },
    };
    const memo = Object.assign((x: number) => x, { calls: 7 });
    function Legacy(this: { v: number }, v: number) {
      this.v = v;
    }
    Legacy.prototype.twice = function (this: { v: number }) {
      return this.v * 2;
    };
    const fn = async (n: number) => {
      const collected: number[] = [];
      for await (const k of countAsync(n)) collected.push(k);
      const legacy = new (Legacy as unknown as new (v: number) => { twice(): number })(n);
      return [factorial(n), isEven(n), await delayed(n), [...count(n)], collected, api.times(n), api.label, memo.calls, legacy.twice()];
    };
    assert.deepEqual(await (await shipped(fn))(5), await fn(5));
  });

  it("functions that share a scope share it in the worker; separate closures stay separate", async () => {
    let count = 0;
    const increment = () => {
      count += 1;
    };
    const read = () => count;
    const makeCounter = () => {
      let calls = 0;
      return () => ++calls;
    };
    const a = makeCounter();
    const b = makeCounter();
    const fn = () => {
      increment();
      increment();
      return [read(), a(), a(), b()];
    };
    assert.deepEqual((await shipped(fn))(), [2, 1, 2, 1]);
  });

  for (const [shape, fn] of Object.entries(classShapes)) {
    it(`ships ${shape} (from a .ts file run with tsx)`, async () => {
      assert.deepEqual((await shipped(fn))(3), fn(3));
    });
  }

  it("ships classes lowered by esbuild (__publicField, __name, __defProp helpers)", async () => {
    const source = `
      class Base { constructor(x) { this.x = x; } static make(x) { return new this(x); } }
      class Derived extends Base { static k = 1; static { Derived.table = [1, 2, 3]; } scaled = 10; twice() { return this.x * 2 + Derived.k + this.scaled; } }
      exports.run = (n) => [Derived.make(n).twice(), Derived.table.length, Derived.name];
    `;
    const lowered = transformSync(source, { format: "cjs", target: "es2020", keepNames: true }).code;
    assert.match(lowered, /__publicField/);
    const dir = mkdtempSync(join(tmpdir(), "lithops-lowered-"));
    try {
      writeFileSync(join(dir, "lowered.cjs"), lowered);
      const { run } = createRequire(import.meta.url)(join(dir, "lowered.cjs")) as { run: (n: number) => unknown };
      assert.deepEqual((await shipped(run))(4), [19, 3, "Derived"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refers to Node built-ins and loaded packages by name instead of copying them", async () => {
    const { parse } = createRequire(import.meta.url)("yaml") as { parse: (text: string) => unknown };
    const fn = () => [path.join("a", "b"), typeof readFileSync, parse("k: 1")];
    const text = await shipFunction(fn);
    assert.match(text, /require\("node:fs"\)/);
    assert.match(text, /require\("yaml"\)/);
    assert.deepEqual((await shipped(fn))(), fn());
  });

  it("ships the same text once per function object", async () => {
    const fn = (x: number) => x;
    assert.equal(shipFunction(fn), shipFunction(fn));
    assert.notEqual(await shipFunction(fn), await shipFunction((x: number) => x + 1));
  });

  it("serializes inside a worker thread too (nested jobs ship from call threads)", async () => {
    const code = `
      require("tsx/cjs");
      const { parentPort } = require("node:worker_threads");
      const { shipFunction } = require(${JSON.stringify(join(root, "client/ship-function.ts"))});
      const { classShapes } = require(${JSON.stringify(join(root, "test/support/class-shapes.ts"))});
      shipFunction(classShapes["a derived class with a static field and super calls"]).then((text) => parentPort.postMessage(text));
    `;
    const worker = new Worker(code, { eval: true });
    const text = await new Promise<string>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    await worker.terminate();
    const fn = classShapes["a derived class with a static field and super calls"];
    assert.deepEqual(loadFunction(text, "handler", functionFile)(2), fn(2));
  });

  it("does not load @pulumi/pulumi", () => {
    const script = `
      const { shipFunction } = await import(${JSON.stringify(join(root, "dist/client/ship-function.js"))});
      await shipFunction((x) => x + 1);
      const { createRequire } = await import("node:module");
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify(loaded.filter((file) => file.includes("@pulumi"))));
    `;
    const output = execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: root, encoding: "utf8" });
    assert.deepEqual(JSON.parse(output), []);
  });
});

describe("function serializer: what cannot ship is refused at submit, naming the variable and what to do", () => {
  const socket = new Socket();
  const stream = new PassThrough();
  const server = createServer();
  after(() => {
    socket.destroy();
    stream.destroy();
    server.close();
  });

  it("native state: sockets, streams, servers, hashes, keys, also inside an object", async () => {
    const hash = createHash("sha256");
    const key = createSecretKey(Buffer.from("secret"));
    const holder = { connection: { socket } };
    assert.match(
      await refusal(() => socket.remoteAddress),
      /^function \(anonymous\) cannot be shipped to a worker: it captures `socket`, a Socket, which holds native state of this process; create it inside the function/,
    );
    assert.match(await refusal(() => stream.read()), /captures `stream`, a PassThrough/);
    assert.match(await refusal(() => server.listening), /captures `server`, a Server/);
    assert.match(await refusal(() => hash.digest()), /captures `hash`, a Hash/);
    assert.match(await refusal(() => key.export()), /captures `key`, a SecretKeyObject, .*pass its exported key material as an argument/);
    assert.match(await refusal(() => holder.connection.socket.remoteAddress), /captures `holder\.connection\.socket`, a Socket/);
  });

  it("values whose state cannot be read: Promise, WeakMap, WeakSet, Proxy, generator objects, SharedArrayBuffer", async () => {
    const pending = Promise.resolve(1);
    const weakMap = new WeakMap();
    const weakSet = new WeakSet();
    const proxy = new Proxy({}, {});
    const generator = (function* () {
      yield 1;
    })();
    const shared = new SharedArrayBuffer(8);
    assert.match(await refusal(() => pending), /captures `pending`, a Promise; await it before submitting/);
    assert.match(await refusal(() => weakMap), /captures `weakMap`, a WeakMap, whose entries cannot be listed; use a Map/);
    assert.match(await refusal(() => weakSet), /captures `weakSet`, a WeakSet/);
    assert.match(await refusal(() => proxy), /captures `proxy`, a Proxy/);
    assert.match(await refusal(() => generator.next()), /captures `generator`, a generator object/);
    assert.match(await refusal(() => shared), /captures `shared`, a SharedArrayBuffer/);
  });

  it("functions that only make sense where they were defined: bound functions, arrows over `this`, methods using super", async () => {
    function scale(this: { k: number }, x: number) {
      return x * this.k;
    }
    const bound = scale.bind({ k: 2 });
    class Holder {
      k = 3;
      arrow = () => this.k;
    }
    const holder = new Holder();
    class Parent {
      hello() {
        return "hi";
      }
    }
    class Child extends Parent {
      override hello() {
        return `${super.hello()}!`;
      }
    }
    const detached = Child.prototype.hello;
    assert.match(await refusal(() => bound(1)), /captures `bound`, a bound function \(`bound scale`\).*use an arrow function instead/);
    assert.match(await refusal(() => holder.arrow()), /captures `holder\.arrow`, an arrow function that uses `this`/);
    assert.match(await refusal(() => detached.call(new Child())), /captures `detached`, a method \(`hello`\) that uses `super`/);
  });

  it("instances with private fields, and module namespaces of ES modules", async () => {
    class Vault {
      #secret = 1;
      read() {
        return this.#secret;
      }
    }
    const vault = new Vault();
    assert.match(await refusal(() => vault.read()), /captures `vault`, an instance of Vault with private fields \(#secret\)/);
    assert.match(await refusal(() => keys.jobPrefix), /captures `keys`, a module namespace .*import the module inside the function instead/);
  });

  it("names the helper through which a value is captured", async () => {
    const send = (text: string) => socket.write(text);
    assert.match(await refusal(() => send("x")), /captures `socket` \(used by `send`\), a Socket/);
  });

  it("refuses a shipped function that is itself bound, built-in or a method using super, as what it is", async () => {
    class Parent {
      hello() {
        return "hi";
      }
    }
    class Child extends Parent {
      override hello() {
        return `${super.hello()}!`;
      }
    }
    const target = {
      k: 2,
      scale(x: number) {
        return x * this.k;
      },
    };
    assert.match(
      await refusal(target.scale.bind(target)),
      /^function 'bound scale' cannot be shipped to a worker: it is a bound function \(`bound scale`\).*use an arrow function instead/,
    );
    assert.match(await refusal(Math.sqrt), /^function 'sqrt' cannot be shipped to a worker: it is a built-in function \(`sqrt`\)/);
    assert.match(await refusal(Child.prototype.hello), /^function 'hello' cannot be shipped to a worker: it is a method \(`hello`\) that uses `super`/);
  });

  it("refuses a value that is not a function", async () => {
    await assert.rejects(shipFunction(42), /expected a function to run, got number/);
  });
});
