/**
 * Checked by `tsc --strict` (test/unit/client-typed.test.ts): the types the client infers from
 * the functions, with no casts, and wrong argument types refused at compile time.
 */
import {
  args,
  type FunctionExecutor,
  getResult,
  type MapReduceFutures,
  type RemoteCallError,
  RetryingFunctionExecutor,
  type ResponseFuture,
  type StorageObject,
} from "../../client/index.ts";

/** Compiles only when A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<A, B>(_proof: Equal<A, B>): void {}

export async function typedCalls(fexec: FunctionExecutor): Promise<void> {
  // callAsync: the argument type comes from the data, the result type from the function (awaited).
  const one = await fexec.callAsync((x) => x + 1, 3);
  expectType<typeof one, ResponseFuture<number>>(true);
  const value = await one.result();
  expectType<typeof value, number>(true);
  const orError = await one.result({ throwExcept: false });
  expectType<typeof orError, number | RemoteCallError>(true);

  const asyncOne = await fexec.callAsync(async (name: string) => ({ name, length: name.length }), "lithops");
  const named = await asyncOne.result();
  expectType<typeof named, { name: string; length: number }>(true);

  // map over any iterable, sync or async, gives futures of the function's awaited result.
  const squares = await fexec.map((x: number) => x * x, new Set([1, 2, 3]));
  expectType<typeof squares, ResponseFuture<number>[]>(true);
  async function* names(): AsyncGenerator<string> {
    yield "a";
  }
  const upper = await fexec.map(async (s: string) => s.toUpperCase(), names());
  expectType<typeof upper, ResponseFuture<string>[]>(true);

  // getResult: one future gives its value, a list gives a list, position by position.
  const results = await fexec.getResult(squares);
  expectType<typeof results, number[]>(true);
  const mixed = await fexec.getResult([one, asyncOne] as const);
  expectType<typeof mixed, [number, { name: string; length: number }]>(true);
  const single = await getResult(one);
  expectType<typeof single, number>(true);

  // args(a, b) elements are checked against the function's parameters; extraArgs fill the rest.
  const sums = await fexec.map((a: number, b: string) => `${b}${a}`, [args(1, "x"), args(2, "y")]);
  expectType<typeof sums, ResponseFuture<string>[]>(true);
  await fexec.map((a: number, b: string) => `${b}${a}`, [args(1)], { extraArgs: ["z"] });

  // Object input: the function receives a StorageObject.
  const sizes = await fexec.map((obj: StorageObject) => obj.size, "az://container/prefix/");
  expectType<typeof sizes, ResponseFuture<number>[]>(true);

  // mapReduce: the reducer takes the maps' results; its result is the last future's.
  const reduced = await fexec.mapReduce(
    async (x: number) => String(x),
    [1, 2, 3],
    (parts) => parts.join(","),
  );
  expectType<typeof reduced, MapReduceFutures<string, string>>(true);
  const total = await fexec.mapReduce(
    (x: number) => x,
    [1, 2],
    (xs: number[]) => ({ sum: xs.reduce((a, b) => a + b, 0) }),
  );
  const reducerValues = await fexec.getResult(total);
  expectType<typeof reducerValues, { sum: number }>(true);

  // RetryingFunctionExecutor: typed futures, and RetryingFuture.result().
  const retrying = new RetryingFunctionExecutor(fexec);
  const retried = await retrying.map((x: number) => x > 0, [1, -1], { retries: 2 });
  const flag = await retried[0].result();
  expectType<typeof flag, boolean>(true);
  const flags = await retrying.getResult(retried);
  expectType<typeof flags, boolean[]>(true);

  // Wrong argument types are compile errors.
  // @ts-expect-error a string for a function of a number
  await fexec.callAsync((x: number) => x + 1, "3");
  // @ts-expect-error strings for a function of numbers
  await fexec.map((x: number) => x * 2, ["a", "b"]);
  // @ts-expect-error args() elements of the wrong types
  await fexec.map((a: number, b: string) => a + b, [args("1", 2)]);
  // @ts-expect-error a reducer of strings after maps that return numbers
  await fexec.mapReduce(
    (x: number) => x,
    [1],
    (parts: string[]) => parts.length,
  );
  // @ts-expect-error an unknown option name
  await fexec.map((x: number) => x, [1], { chunkSize: 2 });
  // @ts-expect-error the result of a number function is not a string
  const notString: string = await one.result();
  void notString;
}
