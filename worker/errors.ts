import { LithopsError, MalformedMessageError } from "../protocol/errors.ts";
export class MapCallError extends LithopsError {
  override name = "MapCallError";
}

/** A blob a signed message points at does not match the SHA-256 the message carries: altered after signing; nothing of it ran. */
export class PayloadIntegrityError extends MalformedMessageError {
  override name = "PayloadIntegrityError";
}
