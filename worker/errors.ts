import { LithopsError } from "../protocol/errors.ts";
export class MapCallError extends LithopsError {
  override name = "MapCallError";
}
