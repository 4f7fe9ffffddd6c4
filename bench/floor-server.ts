/**
 * The floor: the least a Bun server on the hit path can do. It reads the body, hashes it with
 * `Bun.CryptoHasher` (the hasher postcache's Bun server keys with), and answers one fixed document the
 * size of the origin's, with the origin's headers. No key, no lookup, no headers read: a reference row
 * for what Bun itself costs per request, so postcache's hit CPU can be read against it (issue 11).
 *
 * Run: `bun bench/floor-server.ts` with PORT (default 0: any free port); prints `listening on <url>`.
 */
import { heapSize } from "bun:jsc";

// The origin's answer (bench/origin.ts), so the response bytes on the wire are the same as a hit's.
const answer = JSON.stringify({
  ok: true,
  items: Array.from({ length: 18 }, (_, i) => ({ id: i, name: `item-${i}`, price: 10 + i, tags: ["a", "b", "c"] })),
});
const headers = { "content-type": "application/json", "cache-control": "public, max-age=3600" };

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT ?? 0),
  async fetch(request) {
    if (request.method === "GET" && request.url.endsWith("/__memory")) {
      Bun.gc(true);
      return Response.json({ heapBytes: heapSize(), rssBytes: process.memoryUsage().rss });
    }
    const hasher = new Bun.CryptoHasher("sha256");
    hasher.update(await request.bytes());
    hasher.digest();
    return new Response(answer, { headers });
  },
});
process.on("SIGTERM", () => process.exit(0));
console.log(`listening on http://127.0.0.1:${server.port}`);
