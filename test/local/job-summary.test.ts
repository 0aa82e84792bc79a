import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { FunctionExecutor, ResponseFuture } from "../../client/index.ts";
import { JOB_SUMMARY_COLUMNS, toCsv, type JobSummaryRow } from "../../client/job-summary.ts";
import { DEFAULT_PRICES } from "../../client/cost.ts";
import { testExecutor } from "../support/executor.ts";

/** A small RFC 4180 reader: quoted fields may hold commas, quotes ("") and newlines. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      record.push(field);
      field = "";
    } else if (c === "\n") {
      record.push(field);
      records.push(record);
      record = [];
      field = "";
    } else field += c;
  }
  assert.equal(field + record.join(""), "", "the CSV ends with a newline");
  return records;
}

/** A CSV record back to a row: empty fields are missing values, numeric columns are numbers. */
function rowFromRecord(record: string[]): JobSummaryRow {
  const text = new Set<string>(["executorId", "jobId", "callId", "status", "workerId"]);
  const row: Record<string, unknown> = {};
  JOB_SUMMARY_COLUMNS.forEach((column, i) => {
    row[column] = record[i] === "" ? undefined : text.has(column) ? record[i] : Number(record[i]);
  });
  return row as unknown as JobSummaryRow;
}

describe("jobSummary: per-call rows and CSV on the local backend", () => {
  let fexec: FunctionExecutor;
  let dir: string;
  let mapped: ResponseFuture[];
  let running: ResponseFuture;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "lithops-summary-"));
    fexec = testExecutor();
    mapped = await fexec.map(
      async (n: number) => {
        await new Promise((resolve) => setTimeout(resolve, 10 * n));
        if (n === 2) throw new Error("two");
        return "x".repeat(n * 100);
      },
      [0, 1, 2, 3, 4],
    );
    await fexec.getResult(mapped, { throwExcept: false });
    running = await fexec.callAsync(async () => new Promise((resolve) => setTimeout(resolve, 1000)), "an argument");
  });
  after(async () => {
    await fexec.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("has one row per future, in call order, with its stats", async () => {
    const rows = await fexec.jobSummary();
    const futures = fexec.allFutures();
    assert.equal(rows.length, futures.length);
    assert.equal(rows.length, 6);
    rows.slice(0, 5).forEach((row, i) => {
      const future = mapped[i];
      const { submitted, started, finished, workerId, argumentBytes, resultBytes, attempt } = future.stats;
      assert.ok(started !== undefined && finished !== undefined);
      assert.deepEqual(row, {
        executorId: fexec.executorId,
        jobId: future.jobId,
        callId: future.callId,
        status: i === 2 ? "error" : "success",
        workerId,
        submitted,
        started,
        finished,
        queueWaitMs: started - submitted,
        durationMs: finished - started,
        argumentBytes,
        resultBytes,
        attempt,
        // The default runtime: 512 MB, 0.25 vCPU, at the default prices.
        vcpuSeconds: ((finished - started) / 1000) * 0.25,
        gibSeconds: ((finished - started) / 1000) * 0.5,
        usd: row.usd,
      });
      // The price per call, to rounding: the sum of its vCPU and GiB parts may round differently in its last bit.
      const usd = ((finished - started) / 1000) * (0.25 * DEFAULT_PRICES.vcpuSecondUsd + 0.5 * DEFAULT_PRICES.gibSecondUsd);
      assert.ok(Math.abs((row.usd ?? Number.NaN) - usd) <= usd * 1e-12, `usd ${row.usd} is not ${usd}`);
      assert.match(row.workerId ?? "", /^local-/);
      assert.ok(row.durationMs !== undefined && row.durationMs >= 10 * i - 5, `call ${i} slept ${10 * i} ms, took ${row.durationMs}`);
      assert.ok(row.argumentBytes > 0);
      assert.equal(row.attempt, 1);
    });
    // Results grow with n: 100 * n characters.
    assert.ok((rows[4].resultBytes ?? 0) > (rows[1].resultBytes ?? 0) + 250);
    const last = rows[5];
    assert.equal(running.done, false, "the last call must still be running for this test");
    assert.equal(last.callId, running.callId);
    assert.equal(last.status, "invoked");
    assert.equal(last.finished, undefined);
    assert.equal(last.durationMs, undefined);
    assert.equal(last.usd, undefined, "no cost before the call has run");
  });

  it("writes CSV with a header and one line per call, which parses back to the rows", async () => {
    const path = join(dir, "nested", "summary.csv");
    const rows = await fexec.jobSummary({ csv: path });
    const text = await readFile(path, "utf8");
    const records = parseCsv(text);
    assert.deepEqual(records[0], [...JOB_SUMMARY_COLUMNS]);
    assert.equal(records.length, rows.length + 1);
    assert.equal(text.trimEnd().split("\n").length, rows.length + 1);
    assert.deepEqual(records.slice(1).map(rowFromRecord), rows);
  });

  it("summarizes only the given futures", async () => {
    await running.result();
    const rows = await fexec.jobSummary({ fs: mapped.slice(3) });
    assert.deepEqual(
      rows.map((r) => r.callId),
      [mapped[3].callId, mapped[4].callId],
    );
    const one = await fexec.jobSummary({ fs: running });
    assert.equal(one.length, 1);
    assert.equal(one[0].status, "success");
    assert.ok(one[0].durationMs !== undefined && one[0].durationMs >= 990);
  });

  it("quotes fields with commas, quotes and newlines", () => {
    const row: JobSummaryRow = {
      executorId: 'ex,"1"',
      jobId: "M000",
      callId: "line\nbreak",
      status: "success",
      submitted: 1,
      argumentBytes: 2,
    };
    const csv = toCsv([row]);
    assert.match(csv, /^executorId,jobId,callId,/);
    assert.ok(csv.includes('"ex,""1"""'));
    const records = parseCsv(csv);
    assert.equal(records.length, 2);
    assert.deepEqual(rowFromRecord(records[1]), { ...Object.fromEntries(JOB_SUMMARY_COLUMNS.map((c) => [c, undefined])), ...row });
  });
});
