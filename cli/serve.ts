/**
 * The `postcache` command's server: postcache in front of the origin, on Bun (Bun.serve, Bun's fetch and
 * hasher) when run by Bun, else on node:http. Beside the cache: `GET /.postcache/health`, Prometheus
 * metrics at `/.postcache/metrics` behind the admin token, one log line per request, and a graceful
 * shutdown on SIGTERM/SIGINT.
 */
import { createServer, type Server } from "node:http";
import { lastResort } from "../adapters/last-resort.ts";
import { type PostcacheMetrics, prometheusMetrics } from "../adapters/metrics.ts";
import { sendResponse, toRequest } from "../adapters/node-http.ts";
import { type AdminEndpoints, adminEndpoints, bearerMatches } from "../core/admin.ts";
import { PostcacheOptionError, type PostcacheOptions } from "../core/options.ts";
import { type MemoryStore, memoryStore } from "../core/stores/memory.ts";
import type { CacheStore, ResultInfo } from "../core/types.ts";
import { createDemoOrigin } from "../examples/bun/demo-origin.ts";
import { requestLine } from "./log.ts";
import { type Settings, UsageError } from "./settings.ts";
import { openPurgeLog, openRedis } from "./stores.ts";

export const HEALTH_PATH = "/.postcache/health";
export const METRICS_PATH = "/.postcache/metrics";

export interface Running {
  url: string;
  /** Stops accepting, lets in-flight requests finish (at most `shutdownTimeoutMs`), closes the store. */
  close(): Promise<void>;
}

const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";

export async function serve(
  settings: Settings,
  out = (line: string) => process.stdout.write(line),
  err = console.error,
): Promise<Running> {
  const origin = settings.origin ?? (await startDemo());
  // A config module may bring its own store (`export default { store }`: a purge-log wrapper, a tiered
  // store); --redis picks one too, so both at once is a mistake, not a silent choice.
  const configured = (settings.options as { store?: CacheStore }).store;
  if (configured && settings.redis) {
    throw new UsageError(`${settings.config}: its "store" and --redis both choose the store: keep one`);
  }
  const opened = settings.redis ? await openRedis(settings.redis) : undefined;
  // One process's entries, capped: resident memory grows to about this much plus the runtime's own.
  const local = opened?.store ?? configured ?? memoryStore({ maxBytes: settings.cacheMb * 1024 * 1024 });
  const purgeLog = settings.purgeLog ? await openPurgeLog(settings.purgeLog, local, settings.purgeCheckMs, err) : undefined;
  const store = purgeLog?.store ?? local;
  const metrics = settings.adminToken ? prometheusMetrics() : undefined;
  const options = engineOptions(settings, metrics, out, err);
  let inFlight = () => 0;
  let server: { url: string; stop(force: boolean): Promise<void> };
  try {
    if (isBun) {
      const { postcacheBun, productionServe } = await import("../adapters/bun.ts");
      const handle = postcacheBun({ origin, ...options, store });
      let count = 0;
      inFlight = () => count;
      const routed = routes(settings, metrics, () => count, local);
      const bun = (globalThis as unknown as { Bun: BunServe }).Bun.serve({
        ...productionServe,
        hostname: settings.host,
        port: settings.port,
        async fetch(request: Request) {
          count++;
          try {
            return (await routed(request)) ?? (await handle(request));
          } finally {
            count--;
          }
        },
      });
      server = { url: `http://${settings.host}:${bun.port}`, stop: (force) => Promise.resolve(bun.stop(force)) };
    } else {
      const { postcacheNode } = await import("../adapters/node.ts");
      const listener = postcacheNode({ origin, ...options, store });
      inFlight = () => listener.inFlight;
      server = await listenNode(settings, listener, routes(settings, metrics, inFlight, local));
    }
  } catch (error) {
    await opened?.close();
    await purgeLog?.close();
    if (error instanceof PostcacheOptionError || error instanceof TypeError) {
      throw new UsageError(`${settings.config ?? "options"}: ${error.message.replace(/^\[postcache\] /, "")}`);
    }
    throw error;
  }
  const fronting = settings.origin ?? `the built-in demo origin at ${origin} (set ORIGIN or --origin to front your API)`;
  out(`postcache listening on ${server.url}, in front of ${fronting}\n\n${banner(server.url, settings)}`);
  let closing: Promise<void> | undefined;
  return {
    url: server.url,
    close: () => {
      closing ??= (async () => {
        const timer = setTimeout(() => server.stop(true), settings.shutdownTimeoutMs);
        await server.stop(false);
        clearTimeout(timer);
        await opened?.close();
        await purgeLog?.close();
      })();
      return closing;
    },
  };
}

/** How to try it, and where the live numbers are. */
function banner(url: string, settings: Settings): string {
  const lines = [
    "Try it (run twice: MISS, then HIT):",
    `  curl -si ${url}/search -H 'content-type: application/json' -d '{"query":"lamp"}'`,
    `Health: curl -s ${url}${HEALTH_PATH}`,
  ];
  if (settings.adminToken) {
    lines.push(
      "Live numbers (with your admin token in $TOKEN):",
      `  curl -s ${url}/.postcache/stats -H "authorization: Bearer $TOKEN"`,
      `  curl -s ${url}${METRICS_PATH} -H "authorization: Bearer $TOKEN"`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/** The engine's options: the config file's, the admin endpoints, and hooks that log and count. */
function engineOptions(
  settings: Settings,
  metrics: PostcacheMetrics | undefined,
  out: (line: string) => void,
  err: (line: string) => void,
): PostcacheOptions {
  const own = settings.options;
  const onResult = (info: ResultInfo) => {
    if (settings.log !== "off") out(`${requestLine(info, settings.log)}\n`);
    metrics?.onResult(info);
    own.onResult?.(info);
  };
  const onError = (error: unknown, where: string) => {
    const message = error instanceof Error ? error.message : String(error);
    if (settings.log === "json") err(JSON.stringify({ time: new Date().toISOString(), level: "error", where, message }));
    else if (settings.log === "text") err(`postcache: ${where} failed: ${message.split("\n")[0]}`);
    metrics?.onError(error, where);
    own.onError?.(error, where);
  };
  let admin: AdminEndpoints | undefined = own.admin;
  try {
    if (settings.adminToken) admin = adminEndpoints({ token: settings.adminToken });
  } catch (error) {
    throw new UsageError(`admin token: ${(error as Error).message.replace(/^\[postcache\] /, "")}`);
  }
  return { ...own, onResult, onError, ...(admin ? { admin } : {}) };
}

/** Health (open to all) and metrics (behind the admin token), answered before the cache. */
function routes(
  settings: Settings,
  metrics: PostcacheMetrics | undefined,
  inFlight: () => number,
  store: CacheStore,
): (request: Request) => Promise<Response | undefined> {
  const started = Date.now();
  const sha256 = async (parts: readonly Uint8Array[]) => crypto.subtle.digest("SHA-256", concat(parts));
  return async (request) => {
    const path = pathOf(request.url);
    if (path === HEALTH_PATH) {
      return Response.json(
        { status: "ok", uptimeSeconds: Math.floor((Date.now() - started) / 1000), inFlight: inFlight() },
        { headers: { "cache-control": "no-store" } },
      );
    }
    if (path !== METRICS_PATH || !metrics || !settings.adminToken) return undefined;
    if (!(await bearerMatches(request, settings.adminToken, sha256))) {
      return new Response("a valid bearer token is required\n", {
        status: 401,
        headers: { "www-authenticate": 'Bearer realm="postcache"' },
      });
    }
    metrics.inFlight(inFlight());
    if (isMemoryStore(store)) metrics.storeSize(store.bytes, store.size, store.maxBytes);
    return metrics.respond();
  };
}

function isMemoryStore(store: CacheStore): store is MemoryStore {
  return store.name === "memory" && typeof (store as Partial<MemoryStore>).bytes === "number";
}

function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  const end = url.indexOf("?", start);
  return start === -1 ? "/" : url.slice(start, end === -1 ? undefined : end);
}

function concat(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

interface BunServe {
  serve(options: object): { port: number; stop(force?: boolean): Promise<void> | void };
}

/** node:http with the routes in front of the listener; stop closes idle keep-alive sockets at once. */
function listenNode(
  settings: Settings,
  listener: (req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => void,
  routed: (request: Request) => Promise<Response | undefined>,
): Promise<{ url: string; stop(force: boolean): Promise<void> }> {
  const fail = lastResort();
  const server: Server = createServer((req, res) => {
    if (!req.url?.startsWith("/.postcache/")) return listener(req, res);
    let request: Request;
    try {
      request = toRequest(req, res);
    } catch {
      return listener(req, res); // the listener answers a bad Host with its 400
    }
    routed(request)
      .then((response) => (response ? sendResponse(res, response) : listener(req, res)))
      .catch((error) => sendResponse(res, fail(error)));
  });
  return new Promise((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(new UsageError(`cannot listen on ${settings.host}:${settings.port}: ${error.code ?? error.message}`)),
    );
    server.listen(settings.port, settings.host, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : settings.port;
      const host = settings.host.includes(":") ? `[${settings.host}]` : settings.host;
      resolve({
        url: `http://${host}:${port}`,
        stop: (force) =>
          new Promise<void>((done) => {
            if (force) {
              server.closeAllConnections();
              return done();
            }
            // Connections that finish their last request while we wait go too, not after keepAliveTimeout.
            const idle = setInterval(() => server.closeIdleConnections(), 50);
            server.close(() => {
              clearInterval(idle);
              done();
            });
            server.closeIdleConnections();
          }),
      });
    });
  });
}

/** The built-in demo origin on a free loopback port: its URL. */
async function startDemo(): Promise<string> {
  const demo = createDemoOrigin();
  if (isBun) {
    const server = (globalThis as unknown as { Bun: BunServe }).Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: demo.handle });
    return `http://127.0.0.1:${server.port}`;
  }
  const server = createServer((req, res) => {
    demo.handle(toRequest(req, res)).then((response) => sendResponse(res, response));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.unref();
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}
