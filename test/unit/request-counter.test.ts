import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RequestCounter } from "../../azure/storage-connection.ts";

describe("RequestCounter.unreported: every worker request reported once", () => {
  it("reports requests since the previous report, plus the ones announced ahead", () => {
    const counter = new RequestCounter();
    counter.count = 5; // e.g. runtime metadata, idle receives, the receive of the first batch
    assert.equal(counter.unreported(2), 7);
    counter.count += 2; // the announced upload and delete happen
    assert.equal(counter.unreported(), 0);
    counter.count += 3;
    assert.equal(counter.unreported(2), 5);
  });

  it("never counts twice when batches report while earlier announced requests are still in flight", () => {
    const counter = new RequestCounter();
    counter.count = 4;
    const a = counter.unreported(2); // batch A: 4 so far + its upload and delete
    const b = counter.unreported(2); // batch B reports before A's requests were sent
    counter.count += 4; // A's and B's uploads and deletes
    const rest = counter.unreported();
    assert.equal(a + b + rest, counter.count);
    assert.ok(b >= 0 && rest >= 0);
  });

  it("sums to the total over an interleaving of polls, reports and their late uploads and deletes", () => {
    const counter = new RequestCounter();
    let reported = 0;
    let announced = 0; // uploads and deletes announced by a report, not sent yet
    for (let i = 0; i < 500; i += 1) {
      counter.count += i % 3; // receives, renewals, payload reads
      if (i % 5 === 0) {
        reported += counter.unreported(2);
        announced += 2;
      }
      if (i % 7 === 0 && announced > 0) {
        counter.count += 1; // one announced request goes out
        announced -= 1;
      }
    }
    counter.count += announced;
    reported += counter.unreported();
    assert.equal(reported, counter.count);
  });
});
