import { LithopsError } from "../protocol/errors.ts";
/** A command that cannot go on; the message says what to do instead. */
export class CliError extends LithopsError {
  override name = "CliError";
}

export class LogsError extends LithopsError {
  override name = "LogsError";
}

/** `job cancel` found no job to cancel. */
export class JobCancelError extends LithopsError {
  override name = "JobCancelError";
}

/** `dashboard` given an executor id that cannot be one. */
export class DashboardError extends LithopsError {
  override name = "DashboardError";
}
