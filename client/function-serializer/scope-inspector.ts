import { Session } from "node:inspector";
import { LithopsError } from "../../protocol/errors.ts";

/**
 * Reads what JavaScript itself cannot: the variables a function closes over (its
 * internal [[Scopes]]) and an object's private fields, through the V8 inspector of this
 * thread. A session connected to the own thread answers synchronously, in the main
 * thread and in worker threads alike; it is opened once per thread and kept.
 */
export interface ScopeVariables {
  /** V8's name of the scope: Closure, Block, Script, Module, Catch, With, Eval. */
  kind: string;
  variables: Record<string, unknown>;
}

interface RemoteObject {
  type: string;
  objectId?: string;
  description?: string;
}
interface PropertyDescriptor {
  name: string;
  value?: RemoteObject;
}
interface PropertiesResult {
  result: PropertyDescriptor[];
  internalProperties?: PropertyDescriptor[];
  privateProperties?: PropertyDescriptor[];
}

// The inspector reaches our values through a global it can evaluate; set only during one synchronous lookup.
const probeKey = "__lithopsSerializerProbe";
const objectGroup = "lithops-function-serializer";
let session: Session | undefined;

function post<T>(method: string, params: Record<string, unknown>): T {
  if (!session) {
    session = new Session();
    session.connect();
  }
  let answered = false;
  let failure: Error | null = null;
  let answer: unknown;
  session.post(method, params, (error, result) => {
    answered = true;
    failure = error;
    answer = result;
  });
  if (!answered) throw new LithopsError(`the inspector did not answer ${method} synchronously`);
  if (failure) throw failure;
  return answer as T;
}

function withProbe<T>(value: unknown, read: () => T): T {
  Object.defineProperty(globalThis, probeKey, { value, configurable: true, writable: true });
  try {
    return read();
  } finally {
    delete (globalThis as Record<string, unknown>)[probeKey];
    post("Runtime.releaseObjectGroup", { objectGroup });
  }
}

function remoteId(): string {
  const { result } = post<{ result: RemoteObject }>("Runtime.evaluate", { expression: `globalThis.${probeKey}`, objectGroup });
  if (!result.objectId) throw new LithopsError(`the inspector gave no handle for a ${result.type}`);
  return result.objectId;
}

function properties(objectId: string): PropertiesResult {
  return post<PropertiesResult>("Runtime.getProperties", { objectId, ownProperties: true, objectGroup });
}

/** The real object behind an inspector handle (a scope's variables arrive as one such object). */
function objectBehind(objectId: string): unknown {
  post("Runtime.callFunctionOn", { objectId, functionDeclaration: `function () { "use strict"; globalThis.${probeKey} = this; }`, objectGroup });
  return (globalThis as Record<string, unknown>)[probeKey];
}

/** The scopes a function closes over, innermost first, without the global scope. */
export function functionScopes(fn: Function): ScopeVariables[] {
  return withProbe(fn, () => {
    const internal = post<PropertiesResult>("Runtime.getProperties", { objectId: remoteId(), ownProperties: false, objectGroup }).internalProperties ?? [];
    const scopesId = internal.find((p) => p.name === "[[Scopes]]")?.value?.objectId;
    if (!scopesId) return [];
    const scopes: ScopeVariables[] = [];
    for (const entry of properties(scopesId).result) {
      if (!entry.value?.objectId || entry.value.description === "Global") continue;
      const scope = objectBehind(entry.value.objectId) as { description: string; object: Record<string, unknown> };
      scopes.push({ kind: scope.description, variables: scope.object });
    }
    return scopes;
  });
}

/** Names of an object's private fields and methods (`#x`), which reflection does not show. */
export function privateNames(value: object): string[] {
  return withProbe(value, () => (properties(remoteId()).privateProperties ?? []).map((p) => p.name));
}
