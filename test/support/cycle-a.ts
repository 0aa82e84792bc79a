import type { B } from "./cycle-b.ts";

/** One half of a deliberate import cycle: test/unit/layout.test.ts checks that its cycle finder sees it. */
export interface A {
  b?: B;
}
