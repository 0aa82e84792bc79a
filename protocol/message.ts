import { MalformedMessageError } from "./errors.ts";
import { z } from "zod";
import { ENV } from "./env.ts";
import { callId, ID_PATTERN, jobPrefix } from "./keys.ts";
import { PROTOCOL_VERSION } from "./version.ts";
import { InvalidArgumentError } from "./errors.ts";

/** Azure Storage queue messages hold at most 64 KiB; base64 text of this many bytes fits with room for the envelope. */
export const MAX_MESSAGE_BYTES = 64 * 1024;
export const MAX_INLINE_PAYLOAD_BYTES = 36 * 1024;
export const MAX_CALLS_PER_MESSAGE = 1000;

const idSchema = z.string().regex(ID_PATTERN);

/**
 * Bytes carried in the message itself (small payloads) or a byte range of a blob with its
 * SHA-256 (base64url): the signature covers the digest, so a blob changed after signing is
 * refused before anything is compiled or deserialized (worker/payloads.ts).
 */
export const payloadRefSchema = z.union([
  z.object({ inline: z.base64() }).strict(),
  z
    .object({
      key: z.string().min(1).max(1024),
      start: z.number().int().min(0),
      end: z.number().int().min(0),
      sha256: z.string().regex(/^[A-Za-z0-9_-]{43}$/, "is not a base64url SHA-256"),
    })
    .strict()
    .refine((r) => r.end >= r.start, "end must not be before start"),
]);
export type PayloadRef = z.infer<typeof payloadRefSchema>;

/**
 * The calls of a batch are consecutive: call `first + i` has its arguments at bytes
 * offsets[i]..offsets[i+1] of the batch's data. Compact, so 1,000 calls fit one message.
 */
export const callRangeSchema = z
  .object({
    first: z.number().int().min(0),
    offsets: z
      .array(z.number().int().min(0))
      .min(2)
      .max(MAX_CALLS_PER_MESSAGE + 1),
  })
  .strict()
  .refine((r) => r.offsets.every((o, i) => i === 0 || o >= r.offsets[i - 1]), "offsets must not decrease");
export type CallRange = z.infer<typeof callRangeSchema>;

export interface CallSlice {
  id: string;
  start: number;
  end: number;
}

/** The calls a range stands for, with their ids and byte ranges. */
export function callSlices(range: CallRange): CallSlice[] {
  return range.offsets.slice(1).map((end, i) => ({ id: callId(range.first + i), start: range.offsets[i], end }));
}

const WORKER_ENV_NAMES: ReadonlySet<string> = new Set(Object.values(ENV));

/** Variables a call may get (extraEnv): shell-style names, string values, none of the worker's own settings. */
export const callEnvSchema = z.record(
  z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "is not an environment variable name: use letters, digits and _, not starting with a digit")
    .refine((name) => !WORKER_ENV_NAMES.has(name), "is one of the worker's own settings, which calls cannot change"),
  z.string(),
);

export const callBatchMessageSchema = z
  .object({
    v: z.literal(PROTOCOL_VERSION),
    kind: z.literal("calls"),
    /** The queue the message was sent to: signed, so a message moved to another runtime's queue is refused. */
    queue: idSchema,
    executorId: idSchema,
    jobId: idSchema,
    batch: z.number().int().min(0),
    nodeMajor: z.number().int().min(1),
    timeout: z.number().positive(),
    func: payloadRefSchema,
    data: payloadRefSchema,
    calls: callRangeSchema,
    submitted: z.number(),
    /** Environment variables set for the batch's calls (extraEnv); absent when there are none, which older workers require. */
    env: callEnvSchema.optional(),
    /** The call grant of a nested job's message, signed with that call's key instead of the stack's (protocol/signing.ts). */
    dlg: z.string().max(512).optional(),
    /** HMAC of the rest of the message, when the runtime has a signing key. */
    sig: z.string().optional(),
  })
  .strict();
export type CallBatchMessage = z.infer<typeof callBatchMessageSchema>;

/**
 * The part of a message that says which batch's futures wait on it, read even from a
 * message that fails validation (unknown fields ignored), so that a rejection can be
 * reported to the job. Ids must still match ID_PATTERN: they name storage keys.
 */
const batchAddressSchema = z.object({
  executorId: idSchema,
  jobId: idSchema,
  batch: z.number().int().min(0),
  calls: callRangeSchema,
  /** Read so that the rejection's output is MACed with the key its client checks (protocol/signing.ts's messageKey). */
  dlg: z.string().max(512).optional(),
});
export type BatchAddress = z.infer<typeof batchAddressSchema>;

/** The batch a message text names, or undefined when its ids or calls cannot be read. */
export function readBatchAddress(text: string): BatchAddress | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = batchAddressSchema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}

export function encodeMessage(message: CallBatchMessage): string {
  const text = JSON.stringify(message);
  if (Buffer.byteLength(text) > MAX_MESSAGE_BYTES) {
    throw new InvalidArgumentError(`queue message of ${Buffer.byteLength(text)} bytes exceeds the ${MAX_MESSAGE_BYTES}-byte limit`);
  }
  return text;
}

/** Parses and validates a queue message; the error says what is wrong without echoing large payloads. */
export function decodeMessage(text: string): CallBatchMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new MalformedMessageError(`message is not JSON (starts with ${JSON.stringify(text.slice(0, 40))})`);
  }
  const version = (raw as { v?: unknown } | null)?.v;
  if (version !== undefined && version !== PROTOCOL_VERSION) {
    // Only short scalars are echoed: a deeply nested value would overflow JSON.stringify's stack.
    const shown =
      typeof version === "number" || typeof version === "string"
        ? JSON.stringify(version).slice(0, 40)
        : `(a ${Array.isArray(version) ? "array" : typeof version})`;
    throw new MalformedMessageError(
      `message is protocol version ${shown} but this worker reads version ${PROTOCOL_VERSION}: client and runtime come from different lithops-aca releases`,
    );
  }
  const parsed = callBatchMessageSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new MalformedMessageError(`message does not match protocol v${PROTOCOL_VERSION}: ${problems.join("; ")}`);
  }
  const message = parsed.data;
  // A message may only point at blobs of its own job: no reading another job's data.
  const prefix = jobPrefix(message.executorId, message.jobId);
  for (const [field, ref] of [
    ["func", message.func],
    ["data", message.data],
  ] as const) {
    if ("key" in ref && (!ref.key.startsWith(prefix) || ref.key.split("/").some((segment) => segment === ".." || segment === "."))) {
      throw new MalformedMessageError(`message ${field}.key ${JSON.stringify(ref.key.slice(0, 80))} is outside its job's prefix ${prefix}`);
    }
  }
  return message;
}
