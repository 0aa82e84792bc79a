import { LithopsStack } from "../../components/index.ts";
import { REPO_ROOT } from "./package-paths.ts";

/**
 * Programs that declare LithopsStack components directly, for test/pulumi/components.test.ts.
 * As exported functions (the harness's `programFunction`) they run in the harness's program
 * thread; each returns its stack outputs.
 */

const root = REPO_ROOT;

/** Two stacks in one program, the second in a shared resource group with a second runtime and a poison alert. */
export function twoStacks(): Record<string, unknown> {
  const a = new LithopsStack("team-a", { location: "westeurope", projectRoot: root, runtimes: [{ name: "default", memory: 1024 }] });
  const b = new LithopsStack("team-b", {
    location: "westeurope",
    projectRoot: root,
    resourceGroupName: "shared",
    runtimes: [
      { name: "default", memory: 1024 },
      { name: "node:22", memory: 4096, timeout: 1800 },
    ],
    poisonAlert: { actionGroupId: "/subscriptions/s/resourceGroups/ops/providers/Microsoft.Insights/actionGroups/oncall" },
  });
  return { a: a.clientConfig, b: b.runtimes };
}

/** A stack without runtimes whose component is protected. */
export function protectedStack(): Record<string, unknown> {
  new LithopsStack("guarded", { location: "westeurope", projectRoot: root, runtimes: [] }, { protect: true });
  return {};
}

/** A stack with a memory size and a storage SKU the component refuses. */
export function badArgsStack(): Record<string, unknown> {
  new LithopsStack("x", { location: "westeurope", projectRoot: root, runtimes: [{ name: "default", memory: 1000 }], storage: { sku: "Premium" } });
  return {};
}
