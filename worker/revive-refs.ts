import { isCallResultsRef, isFutureRefSource, isObjectPartRef, TO_FUTURE_REF } from "../protocol/call-refs.ts";
import type { StorageClients } from "../azure/storage-connection.ts";
import { LithopsError } from "../protocol/errors.ts";
import type { OutputMacCheck } from "./call-results.ts";

/**
 * Turns the references in a call's arguments into what the function works with (a
 * StorageObject, the results of other calls), and the futures a function returns into
 * references the client follows. See protocol/call-refs.ts.
 *
 * The storage SDK and the readers load on first use: a call thread that never meets a
 * reference starts about a second sooner, which counts against its calls' timeouts.
 */
let storage: Promise<StorageClients> | undefined;

function workerStorage(): Promise<StorageClients> {
  storage ??= (async () => {
    const [{ ENV }, { connectStorage, storageSettingsFromEnv }] = await Promise.all([import("../protocol/env.ts"), import("../azure/storage-connection.ts")]);
    const settings = storageSettingsFromEnv(process.env);
    if (!settings) {
      throw new LithopsError(
        `this call reads storage (a StorageObject or other calls' results), but ${ENV.container} and ${ENV.queue} are not both set in its worker's environment; run it on a lithops-aca runtime`,
      );
    }
    return connectStorage(settings);
  })();
  return storage;
}

async function revive(value: unknown, checkMac: OutputMacCheck): Promise<unknown> {
  if (isObjectPartRef(value)) {
    const [{ ObjectPart }, clients] = await Promise.all([import("./object-part.ts"), workerStorage()]);
    return new ObjectPart(value, clients.blobService.getContainerClient(value.bucket));
  }
  if (isCallResultsRef(value)) {
    const [{ readCallResults }, clients] = await Promise.all([import("./call-results.ts"), workerStorage()]);
    return readCallResults(clients.container, value, checkMac);
  }
  return value;
}

/**
 * Each argument, or the `obj` of an argument holding named values (`{ obj, ...named }`), may
 * be a reference. `checkMac` checks the map outputs a reducer's call results are read from.
 */
export async function reviveArguments(positional: unknown[], checkMac: OutputMacCheck): Promise<unknown[]> {
  return Promise.all(
    positional.map(async (argument) => {
      const named = argument as { obj?: unknown } | null;
      if (typeof named === "object" && named !== null && !Array.isArray(named) && isObjectPartRef(named.obj)) {
        return { ...named, obj: await revive(named.obj, checkMac) };
      }
      return revive(argument, checkMac);
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
