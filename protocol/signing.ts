import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { MalformedMessageError } from "./errors.ts";

/**
 * Invocations are signed with a per-stack key so that whoever can merely write to the
 * queue or the job's blobs cannot make the runtime run code. The signature covers the
 * message text without its `sig` field; that text names the queue it is for and the
 * SHA-256 of every blob it points at (protocol/message.ts), so neither a message nor its
 * blobs can be changed or moved to another runtime's queue.
 */
export function signText(text: string, key: string): string {
  return createHmac("sha256", key).update(text).digest("base64url");
}

export function verifySignature(text: string, sig: string, key: string): boolean {
  return sameText(signText(text, key), sig);
}

function sameText(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Appends the signature as the message's last field. */
export function attachSignature(text: string, key: string): string {
  return `${text.slice(0, -1)},"sig":"${signText(text, key)}"}`;
}

/** Splits a signed message text into the text that was signed and its signature. */
export function detachSignature(text: string): { unsigned: string; sig: string } | undefined {
  const match = /,"sig":"([A-Za-z0-9_-]+)"}$/.exec(text);
  if (!match) return undefined;
  return { unsigned: `${text.slice(0, match.index)}}`, sig: match[1] };
}

/** The SHA-256 a message carries for each blob it references (base64url). */
export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("base64url");
}

/** A key for one purpose, derived from the signing key: a message signature can never pass for an output's MAC. */
function derivedKey(key: string, purpose: string): string {
  return createHmac("sha256", key).update(`lithops-aca ${purpose}`).digest("base64url");
}

// --- Delegation: nested jobs sign without the stack's key -------------------------------------

/**
 * A running call may submit jobs of its own (nested jobs), but must not hold the stack's
 * key. The worker gives it a call key instead: a key derived from the stack's key and a
 * grant naming the running call and when its capability ends. Messages signed with a call
 * key carry the grant (`dlg`); the worker derives the same key from the grant to check
 * them, refuses them once the grant has expired, and MACs their outputs with it, so the
 * nested client can check them too. The call sees the grant and its key as one token in
 * its environment, where a client reads a signing key: nested executors need no change.
 */
const CALL_KEY_TOKEN_PREFIX = "lithops-call-key.v1.";

const grantSchema = z
  .object({
    /** The executor, job and batch of the call the grant was given to. */
    e: z.string().max(64),
    j: z.string().max(64),
    b: z.number().int().min(0),
    /** Epoch milliseconds after which messages signed with it are refused: the call's own deadline. */
    x: z.number().int(),
  })
  .strict();
export type CallGrant = z.infer<typeof grantSchema>;

/** The key messages carrying `grant` are signed with (the stack's key when there is no grant). */
export function messageKey(stackKey: string, grant: string | undefined): string {
  return grant === undefined ? stackKey : derivedKey(stackKey, `call key\n${grant}`);
}

/** The token a running call gets in place of the stack's key. */
export function callKeyToken(stackKey: string, grant: CallGrant): string {
  const text = JSON.stringify(grant);
  return `${CALL_KEY_TOKEN_PREFIX}${Buffer.from(text).toString("base64url")}.${messageKey(stackKey, text)}`;
}

/** What a client signs with: the key itself, and the grant to put in each message when the key is a call key. */
export function signingIdentity(keyOrToken: string): { key: string; grant?: string } {
  if (!keyOrToken.startsWith(CALL_KEY_TOKEN_PREFIX)) return { key: keyOrToken };
  const [grant, key] = keyOrToken.slice(CALL_KEY_TOKEN_PREFIX.length).split(".");
  return { key, grant: Buffer.from(grant, "base64url").toString("utf8") };
}

/** A message's grant, checked: refused when it is not one or has expired. */
export function checkGrant(grant: string, now = Date.now()): CallGrant {
  let raw: unknown;
  try {
    raw = JSON.parse(grant);
  } catch {
    throw new MalformedMessageError("message dlg is not a call grant (not JSON)");
  }
  const parsed = grantSchema.safeParse(raw);
  if (!parsed.success) throw new MalformedMessageError(`message dlg is not a call grant: ${parsed.error.issues[0]?.message}`);
  if (parsed.data.x < now) {
    throw new MalformedMessageError(
      `message was signed with the call key of ${parsed.data.e}/${parsed.data.j} batch ${parsed.data.b}, which expired ${new Date(parsed.data.x).toISOString()} with its call`,
    );
  }
  return parsed.data;
}

// --- Batch outputs ----------------------------------------------------------------------------

/** The MAC of a batch output: covers its address (no moving one batch's output to another) and its bytes. */
export function outputMac(key: string, address: string, payload: Uint8Array): Buffer {
  return createHmac("sha256", derivedKey(key, "batch output")).update(`${address}\n`).update(payload).digest();
}

export function sameMac(expected: Uint8Array, given: Uint8Array): boolean {
  return expected.length === given.length && timingSafeEqual(expected, given);
}
