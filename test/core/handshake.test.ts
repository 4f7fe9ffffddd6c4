import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { BODY_REQUIRED_PROBLEM } from "../../core/handshake.ts";
import { harness, ORIGIN, status } from "../core/harness.ts";

const BODY = JSON.stringify({ query: "lamp", filters: Array.from({ length: 50 }, (_, i) => `f${i}`) });
const digestOf = (body: string | Uint8Array) => `sha-256=:${createHash("sha256").update(body).digest("base64")}:`;

const full = (body = BODY, headers: Record<string, string> = {}) =>
  new Request(`${ORIGIN}/search`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", "content-digest": digestOf(body), ...headers },
  });
const digestOnly = (body = BODY, headers: Record<string, string> = {}, path = "/search") =>
  new Request(ORIGIN + path, {
    method: "POST",
    headers: { "content-type": "application/json", "content-digest": digestOf(body), "postcache-body": "omitted", ...headers },
  });

function setup(options = {}, cacheControl = "max-age=60") {
  const bodies: string[] = [];
  const h = harness(options, undefined, async (r) => {
    const body = await r.text();
    bodies.push(body);
    return new Response(`answer for ${createHash("sha256").update(body).digest("hex").slice(0, 8)}`, {
      headers: { "cache-control": cacheControl, "x-saw-omitted": String(r.headers.has("postcache-body")) },
    });
  });
  return { h, bodies };
}

describe("digest handshake, edge side", () => {
  test("a digest the edge does not know: 412 asking for the full request; the origin is not called", async () => {
    const { h, bodies } = setup();
    const res = await h.send(digestOnly());
    expect(res.status).toBe(412);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect((await res.json()).type).toBe(BODY_REQUIRED_PROBLEM);
    expect(status(res)).toBe("postcache; fwd=bypass; detail=body-required");
    expect(bodies).toEqual([]);
  });

  test("after one full request, a digest-only request is answered from cache", async () => {
    const { h, bodies } = setup();
    const first = await h.send(full());
    const answer = await first.text();
    await h.settle();
    const second = await h.send(digestOnly());
    expect(second.status).toBe(200);
    expect(status(second)).toMatch(/hit/);
    expect(await second.text()).toBe(answer);
    expect(bodies).toEqual([BODY]);
  });

  test("when the answer has expired but the body is kept, the edge rebuilds the request and asks the origin itself", async () => {
    const { h, bodies } = setup({}, "max-age=10");
    await (await h.send(full())).text();
    await h.settle();
    h.clock.advance(30);
    const res = await h.send(digestOnly());
    expect(res.status).toBe(200);
    expect(status(res)).toMatch(/fwd=uri-miss; fwd-status=200; stored/);
    expect(res.headers.get("x-saw-omitted")).toBe("false");
    expect(bodies).toEqual([BODY, BODY]);
  });

  test("a Content-Digest that does not match the body is a 400, and nothing is stored or forwarded", async () => {
    const { h, bodies } = setup();
    const res = await h.send(full(BODY, { "content-digest": digestOf("something else") }));
    expect(res.status).toBe(400);
    expect((await res.json()).type).toBe("urn:postcache:problem:digest-mismatch");
    expect(bodies).toEqual([]);
    await h.settle();
    expect((await h.send(digestOnly("something else"))).status).toBe(412);
  });

  test("switched off, or on a request that is not cached here: 412, so the client sends it whole", async () => {
    expect((await setup({ handshake: false }).h.send(digestOnly())).status).toBe(412);
    const { h } = setup();
    await h.send(full());
    await h.settle();
    expect((await h.send(digestOnly(BODY, {}, "/cart/add"))).status).toBe(412);
    expect((await h.send(digestOnly(BODY, { authorization: "Bearer x" }))).status).toBe(412);
    expect((await h.send(digestOnly(BODY, { "content-digest": "sha-512=:AAAA:" }))).status).toBe(412);
  });
});

describe("ETag and If-None-Match on cached answers", () => {
  test("a hit carries a strong ETag; If-None-Match with it gets a 304 with no body", async () => {
    const { h } = setup();
    await (await h.send(full())).text();
    await h.settle();
    const hit = await h.send(full());
    const etag = hit.headers.get("etag") as string;
    expect(etag).toMatch(/^"pc-[A-Za-z0-9_-]{22}"$/);
    const notModified = await h.send(full(BODY, { "if-none-match": etag }));
    expect(notModified.status).toBe(304);
    expect(notModified.body).toBeNull();
    expect(notModified.headers.get("etag")).toBe(etag);
    expect(notModified.headers.get("cache-control")).toBe("max-age=60");
    expect(status(notModified)).toMatch(/hit/);
    const other = await h.send(full(BODY, { "if-none-match": '"something-else"' }));
    expect(other.status).toBe(200);
  });

  test("the origin's own ETag is kept", async () => {
    const h = harness({}, undefined, async () => new Response("x", { headers: { etag: '"v7"', "cache-control": "max-age=60" } }));
    await (await h.send(full())).text();
    await h.settle();
    expect((await h.send(full())).headers.get("etag")).toBe('"v7"');
    expect((await h.send(full(BODY, { "if-none-match": 'W/"v7"' }))).status).toBe(304);
  });
});

describe("digest handshake: edges of the edge side", () => {
  test("bodies are kept without waitUntil too (Bun, Deno): the optional call must not skip the write", async () => {
    const { h } = setup();
    const store = h.store;
    const answer = async () => new Response("x", { headers: { "cache-control": "max-age=60" } });
    await (await h.postcache.handle(full(), store, answer)).text();
    await Bun.sleep(10);
    const res = await h.postcache.handle(digestOnly(), store, answer);
    expect(res.status).toBe(200);
  });

  test("every 412 says why in `reason`", async () => {
    const reasons = async (h: ReturnType<typeof setup>["h"], request: Request) => (await (await h.send(request)).json()).reason;
    expect(await reasons(setup().h, digestOnly())).toBe("unknown-body");
    expect(await reasons(setup({ handshake: false }).h, digestOnly())).toBe("handshake-off");
    expect(await reasons(setup().h, digestOnly(BODY, {}, "/cart/add"))).toBe("not-cached");
    expect(await reasons(setup().h, digestOnly(BODY, { "content-digest": "sha-512=:AAAA:" }))).toBe("digest-required");
  });

  test("other methods without their body are refused, never forwarded empty", async () => {
    const { h, bodies } = setup();
    const res = await h.send(new Request(`${ORIGIN}/search`, { method: "PUT", headers: { "postcache-body": "omitted" } }));
    expect(res.status).toBe(412);
    expect((await res.json()).reason).toBe("not-cached");
    expect(bodies).toEqual([]);
  });

  test("the 412 and the digest 400 echo Origin for CORS; without Origin they add nothing", async () => {
    const { h } = setup();
    const withOrigin = await h.send(digestOnly(BODY, { origin: "https://app.example" }));
    expect(withOrigin.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(withOrigin.headers.get("vary")).toBe("Origin");
    const mismatch = await h.send(full(BODY, { "content-digest": digestOf("x"), origin: "https://app.example" }));
    expect(mismatch.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect((await h.send(digestOnly())).headers.has("access-control-allow-origin")).toBe(false);
  });

  test("with a scope, kept bodies are per user: one user's full request does not answer another's digest", async () => {
    const { h } = setup({ scope: (r: Request) => r.headers.get("authorization") ?? undefined });
    await (await h.send(full(BODY, { authorization: "alice" }))).text();
    await h.settle();
    expect((await h.send(digestOnly(BODY, { authorization: "bob" }))).status).toBe(412);
    expect((await h.send(digestOnly(BODY, { authorization: "alice" }))).status).toBe(200);
  });
});
