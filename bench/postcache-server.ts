/**
 * postcache's Bun server as the benchmark runs it: `postcacheBun` with its defaults (Bun's synchronous
 * SHA-256) and an in-memory store of the default 64 MiB cap, in front of ORIGIN. `GET /__store`
 * answers the store's accounted bytes and entries, `GET /__memory` the live heap after a full
 * collection (the memory figures in the report).
 * POSTCACHE_ADAPTER may name another copy of adapters/bun.ts (a patched variant under bench/.work/,
 * beside its own core/) to measure a proposed change side by side with the real one.
 *
 * Run: `ORIGIN=http://127.0.0.1:3000 bun bench/postcache-server.ts`; prints `listening on <url>`.
 */
import { heapSize } from "bun:jsc";
import { dirname, join, resolve } from "node:path";
import type { postcacheBun as PostcacheBun } from "../adapters/bun.ts";
import type { memoryStore as MemoryStore } from "../core/index.ts";

const adapter = resolve(process.env.POSTCACHE_ADAPTER ?? join(import.meta.dir, "../adapters/bun.ts"));
const { postcacheBun } = (await import(adapter)) as { postcacheBun: typeof PostcacheBun };
const { memoryStore } = (await import(join(dirname(adapter), "../core/index.ts"))) as { memoryStore: typeof MemoryStore };

const store = memoryStore();
const handle = postcacheBun({ origin: process.env.ORIGIN ?? "http://127.0.0.1:3000", store });
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT ?? 0),
  fetch(request) {
    if (request.method === "GET" && request.url.endsWith("/__store")) {
      return Response.json({ bytes: store.bytes, entries: store.size });
    }
    if (request.method === "GET" && request.url.endsWith("/__memory")) {
      Bun.gc(true);
      return Response.json({ heapBytes: heapSize(), rssBytes: process.memoryUsage().rss });
    }
    return handle(request);
  },
});
// A clean exit on SIGTERM, so `bun --cpu-prof` writes its profile.
process.on("SIGTERM", () => process.exit(0));
console.log(`listening on http://127.0.0.1:${server.port}`);
