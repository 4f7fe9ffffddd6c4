/**
 * Conditional requests from fetch clients. A `fetch()` with If-None-Match also sends
 * `Cache-Control: no-cache` (Fetch standard, HTTP-network-or-cache fetch), so its revalidation goes to
 * the origin; when the refreshed answer still has the validator the client holds, the answer is a 304.
 */
import { describe, expect, test } from "bun:test";
import { harness, post, status } from "./harness.ts";

/** An origin answering `bodies[call - 1]` (the last one repeated), with or without its own ETag. */
function origin(bodies: string[], withEtag: boolean) {
  let calls = 0;
  const fetcher = async (request: Request) => {
    await request.arrayBuffer();
    const body = bodies[Math.min(calls++, bodies.length - 1)];
    const headers: Record<string, string> = { "cache-control": "max-age=60", "content-type": "text/plain" };
    if (withEtag) headers.etag = `"${body}"`;
    return new Response(body, { headers });
  };
  return { fetcher, calls: () => calls };
}

/** What a browser's fetch sends to revalidate. */
const revalidation = (etag: string) => ({ "if-none-match": etag, "cache-control": "no-cache", pragma: "no-cache" });

for (const withEtag of [true, false]) {
  describe(`revalidating through the origin (${withEtag ? "the origin's ETag" : "postcache's ETag"})`, () => {
    test("the same answer again: a 304, and the entry refreshed", async () => {
      const o = origin(["v1"], withEtag);
      const h = harness({}, undefined, o.fetcher);
      const first = await h.send(post("/search"));
      await first.text();
      await h.settle();
      const etag = (await h.send(post("/search"))).headers.get("etag") ?? "";
      expect(etag).not.toBe("");
      h.clock.advance(30);
      const res = await h.send(post("/search", '{"q":1}', revalidation(etag)));
      expect(res.status).toBe(304);
      expect(res.headers.get("etag")).toBe(etag);
      expect(status(res)).toBe("postcache; fwd=request; fwd-status=200; stored");
      expect(await res.text()).toBe("");
      await h.settle();
      expect(o.calls()).toBe(2);
      // The refresh was stored: a plain request is a hit with a fresh age.
      const hit = await h.send(post("/search"));
      expect(status(hit)).toBe("postcache; hit; ttl=60");
    });

    test("a changed answer: the full 200, with its new validator", async () => {
      const o = origin(["v1", "v2"], withEtag);
      const h = harness({}, undefined, o.fetcher);
      await (await h.send(post("/search"))).text();
      await h.settle();
      const etag = (await h.send(post("/search"))).headers.get("etag") ?? "";
      const res = await h.send(post("/search", '{"q":1}', revalidation(etag)));
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("v2");
      expect(res.headers.get("etag")).not.toBe(etag);
    });

    test("a miss with a validator the client got earlier is a 304 too", async () => {
      const o = origin(["v1"], withEtag);
      const first = harness({}, undefined, o.fetcher);
      await (await first.send(post("/search"))).text();
      await first.settle();
      const etag = (await first.send(post("/search"))).headers.get("etag") ?? "";
      // Another node, or an evicted entry: nothing stored here.
      const h = harness({}, undefined, o.fetcher);
      const res = await h.send(post("/search", '{"q":1}', { "if-none-match": etag }));
      expect(res.status).toBe(304);
      expect(status(res)).toMatch(/fwd=uri-miss/);
    });
  });
}
