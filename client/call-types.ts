import type { StorageObject } from "../protocol/call-refs.ts";
import type { CallArgs, LeadingParameters } from "./args.ts";
import type { RemoteCallError } from "./errors.ts";
import type { ResponseFuture } from "./response-future.ts";

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

/** A call's value as getResult and result() give it: with `throwExcept: false`, a failed call's error takes its place. */
export type Settled<T, O> = O extends { throwExcept: false } ? T | RemoteCallError : T;

/** The value type of a future. */
export type ResultOf<F> = F extends ResponseFuture<infer T> ? T : never;

/** getResult's value for a list of futures: each future's value type, position by position. */
export type SettledAll<F extends readonly ResponseFuture<unknown>[], O> = { -readonly [K in keyof F]: Settled<ResultOf<F[K]>, O> };

/** The futures of a mapReduce with one reducer: the maps', then the reducer's. */
export type MapReduceFutures<M, R> = [...ResponseFuture<M>[], ResponseFuture<R>];
