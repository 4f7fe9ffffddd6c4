import { describe, expect, test } from "bun:test";
import { harness, origin, post, status, useOrigin } from "./harness.ts";

useOrigin();

/** The origin answers `make()` every time; the second request must reach it again, with `detail`. */
async function expectNotStored(options: Parameters<typeof harness>[0], make: () => Response, detail: string) {
  const h = harness(options);
  const o = origin("/search", () => make());
  for (let i = 0; i < 2; i++) {
    const res = await h.send(post("/search"));
    expect(status(res)).toMatch(new RegExp(`fwd=uri-miss; fwd-status=\\d+; detail=${detail}$`));
    await res.arrayBuffer();
    await h.settle();
  }
  expect(o.calls).toBe(2);
  expect(h.store).toMatchObject({ size: 0 });
}

describe("storability: never store what must not be stored (RFC 9111 §3)", () => {
  test("no-store", () => expectNotStored({}, () => new Response("x", { headers: { "cache-control": "no-store" } }), "no-store"));
  test("private", () =>
    expectNotStored({}, () => new Response("x", { headers: { "cache-control": "private, max-age=60" } }), "private"));
  test("no-cache", () => expectNotStored({}, () => new Response("x", { headers: { "cache-control": "no-cache" } }), "no-cache"));
  test("Set-Cookie", () => expectNotStored({}, () => new Response("x", { headers: { "set-cookie": "sid=1" } }), "set-cookie"));
  test("Vary: *", () => expectNotStored({}, () => new Response("x", { headers: { vary: "Accept, *" } }), "vary-star"));
  test("a status outside the list", () => expectNotStored({}, () => new Response("x", { status: 202 }), "status"));
  test("partial content", () =>
    expectNotStored({}, () => new Response("x", { status: 206, headers: { "content-range": "bytes 0-0/2" } }), "status"));
  test("a Content-Range on an allowed status", () =>
    expectNotStored({}, () => new Response("x", { headers: { "content-range": "bytes 0-0/2" } }), "partial"));
  test("a declared body over maxResponseBytes", () =>
    expectNotStored(
      { maxResponseBytes: 10 },
      () => new Response("x".repeat(11), { headers: { "content-length": "11" } }),
      "too-large",
    ));
  test("an answer already past its lifetime", () =>
    expectNotStored({}, () => new Response("x", { headers: { "cache-control": "max-age=10", age: "20" } }), "expired"));
  test("an origin 5xx", () => expectNotStored({}, () => new Response("x", { status: 503 }), "status"));

  test("a streamed body over maxResponseBytes reaches the client whole but is not stored", async () => {
    const h = harness({ maxResponseBytes: 100 });
    const big = "y".repeat(5000);
    const o = origin("/search", () => new Response(new Blob([big]).stream(), { headers: { "cache-control": "max-age=60" } }));
    const first = await h.send(post("/search"));
    expect(await first.text()).toBe(big);
    await h.settle();
    const second = await h.send(post("/search"));
    expect(status(second)).toMatch(/uri-miss/);
    expect(await second.text()).toBe(big);
    expect(o.calls).toBe(2);
  });

  test("the allowed statuses are configurable; 404 with explicit freshness is stored by default", async () => {
    const h = harness();
    const o = origin("/search", () => new Response("gone", { status: 404, headers: { "cache-control": "max-age=60" } }));
    await h.send(post("/search"));
    await h.settle();
    const again = await h.send(post("/search"));
    expect(again.status).toBe(404);
    expect(status(again)).toMatch(/hit/);
    expect(o.calls).toBe(1);
    await expectNotStored(
      { cacheableStatuses: [200] },
      () => new Response("gone", { status: 404, headers: { "cache-control": "max-age=60" } }),
      "status",
    );
  });

  test("a 204 is replayed with no body", async () => {
    const h = harness();
    origin("/search", () => new Response(null, { status: 204, headers: { "cache-control": "max-age=60" } }));
    await h.send(post("/search"));
    await h.settle();
    const again = await h.send(post("/search"));
    expect(again.status).toBe(204);
    expect(status(again)).toMatch(/hit/);
    expect(again.body).toBeNull();
  });
});

describe("storability: what comes back is what the origin said, byte for byte", () => {
  test("binary and compressed bodies, multi-valued headers; hop-by-hop and Set-Cookie-free", async () => {
    // A direct fetcher: msw's fetch emulation always decodes gzip, which would hide what we replay.
    let answer = () => new Response();
    const h = harness({}, undefined, async () => answer());
    const body = Bun.gzipSync(new TextEncoder().encode("hello ".repeat(100)));
    const headers = new Headers({
      "content-type": "application/json",
      "content-encoding": "gzip",
      "cache-control": "max-age=60",
      connection: "x-private-hop",
      "x-private-hop": "secret",
      "keep-alive": "timeout=5",
    });
    headers.append("link", "</a>; rel=preload");
    headers.append("link", "</b>; rel=preload");
    answer = () => new Response(body, { headers });
    const first = await h.send(post("/search"));
    expect(new Uint8Array(await first.arrayBuffer())).toEqual(body);
    await h.settle();
    const hit = await h.send(post("/search"));
    expect(status(hit)).toMatch(/hit/);
    expect(new Uint8Array(await hit.arrayBuffer())).toEqual(body);
    expect(hit.headers.get("content-encoding")).toBe("gzip");
    expect(hit.headers.get("link")).toBe("</a>; rel=preload, </b>; rel=preload");
    expect(hit.headers.has("keep-alive")).toBe(false);
    expect(hit.headers.has("x-private-hop")).toBe(false);
    expect(hit.headers.has("connection")).toBe(false);
  });

  test("the origin's own Cache-Status comes first, ours after it (RFC 9211 §2)", async () => {
    const h = harness();
    origin(
      "/search",
      () => new Response("x", { headers: { "cache-status": "OriginCache; hit", "cache-control": "max-age=60" } }),
    );
    const res = await h.send(post("/search"));
    expect(res.headers.get("cache-status")).toBe("OriginCache; hit, postcache; fwd=uri-miss; fwd-status=200; stored");
  });
});

describe("storability: Vary", () => {
  test("a response varying on an unkeyed header is served only to matching requests", async () => {
    const h = harness();
    const o = origin(
      "/search",
      (r) => new Response(`for ${r.headers.get("x-tenant")}`, { headers: { vary: "X-Tenant", "cache-control": "max-age=60" } }),
    );
    await h.send(post("/search", "{}", { "x-tenant": "a" }));
    await h.settle();
    const b = await h.send(post("/search", "{}", { "x-tenant": "b" }));
    expect(status(b)).toMatch(/fwd=vary-miss/);
    expect(await b.text()).toBe("for b");
    await h.settle();
    const b2 = await h.send(post("/search", "{}", { "x-tenant": "b" }));
    expect(status(b2)).toMatch(/hit/);
    expect(await b2.text()).toBe("for b");
    expect(o.calls).toBe(2);
  });
});
