import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { args, CallArgs, callArguments } from "../../client/args.ts";

describe("args: positional arguments of one call", () => {
  it("args(a, b) is spread into the call's arguments; any other element is one argument", () => {
    assert.deepEqual(callArguments(args(1, "a")), [1, "a"]);
    assert.deepEqual(callArguments([1, "a"]), [[1, "a"]]);
    assert.deepEqual(callArguments({ x: 1 }), [{ x: 1 }]);
    assert.deepEqual(callArguments(undefined), [undefined]);
    assert.deepEqual(callArguments(args()), []);
  });

  it("extraArgs follow the element's own arguments, in order", () => {
    assert.deepEqual(callArguments(args(1, 2), [3, 4]), [1, 2, 3, 4]);
    assert.deepEqual(callArguments("x", ["y"]), ["x", "y"]);
  });

  it("the arguments are a copy: changing them leaves the element as it was", () => {
    const element = args(1, 2);
    const callArgs = callArguments(element, [3]);
    callArgs.push(4);
    assert.deepEqual(element.values, [1, 2]);
    assert.ok(element instanceof CallArgs);
  });
});
