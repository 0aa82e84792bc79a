import { LithopsError } from "../protocol/errors.ts";
export class LocalDataDirBusyError extends LithopsError {
  override name = "LocalDataDirBusyError";
}
