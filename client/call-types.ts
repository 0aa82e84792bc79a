import type { StorageObject } from "../protocol/call-refs.ts";
import type { CallArgs, LeadingParameters } from "./args.ts";
import type { ResponseFuture, Settled } from "./response-future.ts";

/**
 * The types that let callAsync, map, mapReduce, getResult and future.result() infer the
 * argument and result types from the function, so user code needs no casts.
 */

/** A map's iterdata: any iterable or async iterable (array, Set, generator...). */
export type Elements<A> = Iterable<A> | AsyncIterable<A>;

/** What a function mapped over `{ obj: uri, ...named }` elements receives: the named values and the StorageObject. */
export type ObjectElement<N> = Omit<N, "obj"> & { obj: StorageObject };

/** A function of one argument; extraArgs fill any further parameters. */
export type OneArgumentFunction<A, R> = (arg: A, ...extraArgs: never[]) => R;

/** A function called with `args(...)` elements: their values are its leading parameters. */
export type SpreadArguments<P extends unknown[]> = CallArgs<LeadingParameters<P>>;

export type { Settled };

/** The value type of a future. */
export type ResultOf<F> = F extends ResponseFuture<infer T> ? T : never;

/** getResult's value for a list of futures: each future's value type, position by position. */
export type SettledAll<F extends readonly ResponseFuture<unknown>[], O> = { -readonly [K in keyof F]: Settled<ResultOf<F[K]>, O> };

/** Type-level only (no such property exists at run time): marks a mapReduce's futures, so getResult of them has the reducer's type. */
export declare const REDUCER_RESULT: unique symbol;

/** The futures of a mapReduce with one reducer: the maps', then the reducer's; getResult of them gives the reducer's value. */
export type MapReduceFutures<M, R> = [...ResponseFuture<M>[], ResponseFuture<R>] & { readonly [REDUCER_RESULT]: R };
