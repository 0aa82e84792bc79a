import {
  RemoteCallError,
  CallTimeoutError,
  OutOfMemoryError,
  CallExitedError,
  PoisonCallError,
  CallCancelledError,
  MessageRejectedError,
  UnserializableResultError,
} from "./errors.ts";
import type { RemoteErrorInfo } from "../protocol/data-codec.ts";
import { REMOTE_ERROR_NAMES } from "../protocol/errors.ts";

type RemoteCallErrorClass = new (info: RemoteErrorInfo, jobId: string, callId: string) => RemoteCallError;

const KINDS: ReadonlyMap<string, RemoteCallErrorClass> = new Map<string, RemoteCallErrorClass>([
  [REMOTE_ERROR_NAMES.timeout, CallTimeoutError],
  [REMOTE_ERROR_NAMES.outOfMemory, OutOfMemoryError],
  [REMOTE_ERROR_NAMES.exited, CallExitedError],
  [REMOTE_ERROR_NAMES.poisonCall, PoisonCallError],
  [REMOTE_ERROR_NAMES.poisonMessage, PoisonCallError],
  [REMOTE_ERROR_NAMES.messageRejected, MessageRejectedError],
  [REMOTE_ERROR_NAMES.cancelled, CallCancelledError],
  [REMOTE_ERROR_NAMES.unserializable, UnserializableResultError],
]);

/** The client-side error of a failed call: the subclass its remote name stands for, else RemoteCallError. */
export function remoteCallError(info: RemoteErrorInfo, jobId: string, callId: string): RemoteCallError {
  return new (KINDS.get(info.name) ?? RemoteCallError)(info, jobId, callId);
}
