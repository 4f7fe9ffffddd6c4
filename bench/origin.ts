/**
 * The benchmark's origin: answers every POST with the same ~1 KiB JSON document, cacheable for an
 * hour, after reading the whole request body. Paths under `/slow/` answer after DELAY_MS (default 20),
 * the "20 ms origin"; every other path answers at once. `GET /__count` returns how many POSTs it has
 * answered, so the driver can prove that a "hit" slice never reached it.
 *
 * Run: `bun bench/origin.ts` with PORT (default 0: any free port); prints `listening on <url>`.
 */
const delayMs = Number(process.env.DELAY_MS ?? 20);
let answered = 0;

// One fixed document: the same size whatever the request, so systems differ only in how they cache.
const answer = JSON.stringify({
  ok: true,
  items: Array.from({ length: 18 }, (_, i) => ({ id: i, name: `item-${i}`, price: 10 + i, tags: ["a", "b", "c"] })),
});
const headers = { "content-type": "application/json", "cache-control": "public, max-age=3600" };

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT ?? 0),
  async fetch(request) {
    if (request.method === "GET" && request.url.endsWith("/__count")) return new Response(String(answered));
    await request.arrayBuffer();
    answered++;
    if (request.url.includes("/slow/")) await Bun.sleep(delayMs);
    return new Response(answer, { headers });
  },
});
process.on("SIGTERM", () => process.exit(0));
console.log(`listening on http://127.0.0.1:${server.port}`);

export {}; // a module, not a global script (its names stay its own)
