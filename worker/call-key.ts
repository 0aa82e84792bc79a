import { ENV } from "../protocol/env.ts";
import type { CallBatchMessage } from "../protocol/message.ts";
import { callKeyToken } from "../protocol/signing.ts";

/**
 * The environment a call of `message` runs with: its job's extraEnv, plus, when the worker
 * has the stack's key, a call key in place of it (protocol/signing.ts), valid until
 * `deadline` (the call's timeout): nested executors sign with it; the stack's key itself
 * never reaches the call.
 */
export function callEnvironment(message: CallBatchMessage, stackKey: string | undefined, deadline: number): Record<string, string> | undefined {
  if (stackKey === undefined) return message.env;
  const token = callKeyToken(stackKey, { e: message.executorId, j: message.jobId, b: message.batch, x: Math.ceil(deadline) });
  return { ...message.env, [ENV.signingKey]: token };
}
