/** An iterdata element made by `args(a, b)`: spread into positional arguments of the call. */
export class CallArgs {
  constructor(readonly values: readonly unknown[]) {}
}

export function args(...values: unknown[]): CallArgs {
  return new CallArgs(values);
}

/** The positional arguments of one call: the element itself (or its spread), then extraArgs. */
export function callArguments(element: unknown, extraArgs: readonly unknown[] = []): unknown[] {
  const base = element instanceof CallArgs ? [...element.values] : [element];
  return [...base, ...extraArgs];
}
