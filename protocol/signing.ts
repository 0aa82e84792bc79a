import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Invocations are signed with a per-stack key so that whoever can merely write to the
 * queue cannot make the runtime run code. The signature covers the message text
 * without its `sig` field.
 */
export function signText(text: string, key: string): string {
  return createHmac("sha256", key).update(text).digest("base64url");
}

export function verifySignature(text: string, sig: string, key: string): boolean {
  const expected = Buffer.from(signText(text, key));
  const given = Buffer.from(sig);
  return expected.length === given.length && timingSafeEqual(expected, given);
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
