import type { A } from "./cycle-a.ts";

/** The other half of the deliberate cycle of test/support/cycle-a.ts. */
export interface B {
  a?: A;
}
