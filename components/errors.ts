import * as pulumi from "@pulumi/pulumi";

export class StackConfigError extends pulumi.RunError {
  override name = "StackConfigError";
}
