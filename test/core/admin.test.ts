import { describe, expect, test } from "bun:test";
import { adminEndpoints } from "../../core/admin.ts";
import { createPostcache, memoryStore } from "../../core/index.ts";
import { harness, ORIGIN, post, status } from "../core/harness.ts";

const TOKEN = "s3cret-token-of-enough-length";
const admin = (path: string, init: RequestInit = {}, token: string | null = TOKEN) =>
  new Request(ORIGIN + path, {
    ...init,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers ?? {}) },
  });

function tagged(tagsHeader: Record<string, string> = {}) {
  let calls = 0;
  const h = harness({ admin: adminEndpoints({ token: TOKEN }) }, undefined, async (r) => {
    calls++;
    return new Response(`${new URL(r.url).pathname} #${calls}`, { headers: { "cache-control": "max-age=600", ...tagsHeader } });
  });
  return { h, calls: () => calls };
}

describe("admin endpoints: off by default, then behind a bearer token", () => {
  test("without an admin option, /.postcache/ is just another path", async () => {
    const h = harness({}, undefined, async () => new Response("origin"));
    const res = await h.send(admin("/.postcache/stats"));
    expect(await res.text()).toBe("origin");
  });

  test("no token, a wrong token, or a token of another length: 401 with WWW-Authenticate", async () => {
    const { h } = tagged();
    for (const token of [null, "wrong-token-of-enough-length", `${TOKEN}x`, TOKEN.slice(0, -1)]) {
      const res = await h.send(admin("/.postcache/stats", {}, token));
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="postcache"');
      expect(res.headers.get("content-type")).toBe("application/problem+json");
    }
  });

  test("a short token is refused at start-up", () => {
    expect(() => createPostcache({ admin: adminEndpoints({ token: "short" }) })).toThrow(
      /option "admin.token" must be a string of at least 16/,
    );
    expect(() => createPostcache({ admin: adminEndpoints({ token: TOKEN, path: "/admin" }) })).toThrow(/option "admin.path"/);
  });

  test("stats count hits, misses, bypasses by reason, saved calls and bytes", async () => {
    const { h } = tagged();
    await h.send(post("/search", "{}"));
    await h.settle();
    await h.send(post("/search", "{}"));
    await h.send(post("/search", "{}"));
    await h.send(post("/cart/add", "{}"));
    await h.send(post("/search", "{}", { authorization: "Bearer x" }));
    const res = await h.send(admin("/.postcache/stats"));
    expect(res.headers.get("cache-control")).toBe("no-store");
    const stats = await res.json();
    expect(stats).toMatchObject({
      store: "memory",
      requests: 5,
      hits: 2,
      misses: 1,
      bypasses: 2,
      bypassReasons: { mutation: 1, credentials: 1 },
      originCallsSaved: 2,
      bytesSaved: 2 * "/search #1".length,
      hitRatio: 0.6667,
    });
    expect(h.postcache.stats().hits).toBe(2);
  });

  test("wrong method and unknown endpoint", async () => {
    const { h } = tagged();
    expect((await h.send(admin("/.postcache/stats", { method: "POST", body: "{}" }))).status).toBe(405);
    expect((await h.send(admin("/.postcache/purge"))).status).toBe(405);
    expect((await h.send(admin("/.postcache/nope"))).status).toBe(404);
  });
});

describe("targeted purge", () => {
  async function fill(h: ReturnType<typeof harness>, paths: string[]) {
    for (const path of paths) await (await h.send(post(path, "{}"))).text();
    await h.settle();
  }
  const purge = (body: unknown) => admin("/.postcache/purge", { method: "POST", body: JSON.stringify(body) });

  test("by tag from Cache-Tag and Surrogate-Key, leaving other entries", async () => {
    const store = memoryStore();
    let n = 0;
    const h = harness({ admin: adminEndpoints({ token: TOKEN }) }, store, async (r) => {
      n++;
      const path = new URL(r.url).pathname;
      const headers: Record<string, string> = { "cache-control": "max-age=600" };
      if (path === "/a") headers["cache-tag"] = "product:1, search";
      if (path === "/b") headers["surrogate-key"] = "product:2 search";
      return new Response(`${path} #${n}`, { headers });
    });
    await fill(h, ["/a", "/b", "/c"]);
    const res = await h.send(purge({ tag: "product:1" }));
    expect(await res.json()).toEqual({ purged: { tags: { "product:1": 1 } } });
    expect(status(await h.send(post("/a", "{}")))).toMatch(/uri-miss/);
    expect(status(await h.send(post("/b", "{}")))).toMatch(/hit/);
    await h.settle();
    expect(await (await h.send(purge({ tags: ["search"] }))).json()).toEqual({ purged: { tags: { search: 2 } } });
    expect(status(await h.send(post("/c", "{}")))).toMatch(/hit/);
  });

  test("by key (hex or full URL) and all", async () => {
    const { h } = tagged();
    const h2 = harness(
      { admin: adminEndpoints({ token: TOKEN }), debug: true },
      h.store,
      async () => new Response("x", { headers: { "cache-control": "max-age=600" } }),
    );
    const first = await h2.send(post("/k", "{}"));
    const key = status(first).match(/key="([^"]+)"/)?.[1] as string;
    await h2.settle();
    expect(await (await h2.send(purge({ key: key.slice(-64) }))).json()).toEqual({ purged: { key, removed: true } });
    expect(status(await h2.send(post("/k", "{}")))).toMatch(/uri-miss/);
    await h2.settle();
    expect(await (await h2.send(purge({ key }))).json()).toEqual({ purged: { key, removed: true } });
    await fill(h2, ["/x", "/y"]);
    expect(await (await h2.send(purge({ all: true }))).json()).toEqual({ purged: { all: true } });
    expect(status(await h2.send(post("/x", "{}")))).toMatch(/uri-miss/);
  });

  test("bad purge bodies are 400s that say what to send", async () => {
    const { h } = tagged();
    for (const body of ["nope", JSON.stringify({}), JSON.stringify({ tag: "has space" }), JSON.stringify({ key: "abc" })]) {
      const res = await h.send(admin("/.postcache/purge", { method: "POST", body }));
      expect(res.status).toBe(400);
      expect((await res.json()).type).toBe("urn:postcache:problem:bad-purge");
    }
  });

  test("a store without tag support answers 501 for tags, and purge all still works where it can clear", async () => {
    const base = memoryStore();
    const store = { name: "keys-only", get: base.get, set: base.set, delete: base.delete };
    const h = harness({ admin: adminEndpoints({ token: TOKEN }) }, store, async () => new Response("x"));
    const res = await h.send(purge({ tag: "t" }));
    expect(res.status).toBe(501);
  });

  test("rule tags and auto-invalidation: a successful mutation purges the tags its rule names", async () => {
    let n = 0;
    const h = harness(
      {
        rules: [
          { match: "/cart*", tags: ["cart"] },
          { match: "/checkout/*", invalidates: ["cart"] },
        ],
      },
      undefined,
      async (r) => {
        n++;
        const path = new URL(r.url).pathname;
        if (path === "/checkout/fail") return new Response("no", { status: 409 });
        return new Response(`${path} #${n}`, { headers: { "cache-control": "max-age=600" } });
      },
    );
    await fill(h, ["/cart", "/other"]);
    // /checkout/fail is a mutation that fails: nothing purged.
    await h.send(post("/checkout/fail", "{}", { "x-http-method-override": "PUT" }));
    await h.settle();
    expect(status(await h.send(post("/cart", "{}")))).toMatch(/hit/);
    // A successful PUT through the pass-through path purges too.
    await h.send(new Request(`${ORIGIN}/checkout/pay`, { method: "PUT", body: "{}" }));
    await h.settle();
    expect(status(await h.send(post("/cart", "{}")))).toMatch(/uri-miss/);
    expect(status(await h.send(post("/other", "{}")))).toMatch(/hit/);
  });
});

describe("Server-Timing", () => {
  test("a miss reports lookup, origin and total; a hit reports lookup and total", async () => {
    const { h } = tagged();
    const miss = await h.send(post("/t", "{}"));
    expect(miss.headers.get("server-timing")).toMatch(/^cache;desc="lookup";dur=[\d.]+, origin;dur=[\d.]+, total;dur=[\d.]+$/);
    await h.settle();
    const hit = await h.send(post("/t", "{}"));
    expect(hit.headers.get("server-timing")).toMatch(/^cache;desc="lookup";dur=[\d.]+, total;dur=[\d.]+$/);
  });

  test("can be switched off", async () => {
    const h = harness({ serverTiming: false }, undefined, async () => new Response("x"));
    expect((await h.send(post("/t", "{}"))).headers.has("server-timing")).toBe(false);
  });
});

describe("purge failures", () => {
  test("a store that fails to purge: 503 that says so, reported, never a rejected request", async () => {
    const base = memoryStore();
    const store = { ...base, deleteTag: () => Promise.reject(new Error("store down")) };
    const errors: string[] = [];
    const h = harness(
      { admin: adminEndpoints({ token: TOKEN }), onError: (_e, where) => errors.push(where) },
      store,
      async () => new Response("x"),
    );
    const res = await h.send(admin("/.postcache/purge", { method: "POST", body: JSON.stringify({ tag: "t" }) }));
    expect(res.status).toBe(503);
    expect((await res.json()).type).toBe("urn:postcache:problem:purge-failed");
    expect(errors).toEqual(["store.purge"]);
  });

  test("deleteTag is told the origin the purge was made on", async () => {
    const base = memoryStore();
    const seen: unknown[] = [];
    const deleteTag = async (tag: string, hint?: { origin: string }) => {
      seen.push([tag, hint]);
      return 0;
    };
    const store = { ...base, deleteTag };
    const h = harness({ admin: adminEndpoints({ token: TOKEN }) }, store, async () => new Response("x"));
    await h.send(admin("/.postcache/purge", { method: "POST", body: JSON.stringify({ tag: "t" }) }));
    expect(seen).toEqual([["t", { origin: ORIGIN }]]);
  });
});
