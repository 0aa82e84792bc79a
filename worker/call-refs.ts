import {
  isCallResultsRef,
  isFutureRefSource,
  isObjectPartRef,
  TO_FUTURE_REF,
} from "../protocol/call-refs.ts";
import { storageSettingsFromEnv } from "../protocol/env.ts";
import { connectStorage, type StorageClients } from "../protocol/storage-connection.ts";
import { readCallResults } from "./call-results.ts";
import { ObjectPart } from "./object-part.ts";

/**
 * Turns the references in a call's arguments into what the function works with (a
 * StorageObject, the results of other calls), and the futures a function returns into
 * references the client follows. See protocol/call-refs.ts.
 */
let storage: StorageClients | undefined;

function workerStorage(): StorageClients {
  if (!storage) {
    const settings = storageSettingsFromEnv(process.env);
    if (!settings) throw new Error("this call needs storage, but the worker's environment names none");
    storage = connectStorage(settings);
  }
  return storage;
}

async function revive(value: unknown): Promise<unknown> {
  if (isObjectPartRef(value)) return new ObjectPart(value, workerStorage().blobService.getContainerClient(value.bucket));
  if (isCallResultsRef(value)) return readCallResults(workerStorage().container, value);
  return value;
}

/** Each argument, or the `obj` of an argument holding named values (`{ obj, ...named }`), may be a reference. */
export async function reviveArguments(positional: unknown[]): Promise<unknown[]> {
  return Promise.all(
    positional.map(async (argument) => {
      const named = argument as { obj?: unknown } | null;
      if (typeof named === "object" && named !== null && !Array.isArray(named) && isObjectPartRef(named.obj)) {
        return { ...named, obj: await revive(named.obj) };
      }
      return revive(argument);
    }),
  );
}

/** A returned future (or array holding futures) becomes references: the client waits for those calls instead. */
export function transferableResult(value: unknown): unknown {
  if (isFutureRefSource(value)) return value[TO_FUTURE_REF]();
  if (Array.isArray(value) && value.some(isFutureRefSource)) {
    return value.map((element) => (isFutureRefSource(element) ? element[TO_FUTURE_REF]() : element));
  }
  return value;
}
