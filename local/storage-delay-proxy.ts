import http from "node:http";
import type { AddressInfo } from "node:net";
import { InvalidArgumentError } from "../protocol/errors.ts";

/**
 * A benchmark knob: `LITHOPS_LOCAL_STORAGE_DELAY_MS=<ms>` puts an HTTP proxy on loopback
 * between Azurite and everything that talks to it (client, scaler, workers) and holds every
 * request that long before forwarding it, so the local backend shows what Azure's 5-30 ms
 * storage round trips cost. The proxy also counts the requests it forwarded: the ground truth
 * for client, scaler and workers together.
 */
export const STORAGE_DELAY_ENV = "LITHOPS_LOCAL_STORAGE_DELAY_MS";

/**
 * The injected delay from the environment: undefined when unset (no proxy), 0 for a proxy that
 * only counts; a value that is not a whole number of 0-10000 ms is refused.
 */
export function storageDelayFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const text = env[STORAGE_DELAY_ENV];
  if (text === undefined || text === "") return undefined;
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms < 0 || ms > 10_000) {
    throw new InvalidArgumentError(`${STORAGE_DELAY_ENV} is '${text}': give a whole number of milliseconds from 0 to 10000`);
  }
  return ms;
}

export interface StorageProxy {
  port: number;
  /** Requests forwarded so far. */
  readonly count: number;
  /** The answered ones by kind (`requestKind` and the status): where a workload's requests go. */
  readonly kinds: ReadonlyMap<string, number>;
  close(): Promise<void>;
}

/**
 * What a storage request is, in a few words: its method and what it names, ids written as `*`
 * and numbers as `N` (a batch output's download is `GET blob lithops.jobs`, two `*` and
 * `out/N.bin`, slash-separated; `DELETE queue message`; `GET container list`).
 */
export function requestKind(method: string, url: string): string {
  const { pathname, searchParams } = new URL(url, "http://storage");
  // /<account>/<container or queue>/<blob key or messages[/<id>]>
  const [, , target, ...rest] = pathname.split("/").map(decodeURIComponent);
  const comp = searchParams.get("comp");
  if (rest.length === 0 || rest[0] === "")
    return `${method} ${target === undefined ? "service" : searchParams.get("restype") === "container" ? "container" : "queue"}${comp ? ` ${comp}` : ""}`;
  if (rest[0] === "messages") return `${method} queue ${rest.length > 1 ? "message" : "messages"}`;
  const last = rest.length - 1;
  const shape = rest.map((segment, i) =>
    i === 0 ? segment : i < last ? (/\d/.test(segment) ? "*" : segment) : segment.replace(/[A-Za-z0-9_-]{40,}/g, "<digest>").replace(/\d+/g, "N"),
  );
  return `${method} blob ${shape.join("/")}${comp ? ` ${comp}` : ""}`;
}

/**
 * A proxy on 127.0.0.1 in front of one storage service on `targetPort`, forwarding each
 * request after `delayMs`. Its sockets and timers never keep the process alive.
 */
export async function startStorageProxy(
  targetPort: number,
  options: { delayMs?: number; onRequest?: (method: string, url: string) => void } = {},
): Promise<StorageProxy> {
  const delayMs = options.delayMs ?? 0;
  // Idle connections to Azurite are dropped after 4 s, before Azurite's own 5 s keep-alive
  // timeout: a connection it closes just as a request reuses it would fail that request.
  const agent = new http.Agent({ keepAlive: true, timeout: 4000 });
  let count = 0;
  const kinds = new Map<string, number>();
  const forward = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const upstream = http.request({ host: "127.0.0.1", port: targetPort, method: req.method, path: req.url, headers: req.headers, agent }, (answer) => {
      const kind = `${requestKind(req.method ?? "", req.url ?? "")} ${answer.statusCode}`;
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    // What Azure does on a network failure: the connection breaks (the SDK retries), no made-up 502.
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  };
  const server = http.createServer((req, res) => {
    count += 1;
    options.onRequest?.(req.method ?? "", req.url ?? "");
    if (delayMs === 0) forward(req, res);
    else {
      // Paused until forwarded: the body waits in the socket, not in memory.
      req.pause();
      setTimeout(() => forward(req, res), delayMs).unref();
    }
  });
  server.on("connection", (socket) => socket.unref());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.unref();
  return {
    port: (server.address() as AddressInfo).port,
    get count() {
      return count;
    },
    kinds,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}

/**
 * Puts a proxy (`startStorageProxy`) in front of each loopback endpoint (BlobEndpoint,
 * QueueEndpoint) of an Azurite connection string; returns the string that points at the proxies.
 */
export async function delayStorageEndpoints(
  connectionString: string,
  options: { delayMs?: number; onRequest?: (method: string, url: string) => void },
): Promise<{ connectionString: string; proxies: StorageProxy[] }> {
  const proxies: StorageProxy[] = [];
  let rewritten = connectionString;
  for (const [, key, port] of connectionString.matchAll(/(BlobEndpoint|QueueEndpoint)=http:\/\/127\.0\.0\.1:(\d+)\//g)) {
    const proxy = await startStorageProxy(Number(port), options);
    proxies.push(proxy);
    rewritten = rewritten.replace(`${key}=http://127.0.0.1:${port}/`, `${key}=http://127.0.0.1:${proxy.port}/`);
  }
  if (proxies.length === 0)
    throw new InvalidArgumentError(`${STORAGE_DELAY_ENV} needs an emulator on loopback: the connection string has no http://127.0.0.1 endpoint`);
  return { connectionString: rewritten, proxies };
}
