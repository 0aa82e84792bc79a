import type { RemoteErrorInfo } from "../protocol/data-codec.ts";

/** What the worker process and its call threads say to each other. */
export type ThreadRequest =
  | { type: "load"; funcId: string; text: string }
  /** `deadline` (ms since the epoch): when the pool ends the call for its timeout. */
  | { type: "call"; seq: number; funcId: string; args: Uint8Array; env?: Record<string, string>; deadline: number }
  /** The answer to a checkOutput: why the output is refused, absent when it may be read. */
  | { type: "outputChecked"; id: number; refused?: string };

/** How a call ended, as its thread measured it (see protocol/output.ts's CallStats for cpuMs and peakMemoryBytes). */
export type CallEnd = ({ ok: true; result: Uint8Array } | { ok: false; error: RemoteErrorInfo }) & {
  started: number;
  finished: number;
  cpuMs: number;
  peakMemoryBytes: number;
};

export type ThreadReply =
  | ({ type: "done"; seq: number } & CallEnd)
  /** Console output the call wrote (already capped by the thread). */
  | { type: "output"; seq: number; text: string }
  /** The call waits on futures of a nested job: its slot is free until it resumes. */
  | { type: "waiting"; seq: number; on: string }
  | { type: "resumed"; seq: number }
  /** The call started a child process (worker/child-spawns.ts): it is ended with the call (worker/call-children.ts). */
  | { type: "childStarted"; seq: number; pid: number }
  | { type: "childExited"; seq: number; pid: number }
  /**
   * The call is about to block in a spawnSync/execSync/execFileSync (worker/child-spawns.ts),
   * whose child no pid names yet: the pool finds it among the children of the thread's task
   * `task` (its Linux thread id) if the call ends meanwhile; `syncChildReturned` when it returned.
   */
  | { type: "syncChildStarting"; seq: number; task: number }
  | { type: "syncChildReturned"; seq: number }
  /**
   * A reducer read a map output (worker/call-results.ts): the thread holds no key that can
   * check its MAC, so the worker's main thread checks it with the stack's key.
   */
  | { type: "checkOutput"; id: number; key: string; bytes: Uint8Array }
  /** What the thread's heap and buffers hold, sent every 100 ms while it runs calls: how the pool finds the call that takes the process over its memory. */
  | { type: "memory"; bytes: number };
