/**
 * The seeds' "cache POST requests" worker (Cloudflare's and EdgeOne's copy-paste examples), with a Map
 * standing in for `caches.default`: clone the request, read it as `text()`, SHA-256 it to hex, build a
 * GET key request under `/posts`, look it up; on a miss fetch the origin and store a clone. Written
 * here from that algorithm so the benchmark compares postcache with what people deploy today.
 * `caches.default` evicts; so does the Map, at postcache's store cap (64 MiB, counted the way
 * core/stores/memory.ts counts: key, body, header bytes and a fixed overhead per entry), oldest first, so the two
 * hold alike much and the memory figures compare.
 *
 * Run: `ORIGIN=http://127.0.0.1:3000 bun bench/naive-proxy.ts`; prints `listening on <url>`.
 */
import { heapSize } from "bun:jsc";
import { DEFAULT_MEMORY_MAX_BYTES } from "../core/stores/memory.ts";

const origin = new URL(process.env.ORIGIN ?? "http://127.0.0.1:3000");
const cache = new Map<string, { body: ArrayBuffer; status: number; headers: Headers; size: number }>();
/** postcache's DEFAULT_MEMORY_MAX_BYTES, and its ENTRY_OVERHEAD_BYTES (not exported; restated). */
const MAX_BYTES = DEFAULT_MEMORY_MAX_BYTES;
const ENTRY_OVERHEAD_BYTES = 850;
let bytes = 0;

function put(key: string, body: ArrayBuffer, status: number, headers: Headers): void {
  let size = ENTRY_OVERHEAD_BYTES + key.length + body.byteLength;
  for (const [name, value] of headers) size += name.length + value.length;
  const old = cache.get(key);
  if (old) {
    bytes -= old.size;
    cache.delete(key);
  }
  cache.set(key, { body, status, headers, size });
  bytes += size;
  // A Map iterates in insertion order: the first key is the oldest.
  for (const [oldest, entry] of cache) {
    if (bytes <= MAX_BYTES) break;
    cache.delete(oldest);
    bytes -= entry.size;
  }
}

async function sha256(message: string): Promise<string> {
  const hashBuffer = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(message));
  return [...new Uint8Array(hashBuffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// The seed calls fetch(request) on its own URL (the platform routes it to the origin); here it is rewritten.
function toOrigin(request: Request): Request {
  const url = new URL(request.url);
  return new Request(new URL(url.pathname + url.search, origin), request);
}

async function handle(request: Request): Promise<Response> {
  // For the report: the live heap after a full collection (not part of the seed).
  if (request.method === "GET" && request.url.endsWith("/__memory")) {
    Bun.gc(true);
    return Response.json({ heapBytes: heapSize(), rssBytes: process.memoryUsage().rss, entries: cache.size, bytes });
  }
  try {
    if (request.method.toUpperCase() !== "POST") return fetch(toOrigin(request));
    const body = await request.clone().text();
    const hash = await sha256(body);
    const cacheUrl = new URL(request.url);
    cacheUrl.pathname = `/posts${cacheUrl.pathname}${hash}`;
    const cacheKey = new Request(cacheUrl.toString(), { headers: request.headers, method: "GET" });
    const hit = cache.get(cacheKey.url);
    if (hit) return new Response(hit.body, { status: hit.status, headers: hit.headers });
    const response = await fetch(toOrigin(request));
    // cache.put(cacheKey, response.clone()), not awaited (the seed hands it to waitUntil).
    const copy = response.clone();
    copy.arrayBuffer().then((buffer) => put(cacheKey.url, buffer, copy.status, copy.headers));
    return response;
  } catch (e) {
    return new Response(`Error thrown ${(e as Error).message}`);
  }
}

const server = Bun.serve({ hostname: "127.0.0.1", port: Number(process.env.PORT ?? 0), fetch: handle });
process.on("SIGTERM", () => process.exit(0));
console.log(`listening on http://127.0.0.1:${server.port}`);
