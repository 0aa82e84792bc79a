import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { copyFile, mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import type { FunctionExecutor, ResponseFuture } from "../../client/index.ts";
import { packageRoot } from "../../protocol/version.ts";
import { launchBrowser } from "../support/browser.ts";
import { testExecutor } from "../support/executor.ts";
import { CLI_BIN } from "../support/package-paths.ts";
import { portRefusesConnections, sleep } from "../support/processes.ts";

/**
 * The live dashboard in a real browser (Debian's headless Chromium): a map of 200 calls, 5 of
 * which fail, watched through fexec.dashboard() while it runs and through `lithops-aca
 * dashboard <executorId>` from a second process reading storage alone. The numbers are read
 * from the page itself. With LITHOPS_DASHBOARD_SCREENSHOT=1 the screenshot also goes to
 * docs/images/dashboard.png (the README's).
 */

const CALLS = 200;
const FAILING = new Set([13, 57, 101, 150, 199]);

async function count(page: Page, state: string): Promise<number> {
  return Number(((await page.textContent(`#count-${state}`)) ?? "").replaceAll(",", ""));
}

/** Waits up to 10 s for the element's text to match. */
async function textMatching(page: Page, selector: string, pattern: RegExp): Promise<string> {
  const deadline = Date.now() + 10_000;
  let text = "";
  while (Date.now() < deadline) {
    text = (await page.textContent(selector)) ?? "";
    if (pattern.test(text)) return text;
    await sleep(100);
  }
  assert.fail(`${selector} still reads ${JSON.stringify(text)}, not ${pattern}`);
}

/** Reads the page's done and failed counts until they reach the end (or the deadline); returns every done count seen. */
async function watchCounts(page: Page, deadlineMs: number): Promise<number[]> {
  const seen: number[] = [];
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    const done = await count(page, "done");
    if (seen.at(-1) !== done) seen.push(done);
    if (done + (await count(page, "failed")) === CALLS) break;
    await sleep(100);
  }
  return seen;
}

/** Starts the CLI's dashboard for the executor; resolves with the process and the URL it printed. */
async function cliDashboard(executorId: string, config: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [CLI_BIN, "dashboard", executorId, "-b", "local", "-c", config], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const found = /http:\/\/127\.0\.0\.1:\d+\/\S+\//.exec(out);
      if (found) resolve(found[0]);
    });
    child.once("exit", (code) => reject(new Error(`lithops-aca dashboard exited with ${code}: ${err}`)));
  });
  return { child, url };
}

describe("dashboard: a running map watched in headless Chromium", () => {
  let fexec: FunctionExecutor;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let dir: string;
  let futures: ResponseFuture[];
  let results: Promise<unknown>;
  let dash: { url: string; close(): Promise<void> };
  const requested: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "lithops-dashboard-"));
    browser = await launchBrowser();
    browser.context.on("request", (request) => requested.push(request.url()));
    fexec = testExecutor({ maxWorkers: 2 });
    futures = await fexec.map(
      async (n: number) => {
        console.log(`call ${n} says hello`);
        await new Promise((resolve) => setTimeout(resolve, 60));
        if ([13, 57, 101, 150, 199].includes(n)) throw new TypeError(`call ${n} failed on purpose`);
        return n * 2;
      },
      Array.from({ length: CALLS }, (_, n) => n),
      { chunksize: 5 },
    );
    results = fexec.getResult(futures, { throwExcept: false });
    dash = await fexec.dashboard();
  });

  after(async () => {
    await browser?.close();
    await fexec?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("shows the counts moving while the map runs, ending at 195 done and 5 failed", async () => {
    const page = await browser.context.newPage();
    await page.goto(dash.url);
    const seen = await watchCounts(page, 120_000);
    assert.equal(await count(page, "done"), CALLS - FAILING.size);
    assert.equal(await count(page, "failed"), FAILING.size);
    assert.equal(await count(page, "total"), CALLS);
    assert.ok(seen.length >= 3 && seen.some((done) => done > 0 && done < CALLS - FAILING.size), `the done count should move: saw ${seen.join(", ")}`);
    await results;

    // A failure's name and message, and its remote stack.
    await page.waitForSelector(".failure-message");
    const messages = await page.$$eval(".failure-message", (nodes) => nodes.map((n) => n.textContent ?? ""));
    assert.equal(messages.length, FAILING.size);
    assert.ok(messages.includes("TypeError: call 13 failed on purpose"), messages.join("\n"));
    assert.match((await page.textContent(".failure pre")) ?? "", /call 13 failed on purpose\n\s+at /);

    // A call's logs, one click away.
    await page.click("#recent tr.clickable");
    await textMatching(page, "#logs", /call \d+ says hello/);
    const shown = (await page.textContent("#logs-title")) ?? "";
    const [, callId] = /\/(\d+)$/.exec(shown) ?? [];
    assert.ok(callId, shown);
    assert.equal((await page.textContent("#logs"))?.trim(), `call ${Number(callId)} says hello`);

    // The cost estimate.
    assert.match((await page.textContent("#cost-usd")) ?? "", /^\$\d/);
    assert.match((await page.textContent("#cost-notes")) ?? "", /free grant/);

    await page.waitForTimeout(1200); // one more redraw with everything finished
    const shot = join(dir, "dashboard.png");
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok((await stat(shot)).size > 20_000);
    if (process.env.LITHOPS_DASHBOARD_SCREENSHOT === "1") {
      await mkdir(join(packageRoot(), "docs", "images"), { recursive: true });
      await copyFile(shot, join(packageRoot(), "docs", "images", "dashboard.png"));
    }
    await page.close();
  });

  it("loads nothing from off the machine: every request is to the dashboard, with its token", () => {
    const origin = new URL(dash.url);
    assert.ok(requested.length >= 5, requested.join("\n"));
    for (const url of requested) assert.ok(url.startsWith(dash.url), `${url} is not under ${origin.origin}/<token>/`);
    for (const file of ["app.js", "vega.min.js", "vega-lite.min.js", "data.json", "logs?"]) {
      assert.ok(
        requested.some((url) => url.startsWith(dash.url + file)),
        `the page requested ${file}`,
      );
    }
  });

  it("answers 403 to any request without the token, a cookie included", async () => {
    const url = new URL(dash.url);
    const token = url.pathname.split("/")[1];
    const base = `${url.protocol}//${url.host}`;
    for (const [path, headers] of [
      ["/", {}],
      ["/data.json", {}],
      ["/vega.min.js", {}],
      [`/${token.slice(1)}/data.json`, {}],
      ["/data.json", { cookie: `token=${token}` }],
      [`/x/${token}/data.json`, {}],
    ] as const) {
      const response = await fetch(base + path, { headers });
      assert.equal(response.status, 403, `${path} ${JSON.stringify(headers)}`);
    }
    assert.equal((await fetch(`${dash.url}data.json`)).status, 200);
    assert.equal((await fetch(`${dash.url}data.json`, { method: "POST" })).status, 403);
  });

  it("shows the same job from a second process: lithops-aca dashboard <executorId>", async () => {
    const config = join(dir, "config.yaml");
    await writeFile(config, "{}\n");
    const { child, url } = await cliDashboard(fexec.executorId, config);
    try {
      assert.notEqual(url, dash.url);
      const page = await browser.context.newPage();
      await page.goto(url);
      await watchCounts(page, 30_000);
      assert.equal(await count(page, "done"), CALLS - FAILING.size);
      assert.equal(await count(page, "failed"), FAILING.size);
      assert.match((await page.textContent("#title")) ?? "", new RegExp(`${fexec.executorId} \\(from storage\\)`));
      const messages = await page.$$eval(".failure-message", (nodes) => nodes.map((n) => n.textContent ?? ""));
      assert.ok(messages.includes("TypeError: call 57 failed on purpose"), messages.join("\n"));
      await page.click("#recent tr.clickable");
      await textMatching(page, "#logs", /call \d+ says hello/);
      await page.close();
    } finally {
      if (child.exitCode === null) {
        child.kill("SIGINT");
        await new Promise((resolve) => child.once("exit", resolve));
      }
    }
    assert.equal(child.exitCode, 0);
  });

  it("the command refuses a bad executor id, and storage without job data, naming them", async () => {
    const config = join(dir, "config.yaml");
    await writeFile(config, "{}\n", { mode: 0o600 });
    // Both commands run at once: each is a process start, and neither depends on the other.
    const run = (executorId: string, env: NodeJS.ProcessEnv = process.env) =>
      promisify(execFile)(process.execPath, [CLI_BIN, "dashboard", executorId, "-b", "local", "-c", config], { encoding: "utf8", timeout: 60_000, env }).then(
        () => ({ status: 0, stderr: "" }),
        (error: { code?: number; stderr?: string }) => ({ status: error.code, stderr: error.stderr ?? "" }),
      );
    const empty = await mkdtemp(join(tmpdir(), "lithops-dashboard-empty-"));
    try {
      const [bad, none] = await Promise.all([run("a/b"), run("abc-1", { ...process.env, LITHOPS_LOCAL_DATA_DIR: empty })]);
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /DashboardError|executor id "a\/b" is not valid.*e\.g\. 3fa2c1-1/);
      assert.equal(none.status, 1);
      assert.match(none.stderr, /no job data in this storage \(container '[^']+' does not exist\)/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it("stops with close(), and with fexec.close()", async () => {
    const port = Number(new URL(dash.url).port);
    await dash.close();
    assert.ok(await portRefusesConnections(port));
    const second = await fexec.dashboard();
    const secondPort = Number(new URL(second.url).port);
    await fexec.close();
    assert.ok(await portRefusesConnections(secondPort));
  });
});
