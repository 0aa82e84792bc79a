import { LithopsError, MalformedMessageError, OutputIntegrityError } from "../protocol/errors.ts";
export class MapCallError extends LithopsError {
  override name = "MapCallError";
}

/** A blob a signed message points at does not match the SHA-256 the message carries: altered after signing; nothing of it ran. */
export class PayloadIntegrityError extends MalformedMessageError {
  override name = "PayloadIntegrityError";
}

/** A map output a reducer read is not authenticated (its MAC does not match): altered or written without the key; the reducer read none of it. */
export class MapOutputIntegrityError extends OutputIntegrityError {
  override name = "MapOutputIntegrityError";
}
