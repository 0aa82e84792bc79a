import { LithopsError } from "../protocol/errors.ts";
export class InvalidMemoryError extends LithopsError {
  override name = "InvalidMemoryError";
}
