import assert from "node:assert/strict";
import { test } from "node:test";
import { analyzeAttemptLog, givenUpReason, MAX_HAND_BACKS } from "../../worker/redelivery.ts";

/** An attempt log where deliveries 1..n were each handed back on SIGTERM (the call never ended within the grace). */
function handedBack(n: number): string {
  const lines: string[] = [];
  for (let d = 1; d <= n; d += 1) {
    if (d > 1) lines.push(JSON.stringify({ d, w: `w${d}` }), JSON.stringify({ s: "00000" }));
    lines.push(JSON.stringify({ r: d, w: `w${d}` }));
  }
  return lines.join("\n");
}

test("hand-backs on SIGTERM count toward no crash limit, but toward a bound of their own", () => {
  const below = analyzeAttemptLog(handedBack(MAX_HAND_BACKS - 1));
  assert.equal(below.released, MAX_HAND_BACKS - 1);
  assert.equal(below.unattributed, 0);
  assert.equal(givenUpReason(below, MAX_HAND_BACKS, 1, 3), undefined, "a few hand-backs: the batch runs again");
  const at = analyzeAttemptLog(handedBack(MAX_HAND_BACKS));
  const reason = givenUpReason(at, MAX_HAND_BACKS + 1, 1, 3);
  assert.match(reason ?? "", new RegExp(`handed back ${MAX_HAND_BACKS} times .*limit ${MAX_HAND_BACKS}`));
});

test("crashes still end a batch at max_deliveries whatever the hand-backs", () => {
  // Three deliveries died before any call started: unattributed, at the limit of 3.
  const text = [1, 2, 3].map((d) => JSON.stringify({ d: d + 1, w: "w" })).join("\n");
  const analysis = analyzeAttemptLog(text);
  assert.match(givenUpReason(analysis, 5, 1, 3) ?? "", /died before any single call could be blamed \(limit 3\)/);
  assert.equal(givenUpReason(analyzeAttemptLog(""), 2, 1, 3), undefined, "one crash of the parallel first delivery: runs again");
});
