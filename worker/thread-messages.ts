import type { RemoteErrorInfo } from "../protocol/data-codec.ts";

/** What the worker process and its call threads say to each other. */
export type ThreadRequest =
  | { type: "load"; funcId: string; text: string }
  | { type: "call"; seq: number; funcId: string; args: Uint8Array };

export type ThreadReply =
  | { type: "done"; seq: number; ok: true; result: Uint8Array; started: number; finished: number }
  | { type: "done"; seq: number; ok: false; error: RemoteErrorInfo; started: number; finished: number };
