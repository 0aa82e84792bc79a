import { LithopsError } from "../protocol/errors.ts";
export class PulumiProjectError extends LithopsError {
  override name = "PulumiProjectError";
}

/**
 * A Pulumi stack of lithops-aca, driven through Pulumi's Automation API (which runs the
 * user's `pulumi` CLI): a stack of the user's own Pulumi project, or of this package's
 * program run inline (deploy/pulumi-project.ts says which). The client reads a stack's
 * `clientConfig` output with it; the command line (cli/) and autoDeploy also change the
 * stack's runtimes and run `pulumi up` / `destroy`. Every failure is turned into an error
 * that says what to do next.
 */

/** A Pulumi failure, explained: `message` says what happened and what to do next. */
export class StackError extends LithopsError {
  override name = "StackError";
  constructor(
    message: string,
    /** What kind of failure, for callers and tests. */
    readonly kind:
      | "cli-missing"
      | "cli-too-old"
      | "not-logged-in"
      | "passphrase"
      | "stack-not-found"
      | "azure-login"
      | "docker"
      | "busy"
      | "no-outputs"
      | "pulumi",
    /** The CLI's own error lines. */
    readonly details = "",
  ) {
    super(message);
  }
}

/** A command that cannot be planned: the message says why and what to run instead. */
export class PlanError extends LithopsError {
  override name = "PlanError";
}
