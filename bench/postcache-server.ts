/**
 * postcache's Bun server as the benchmark runs it: `postcacheBun` with its defaults (Bun's synchronous
 * SHA-256) and an in-memory store of the default 64 MiB cap, in front of ORIGIN. `GET /__store`
 * answers the store's accounted bytes and entries, `GET /__memory` the live heap after a full
 * collection (the memory figures in the report).
 * PREFILL=1 fills the store to its cap before listening (distinct 1 KiB bodies through an engine in
 * this process, answered by a stand-in for the origin), so hits are measured against a full store, with
 * every lookup in a map of the size a busy server holds and every insertion evicting (issue 11).
 * POSTCACHE_ADAPTER may name another copy of adapters/bun.ts (a patched variant under bench/.work/,
 * beside its own core/) to measure a proposed change side by side with the real one.
 *
 * Run: `ORIGIN=http://127.0.0.1:3000 bun bench/postcache-server.ts`; prints `listening on <url>`.
 */
import { heapSize } from "bun:jsc";
import { dirname, join, resolve } from "node:path";
import type { postcacheBun as PostcacheBun } from "../adapters/bun.ts";
import type { createPostcache as CreatePostcache, memoryStore as MemoryStore } from "../core/index.ts";
import type { Sha256 } from "../core/types.ts";

const adapter = resolve(process.env.POSTCACHE_ADAPTER ?? join(import.meta.dir, "../adapters/bun.ts"));
const { postcacheBun, bunSha256 } = (await import(adapter)) as { postcacheBun: typeof PostcacheBun; bunSha256: Sha256 };
const { memoryStore, createPostcache } = (await import(join(dirname(adapter), "../core/index.ts"))) as {
  memoryStore: typeof MemoryStore;
  createPostcache: typeof CreatePostcache;
};

const store = memoryStore();
if (process.env.PREFILL === "1") await prefill();
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
/**
 * Fills the store until it evicts: unique bodies of the benchmark's 1 KiB size, each a miss answered by
 * a stand-in with the origin's document and headers, so each entry has the shape of a real one. Bounded:
 * at most MAX_PREFILL requests (the 64 MiB cap holds about 60k such entries).
 */
async function prefill(): Promise<void> {
  const MAX_PREFILL = 300_000;
  const answer = JSON.stringify({
    ok: true,
    items: Array.from({ length: 18 }, (_, i) => ({ id: i, name: `item-${i}`, price: 10 + i, tags: ["a", "b", "c"] })),
  });
  const engine = createPostcache({ sha256: bunSha256 });
  const origin = async () =>
    new Response(answer, { headers: { "content-type": "application/json", "cache-control": "public, max-age=3600" } });
  const pad = "x".repeat(1024);
  let last = -1;
  for (let i = 0; i < MAX_PREFILL; i++) {
    const head = `prefill-${i}`;
    const body = `{"q":"${head}","pad":"${pad.slice(0, 1024 - 17 - head.length)}"}`;
    const request = new Request("http://127.0.0.1/api/search", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    await (await engine.handle(request, store, origin)).arrayBuffer();
    // Full: the entry count stopped growing (each insertion evicts one), checked every 1,000 requests.
    if (i % 1000 === 999) {
      await Bun.sleep(0); // lets the stores started by the last misses finish
      if (store.size === last) break;
      last = store.size;
    }
  }
  console.log(`prefilled: ${store.size} entries, ${store.bytes} bytes of ${store.maxBytes}`);
}

// A clean exit on SIGTERM, so `bun --cpu-prof` writes its profile.
process.on("SIGTERM", () => process.exit(0));
console.log(`listening on http://127.0.0.1:${server.port}`);
