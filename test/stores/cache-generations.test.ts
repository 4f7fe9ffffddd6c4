/**
 * The generational store (core/stores/cache-generations.ts) over an in-memory CacheStorage that, like
 * Deno's, never expires or evicts anything: the conformance suite, then the bound, the sweep and a
 * restart. And the Deno adapter's default store is that bounded one (Deno's own caches are run by
 * test/stores/deno-cache.test.ts and the Deno e2e tests).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { postcacheDeno } from "../../adapters/deno.ts";
import type { CacheLike } from "../../core/stores/cache-api.ts";
import { type CacheStorageLike, generationalCacheStore } from "../../core/stores/cache-generations.ts";
import { entry, TestClock, testStore, uniqueKey } from "./conformance.ts";

/** A CacheStorage in memory that keeps every entry until it is deleted, as Deno's does. */
class ForeverCaches implements CacheStorageLike {
  readonly caches = new Map<string, Map<string, { status: number; headers: [string, string][]; body: Uint8Array }>>();
  async open(name: string): Promise<CacheLike> {
    const cache = this.caches.get(name) ?? new Map();
    this.caches.set(name, cache);
    return {
      match: async (key) => {
        const hit = cache.get(key);
        return hit && new Response(hit.body.slice() as Uint8Array<ArrayBuffer>, { status: hit.status, headers: hit.headers });
      },
      put: async (key, response) => {
        cache.set(key, {
          status: response.status,
          headers: [...response.headers],
          body: new Uint8Array(await response.arrayBuffer()),
        });
      },
      delete: async (key) => cache.delete(key),
    };
  }
  async delete(name: string): Promise<boolean> {
    return this.caches.delete(name);
  }
  /** Entry keys held across every cache, tag indexes and the meta entry left out. */
  entryKeys(): string[] {
    return [...this.caches.values()]
      .flatMap((c) => [...c.keys()])
      .filter((k) => !k.includes("/tag/") && !k.includes("postcache.invalid"));
  }
}

testStore("cache-generations over a never-expiring CacheStorage", {
  create: (clock) =>
    generationalCacheStore({ caches: new ForeverCaches(), name: `conformance-${Math.random()}`, now: clock.now }),
  capabilities: { tags: true, clear: true },
});

describe("cache-generations: bounded, swept, restart-safe", () => {
  test("holds at most maxEntries entries however many are written; the newest are served", async () => {
    const storage = new ForeverCaches();
    const store = generationalCacheStore({ caches: storage, maxEntries: 4 });
    const keys = Array.from({ length: 10 }, () => uniqueKey());
    for (const key of keys) await store.set(key, entry(), 3600);
    expect(storage.entryKeys().length).toBeLessThanOrEqual(4);
    for (const key of keys.slice(-2)) expect(await store.get(key)).toBeDefined();
    expect(await store.get(keys[0])).toBeUndefined();
  });

  test("concurrent writes hold the bound too (a server's writes overlap: they finish in the background)", async () => {
    const storage = new ForeverCaches();
    const store = generationalCacheStore({ caches: storage, maxEntries: 50 });
    // The 30th write lands in the second generation, which outlives the burst; the same key comes
    // again last, when the burst has crowded every generation out.
    const older = uniqueKey();
    const burst = Array.from({ length: 200 }, (_, i) => (i === 29 ? older : uniqueKey()));
    const body = (i: number) => new TextEncoder().encode(i === 29 ? "older" : "newer");
    await Promise.all([...burst, older].map((key, i) => store.set(key, entry({ body: body(i) }), 3600)));
    expect(storage.entryKeys().length).toBeLessThanOrEqual(50);
    expect(storage.entryKeys().length).toBeGreaterThan(0);
    // The crowded-out write does not leave the older answer under its key.
    const got = await store.get(older);
    if (got) expect(new TextDecoder().decode(got.body)).toBe("newer");
  });

  test("maxBytes bounds the bytes the same way", async () => {
    const storage = new ForeverCaches();
    const store = generationalCacheStore({ caches: storage, maxBytes: 8 * 1024 });
    for (let i = 0; i < 20; i++) await store.set(uniqueKey(), entry({ body: new Uint8Array(1024) }), 3600);
    expect(storage.entryKeys().length).toBeLessThanOrEqual(8);
  });

  test("the sweep: an entry, expired or not, is gone two maxAgeMs after it was written", async () => {
    const clock = new TestClock();
    const storage = new ForeverCaches();
    const store = generationalCacheStore({ caches: storage, maxAgeMs: 60_000, now: clock.now });
    const old = uniqueKey();
    await store.set(old, entry(), 1);
    clock.advance(61);
    await store.set(uniqueKey(), entry(), 1);
    clock.advance(61);
    await store.set(uniqueKey(), entry(), 1);
    expect(storage.entryKeys()).not.toContain(old);
  });

  test("a restarted process goes on with the same generations and counts", async () => {
    const storage = new ForeverCaches();
    const first = generationalCacheStore({ caches: storage, maxEntries: 100 });
    const kept = uniqueKey();
    await first.set(kept, entry(), 3600);
    for (let i = 0; i < 60; i++) await first.set(uniqueKey(), entry(), 3600);
    const second = generationalCacheStore({ caches: storage, maxEntries: 100 });
    expect(await second.get(kept)).toBeDefined();
    for (let i = 0; i < 200; i++) await second.set(uniqueKey(), entry(), 3600);
    expect(storage.entryKeys().length).toBeLessThanOrEqual(100);
  });

  test("bad limits are refused when the store is created", () => {
    expect(() => generationalCacheStore({ caches: new ForeverCaches(), maxEntries: 0 })).toThrow(/maxEntries/);
  });
});

describe("the Deno adapter's default store is bounded", () => {
  const saved = { caches: (globalThis as { caches?: unknown }).caches, fetch: globalThis.fetch };
  afterEach(() => {
    (globalThis as { caches?: unknown }).caches = saved.caches;
    globalThis.fetch = saved.fetch;
  });

  test("a thousand distinct requests leave at most maxCacheEntries entries in Deno's caches", async () => {
    const storage = new ForeverCaches();
    (globalThis as { caches?: unknown }).caches = storage;
    globalThis.fetch = (async () =>
      new Response("{}", {
        headers: { "cache-control": "max-age=3600", "content-type": "application/json" },
      })) as unknown as typeof fetch;
    const { fetch: handle } = postcacheDeno({ origin: "http://127.0.0.1:9", maxCacheEntries: 50 });
    for (let i = 0; i < 1000; i++) {
      const res = await handle(new Request("http://127.0.0.1:8000/search", { method: "POST", body: `{"q":${i}}` }));
      await res.arrayBuffer();
    }
    // Writes finish in the background (no waitUntil on a server): let them settle.
    await Bun.sleep(50);
    expect(storage.entryKeys().length).toBeLessThanOrEqual(50);
    expect(storage.entryKeys().length).toBeGreaterThan(0);
  });
});
