/**
 * The Runtime Cache store over the real `getCache()` from @vercel/functions. Without Vercel's
 * RUNTIME_CACHE_* variables `getCache` falls back to its own in-memory cache (cache/index.js), which is
 * what runs here; the deployed client speaks HTTP to the same interface.
 */
import { describe, expect, test } from "bun:test";
import { getCache } from "@vercel/functions";
import {
  type RuntimeCacheLike,
  runtimeCacheKeyHash,
  runtimeCacheTag,
  vercelRuntimeCacheStore,
} from "../../core/stores/vercel-runtime-cache.ts";
import { ALL_TAG } from "../../core/tags.ts";
import { entry, TestClock, tagged, testStore, uniqueKey, uniqueTag } from "./conformance.ts";

let namespaces = 0;
/** A Runtime Cache as the adapter creates it, in a namespace of its own. */
const runtimeCache = () => getCache({ namespace: `postcache-test-${namespaces++}`, keyHashFunction: runtimeCacheKeyHash });

// Tags run against getCache's in-memory fallback, whose expireTag deletes matching items at once; it
// cannot say how many (nor can the deployed cache), so deleteTag resolves -1.
testStore("vercel-runtime-cache", {
  create: (clock) => vercelRuntimeCacheStore({ cache: runtimeCache(), now: clock.now }),
  capabilities: { tags: true, tagCounts: false },
});

/** Two postcache-shaped keys (SHA-256 digests) whose 32-bit djb2 hashes are equal: 42f54ba5. */
const COLLIDING = [
  "https://example.test/.postcache/v1/7754b5d8b4228b4db92fd4b2ceeccc32cea2ee06b801bec543027f3052bd3db1",
  "https://example.test/.postcache/v1/ecb1c9076a3bfea851457b2140ea20bad7573022a07f6fa0bc3bb126dcfa52bd",
] as const;

/** The default key hash of @vercel/functions 3.x (cache/index.js), restated to check the pair. */
function djb2(key: string): string {
  let hash = 5381;
  for (let i = 0; i < key.length; i++) hash = (hash * 33) ^ key.charCodeAt(i);
  return (hash >>> 0).toString(16);
}

/** Records what the store hands to the real cache. */
function spy(cache: RuntimeCacheLike) {
  const sets: { key: string; json: string; options?: { ttl?: number; tags?: string[] } }[] = [];
  const expired: (string | string[])[] = [];
  const wrapped: RuntimeCacheLike = {
    get: (key) => cache.get(key),
    delete: (key) => cache.delete(key),
    set: (key, value, options) => {
      sets.push({ key, json: JSON.stringify(value), options });
      return cache.set(key, value, options);
    },
    expireTag: (tag) => {
      expired.push(tag);
      return cache.expireTag?.(tag) ?? Promise.resolve();
    },
  };
  return { wrapped, sets, expired };
}

describe("vercel-runtime-cache store", () => {
  test("the colliding pair really collides under getCache's default hash", async () => {
    expect(djb2(COLLIDING[0])).toBe(djb2(COLLIDING[1]));
    const unsafe = getCache({ namespace: `postcache-djb2-${namespaces++}` });
    await unsafe.set(COLLIDING[0], "first");
    expect(await unsafe.get(COLLIDING[1])).toBe("first");
  });

  test("keys that collide under djb2 stay distinct with runtimeCacheKeyHash", async () => {
    const store = vercelRuntimeCacheStore({ cache: runtimeCache() });
    await store.set(COLLIDING[0], entry({ body: new TextEncoder().encode("zero") }), 60);
    expect(await store.get(COLLIDING[1])).toBeUndefined();
    await store.set(COLLIDING[1], entry({ body: new TextEncoder().encode("one") }), 60);
    expect(new TextDecoder().decode((await store.get(COLLIDING[0]))?.body)).toBe("zero");
    expect(new TextDecoder().decode((await store.get(COLLIDING[1]))?.body)).toBe("one");
  });

  test("runtimeCacheKeyHash is URL-safe and one-to-one", () => {
    const keys = [COLLIDING[0], "https://a.test/.postcache/v1/x?y=1#z", "https://a.test/.postcache/v1/x%3Fy=1%23z", "café"];
    const hashed = keys.map(runtimeCacheKeyHash);
    expect(new Set(hashed).size).toBe(keys.length);
    for (const h of hashed) expect(h).toMatch(/^[A-Za-z0-9\-_.!~*'()%]+$/);
  });

  test("an entry over the item limit is skipped, not thrown, and never reaches the cache", async () => {
    const { wrapped, sets } = spy(runtimeCache());
    const store = vercelRuntimeCacheStore({ cache: wrapped });
    const key = uniqueKey();
    // 1.6 MB of body is ~2.13 MB as base64: over the 2 MB item limit.
    await store.set(key, entry({ body: new Uint8Array(1_600_000) }), 60);
    expect(sets).toHaveLength(0);
    expect(await store.get(key)).toBeUndefined();
  });

  test("the limit applies to the exact serialised size", async () => {
    const { wrapped, sets } = spy(runtimeCache());
    const probe = uniqueKey();
    await vercelRuntimeCacheStore({ cache: wrapped }).set(probe, entry({ tags: ["t"] }), 60);
    const size = new TextEncoder().encode(sets[0].json).byteLength;

    const exact = vercelRuntimeCacheStore({ cache: wrapped, maxItemBytes: size });
    const under = vercelRuntimeCacheStore({ cache: wrapped, maxItemBytes: size - 1 });
    const [a, b] = [uniqueKey(), uniqueKey()];
    await exact.set(a, entry({ tags: ["t"] }), 60);
    await under.set(b, entry({ tags: ["t"] }), 60);
    expect(await exact.get(a)).toBeDefined();
    expect(await under.get(b)).toBeUndefined();
  });

  test("set passes a whole-second ttl and the entry's tags, within Vercel's tag limits", async () => {
    const { wrapped, sets } = spy(runtimeCache());
    const store = vercelRuntimeCacheStore({ cache: wrapped });
    const many = Array.from({ length: 70 }, (_, i) => `t${i}`);
    await store.set(uniqueKey(), entry({ tags: ["product:1", "a,b", "x".repeat(257), ...many, ALL_TAG] }), 90.2);
    expect(sets[0].options?.ttl).toBe(91);
    // ALL_TAG first, whatever the order given, so "purge everything" reaches it; 64 tags at most, each 256 bytes.
    expect(sets[0].options?.tags).toEqual([ALL_TAG, "product:1", "a~2Cb", ...many.slice(0, 61)]);
    await store.set(uniqueKey(), entry(), 30);
    expect(sets[1].options).toEqual({ ttl: 30 });
  });

  test("runtimeCacheTag keeps common tags, and escapes one-to-one what a header list or a URL query would change", () => {
    expect(runtimeCacheTag("product:42")).toBe("product:42");
    expect(runtimeCacheTag("a_b-c.d/e@f")).toBe("a_b-c.d/e@f");
    expect(runtimeCacheTag("a,b&c=d#e%f+g?h")).toBe("a~2Cb~26c~3Dd~23e~25f~2Bg~3Fh");
    expect(runtimeCacheTag("café~")).toBe("caf~C3~A9~7E");
    const tricky = ["a~2Cb", "a,b", "a~b", "~7E", "~"];
    expect(new Set(tricky.map(runtimeCacheTag)).size).toBe(tricky.length);
    for (const tag of tricky) expect(runtimeCacheTag(tag)).toMatch(/^[A-Za-z0-9_.:/@~-]+$/);
  });

  test("deleteTag is expireTag with the tag as set, and cannot count (-1)", async () => {
    const { wrapped, sets, expired } = spy(runtimeCache());
    const store = vercelRuntimeCacheStore({ cache: wrapped });
    const [key, other] = [uniqueKey(), uniqueKey()];
    const tag = `${uniqueTag()}&x=1`;
    await store.set(key, tagged([tag]), 60);
    await store.set(other, tagged([uniqueTag()]), 60);
    expect(sets[0].options?.tags).toEqual([ALL_TAG, runtimeCacheTag(tag)]);
    expect(await store.deleteTag?.(tag)).toBe(-1);
    expect(expired).toEqual([runtimeCacheTag(tag)]);
    expect(await store.get(key)).toBeUndefined();
    expect(await store.get(other)).toBeDefined();
    // A tag that could never be attached (over 256 bytes as sent) reaches nothing: no call.
    expect(await store.deleteTag?.("%".repeat(100))).toBe(0);
    expect(expired).toHaveLength(1);
  });

  test("without expireTag on the cache, the store offers no purge by tag", () => {
    const cache = runtimeCache();
    const store = vercelRuntimeCacheStore({ cache: { get: cache.get, set: cache.set, delete: cache.delete } });
    expect(store.deleteTag).toBeUndefined();
  });

  test("expiry follows the store's clock even while the backend still holds the item", async () => {
    const clock = new TestClock();
    const cache = runtimeCache();
    const store = vercelRuntimeCacheStore({ cache, now: clock.now });
    const key = uniqueKey();
    await store.set(key, entry(), 10);
    clock.advance(11);
    expect(await cache.get(key)).not.toBeNull();
    expect(await store.get(key)).toBeUndefined();
  });

  test("a foreign value under our key is an error, not an entry", async () => {
    const cache = runtimeCache();
    const store = vercelRuntimeCacheStore({ cache });
    const key = uniqueKey();
    await cache.set(key, { hello: "world" });
    await expect(store.get(key)).rejects.toThrow(/\[postcache\] \[vercel-runtime-cache\]/);
    await cache.set(key, { expiresAt: Date.now() + 60_000, entry: { v: 1, body64: "aGk=" } });
    await expect(store.get(key)).rejects.toThrow(/not a postcache entry/);
  });

  test("bad options are rejected, naming them", () => {
    expect(() => vercelRuntimeCacheStore({ cache: undefined as unknown as RuntimeCacheLike })).toThrow(/option "cache"/);
    expect(() => vercelRuntimeCacheStore({ cache: runtimeCache(), maxItemBytes: 0 })).toThrow(/option "maxItemBytes"/);
  });
});
