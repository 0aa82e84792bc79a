/** An iterdata element made by `args(a, b)`: spread into positional arguments of the call. */
export class CallArgs<T extends readonly unknown[] = unknown[]> {
  constructor(readonly values: T) {}
}

/** Positional arguments for one call: `map(fn, [args(1, "a"), args(2, "b")])` calls fn(1, "a") and fn(2, "b"). */
export function args<T extends unknown[]>(...values: T): CallArgs<T> {
  return new CallArgs(values);
}

/** The positional arguments of one call: the element itself (or its spread), then extraArgs. */
export function callArguments(element: unknown, extraArgs: readonly unknown[] = []): unknown[] {
  const base = element instanceof CallArgs ? [...element.values] : [element];
  return [...base, ...extraArgs];
}

/** P and its leading parts: what `args(...)` may give when extraArgs supply the trailing parameters. */
export type LeadingParameters<P extends readonly unknown[]> = P extends readonly [...infer Init, unknown] ? P | LeadingParameters<Init> : P;
