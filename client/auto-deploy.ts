import type { LithopsConfigFile } from "./config.ts";
import { loadPulumiPart } from "./optional-packages.ts";

/**
 * The client's one way up into deploy/ (test/unit/layout.test.ts allows it here alone):
 * an executor bound to a stack reads the stack's client settings and, with autoDeploy,
 * deploys a runtime the stack lacks. Loaded lazily: the client needs Pulumi only for these.
 */

/** The stack's clientConfig output: what takes the place of the config file for an executor bound to it. */
export async function stackClientConfig(stack: string): Promise<LithopsConfigFile> {
  const { readStackClientConfig } = await loadPulumiPart(`binding an executor to stack '${stack}'`, () => import("../deploy/stack-session.ts"));
  return readStackClientConfig(stack);
}

/** Deploys `runtime` with `memory` MB in `stack`, as `npx lithops-aca runtime deploy` would. */
export async function autoDeploy(stack: string, runtime: string, memory: number, log: (line: string) => void): Promise<void> {
  const { deployRuntime } = await loadPulumiPart("autoDeploy", () => import("../deploy/runtime-changes.ts"));
  await deployRuntime(stack, runtime, memory, log);
}
