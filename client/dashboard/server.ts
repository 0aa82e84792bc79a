/**
 * The dashboard's HTTP server (node:http): read-only, on 127.0.0.1 only, on a free port.
 * Every answered request carries the random token as the first part of its path
 * (`/<token>/`, `/<token>/app.js`, `/<token>/data.json`, ...); any other request gets 403,
 * whatever cookies or headers it has. Vega and Vega-Lite are served from the installed
 * packages: the page loads nothing from elsewhere (its Content-Security-Policy says so too).
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PlotPackagesMissingError } from "../errors.ts";
import { DASHBOARD_HTML, DASHBOARD_SCRIPT } from "./page.ts";
import { buildSnapshot, type Snapshot } from "./snapshot.ts";
import type { DashboardSource } from "./source.ts";

export interface Dashboard {
  /** `http://127.0.0.1:<port>/<token>/`: open it in a browser on this machine. */
  readonly url: string;
  close(): Promise<void>;
}

/** Snapshots younger than this are served again: the page asks twice a second, possibly from several tabs. */
const SNAPSHOT_REUSE_MS = 400;

const SECURITY_HEADERS = {
  "Cache-Control": "no-store",
  "Referrer-Policy": "no-referrer",
  "X-Content-Type-Options": "nosniff",
  // Vega compiles its expressions with Function: 'unsafe-eval', but only scripts from this server.
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

/** The browser builds of Vega and Vega-Lite, beside each package's entry point. */
async function vegaScripts(): Promise<{ vega: string; vegaLite: string }> {
  try {
    const vega = join(dirname(fileURLToPath(import.meta.resolve("vega"))), "vega.min.js");
    const vegaLite = join(dirname(fileURLToPath(import.meta.resolve("vega-lite"))), "vega-lite.min.js");
    const [a, b] = await Promise.all([readFile(vega, "utf8"), readFile(vegaLite, "utf8")]);
    return { vega: a, vegaLite: b };
  } catch (error) {
    throw new PlotPackagesMissingError(
      "the dashboard draws with vega and vega-lite, optional peer dependencies of lithops-aca that are not installed; install them with: npm install vega vega-lite",
      { cause: error },
    );
  }
}

function hasToken(path: string, token: string): string | undefined {
  const [, first, ...rest] = path.split("/");
  const given = Buffer.from(first ?? "");
  const wanted = Buffer.from(token);
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) return undefined;
  return rest.join("/");
}

/**
 * Serves the dashboard of `source` until close(). By default the server does not keep the
 * process alive (the page is a view of the program); `holdProcess` makes it (the CLI's case).
 */
export async function serveDashboard(source: DashboardSource, { holdProcess = false } = {}): Promise<Dashboard> {
  const scripts = await vegaScripts();
  const token = randomBytes(24).toString("base64url");
  let latest: { at: number; snapshot: Promise<Snapshot> } | undefined;

  const snapshot = (): Promise<Snapshot> => {
    if (latest && Date.now() - latest.at < SNAPSHOT_REUSE_MS) return latest.snapshot;
    const at = Date.now();
    const next = (async () => {
      const calls = await source.calls();
      const cost = await source.cost(calls).catch((error: Error) => error.message);
      return buildSnapshot(source.title, calls, cost);
    })();
    latest = { at, snapshot: next };
    next.catch(() => {
      if (latest?.snapshot === next) latest = undefined;
    });
    return next;
  };

  const files: Record<string, [type: string, body: string]> = {
    "": ["text/html; charset=utf-8", DASHBOARD_HTML],
    "app.js": ["text/javascript; charset=utf-8", DASHBOARD_SCRIPT],
    "vega.min.js": ["text/javascript; charset=utf-8", scripts.vega],
    "vega-lite.min.js": ["text/javascript; charset=utf-8", scripts.vegaLite],
  };

  const answer = (res: ServerResponse, status: number, type: string, body: string): void => {
    res.writeHead(status, { ...SECURITY_HEADERS, "Content-Type": type });
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const rest = hasToken(url.pathname, token);
    if (rest === undefined || (req.method !== "GET" && req.method !== "HEAD")) return answer(res, 403, "text/plain", "forbidden");
    const file = files[rest];
    if (file) return answer(res, 200, file[0], file[1]);
    if (rest === "data.json") return answer(res, 200, "application/json", JSON.stringify(await snapshot()));
    if (rest === "logs") {
      const [executorId, jobId, callId] = ["executor", "job", "call"].map((name) => url.searchParams.get(name) ?? "");
      const logs = await source.logs(executorId, jobId, callId);
      return logs === undefined
        ? answer(res, 404, "text/plain; charset=utf-8", `call ${executorId}/${jobId}/${callId} is not finished or not known`)
        : answer(res, 200, "text/plain; charset=utf-8", logs);
    }
    answer(res, 404, "text/plain", "not found");
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => {
      if (!res.headersSent) answer(res, 500, "text/plain; charset=utf-8", error.message);
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  if (!holdProcess) server.unref();
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}/${token}/`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
