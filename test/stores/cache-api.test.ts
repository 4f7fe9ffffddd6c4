/**
 * The Cache API store: the conformance suite in workerd over a real `caches.default`, and again over
 * a cache whose `match` throws on expired entries (EdgeOne), tags on (the index kept in the cache
 * itself); then what it hands the platform, the tag index's limits and races, and how core answers when
 * `match` throws.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createPostcache } from "../../core/index.ts";
import { type CacheLike, cacheApiStore, EXPIRES_HEADER, TAG_INDEX_PATH, TAGS_HEADER } from "../../core/stores/cache-api.ts";
import { ALL_TAG } from "../../core/tags.ts";
import { edgeOneLike } from "../fixtures/workerd/cache-api-store.ts";
import { bundle, startWorkerd, type Workerd } from "../fixtures/workerd/workerd.ts";
import { entry, TestClock, tagged, testStore, uniqueKey, uniqueTag } from "./conformance.ts";
import { remoteStore } from "./remote.ts";

let worker: Promise<Workerd> | undefined;
function workerd(): Promise<Workerd> {
  worker ??= bundle("test/fixtures/workerd/cache-api-store.ts", "esm").then((script) => startWorkerd({ modules: true, script }));
  return worker;
}
afterAll(async () => {
  await (await worker)?.stop();
});

testStore("cache-api in workerd (caches.default)", {
  create: async (clock) => remoteStore(`${(await workerd()).url}/default`, clock, "cache-api"),
  capabilities: { tags: true },
});
testStore("cache-api in workerd, match throwing on expired entries (EdgeOne)", {
  create: async (clock) => remoteStore(`${(await workerd()).url}/edgeone`, clock, "cache-api"),
  capabilities: { tags: true },
});

/** A Map-backed Web Cache that records what it is handed. */
function recordingCache(): CacheLike & { puts: { key: string; response: Response }[] } {
  const held = new Map<string, { body: ArrayBuffer; init: ResponseInit }>();
  const puts: { key: string; response: Response }[] = [];
  return {
    puts,
    async match(key) {
      const got = held.get(key);
      return got && new Response(got.body.slice(0), got.init);
    },
    async put(key, response) {
      puts.push({ key, response: response.clone() });
      held.set(key, { body: await response.arrayBuffer(), init: { status: response.status, headers: response.headers } });
    },
    async delete(key) {
      return held.delete(key);
    },
  };
}

describe("cache-api store: what the platform is handed", () => {
  test("a synthetic 200 every Cache API stores: public max-age and s-maxage, no Set-Cookie or Vary, Cache-Tag", async () => {
    const cache = recordingCache();
    const clock = new TestClock();
    const store = cacheApiStore({ cache, now: clock.now });
    const key = uniqueKey();
    // A 404 that varies: Netlify's put throws for non-2xx, Cloudflare's for `Vary: *`.
    await store.set(
      key,
      entry({ status: 404, headers: [["vary", "*"]], vary: [["x-a", "1"]], tags: ["product:1", "a,b", "café", "search"] }),
      90.5,
    );
    const [put] = cache.puts;
    expect(put?.key).toBe(key);
    expect(put?.response.status).toBe(200);
    expect(put?.response.headers.get("cache-control")).toBe("public, max-age=91, s-maxage=91");
    expect(put?.response.headers.get(EXPIRES_HEADER)).toBe(String(clock.ms + 90_500));
    expect(put?.response.headers.has("vary")).toBe(false);
    expect(put?.response.headers.has("set-cookie")).toBe(false);
    // Tags that fit a Cache-Tag list go there, for Cloudflare's purge by tag; all stay in the entry.
    expect(put?.response.headers.get("cache-tag")).toBe("product:1,search");
    expect(put?.response.headers.get(TAGS_HEADER)).toBe("product:1,search");
    const got = await store.get(key);
    expect(got?.status).toBe(404);
    expect(got?.headers).toEqual([["vary", "*"]]);
    expect(got?.tags).toEqual(["product:1", "a,b", "café", "search"]);
  });

  test("an expired entry is a miss on the store's clock, and is deleted (Deno never expires entries)", async () => {
    const cache = recordingCache();
    const clock = new TestClock();
    const store = cacheApiStore({ cache, now: clock.now });
    const key = uniqueKey();
    await store.set(key, entry(), 10);
    clock.advance(11);
    expect(await store.get(key)).toBeUndefined();
    expect(await cache.match(key)).toBeUndefined();
  });

  test("a stored response that is not ours is an error, never an entry", async () => {
    const cache = recordingCache();
    const store = cacheApiStore({ cache });
    const key = uniqueKey();
    await cache.put(key, new Response("not an entry", { headers: { [EXPIRES_HEADER]: String(Date.now() + 60_000) } }));
    await expect(store.get(key)).rejects.toThrow(/\[postcache\] \[cache-api\]/);
    const bare = uniqueKey();
    await cache.put(bare, new Response("no expiry"));
    await expect(store.get(bare)).rejects.toThrow(/x-postcache-expires/);
  });

  test("the cache getter runs once, and again after it fails", async () => {
    let calls = 0;
    const cache = recordingCache();
    const store = cacheApiStore({
      cache: async () => {
        calls++;
        if (calls === 1) throw new Error("not yet");
        return cache;
      },
    });
    await expect(store.get(uniqueKey())).rejects.toThrow("not yet");
    await store.set(uniqueKey(), entry(), 60);
    await store.get(uniqueKey());
    expect(calls).toBe(2);
  });

  test("a bad cache option is refused at once, naming it", () => {
    expect(() => cacheApiStore({ cache: {} as CacheLike })).toThrow(/\[postcache\] \[cache-api\] option "cache"/);
  });
});

/** The index entry of `tag` under the origin of `uniqueKey()`'s keys. */
async function indexKeyOf(tag: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(tag)));
  return `https://example.test${TAG_INDEX_PATH}${Buffer.from(digest).toString("hex")}`;
}

describe("cache-api store: the tag index", () => {
  test("one index entry per origin and tag, a public 200 that lives as long as its longest entry", async () => {
    const cache = recordingCache();
    const clock = new TestClock();
    const store = cacheApiStore({ cache, now: clock.now });
    const tag = uniqueTag();
    const [a, b] = [uniqueKey(), uniqueKey()];
    await store.set(a, tagged([tag]), 30);
    await store.set(b, tagged([tag]), 90);
    const index = await cache.match(await indexKeyOf(tag));
    expect(index?.status).toBe(200);
    expect(index?.headers.get("cache-control")).toBe("public, max-age=90, s-maxage=90");
    expect(index?.headers.get(EXPIRES_HEADER)).toBe(String(clock.ms + 90_000));
    expect(await index?.text()).toBe(`${clock.ms + 30_000} ${a}\n${clock.ms + 90_000} ${b}\n`);
    // Every entry carries ALL_TAG, indexed like any tag.
    expect(await (await cache.match(await indexKeyOf(ALL_TAG)))?.text()).toContain(b);
    expect(await store.deleteTag?.(tag)).toBe(2);
    expect(await cache.match(await indexKeyOf(tag))).toBeUndefined();
  });

  test("concurrent writes of one tag in one isolate are batched, and none is lost", async () => {
    const cache = recordingCache();
    // A platform cache takes milliseconds, so writes arrive while an index update is in flight.
    const slow: CacheLike = {
      ...cache,
      match: async (key) => {
        await Bun.sleep(5);
        return cache.match(key);
      },
    };
    const store = cacheApiStore({ cache: slow });
    const tag = uniqueTag();
    const keys = Array.from({ length: 50 }, () => uniqueKey());
    await Promise.all(keys.map((k) => store.set(k, tagged([tag]), 60)));
    const indexKey = await indexKeyOf(tag);
    const indexPuts = cache.puts.filter((p) => p.key === indexKey).length;
    expect(indexPuts).toBeGreaterThan(0);
    expect(indexPuts).toBeLessThan(10);
    expect(await store.deleteTag?.(tag)).toBe(50);
  });

  test("past maxTagIndexKeys the entries that expire soonest leave the index, and live until they expire", async () => {
    const cache = recordingCache();
    const clock = new TestClock();
    const store = cacheApiStore({ cache, now: clock.now, maxTagIndexKeys: 3 });
    const tag = uniqueTag();
    const keys = Array.from({ length: 5 }, () => uniqueKey());
    for (const [i, k] of keys.entries()) await store.set(k, tagged([tag]), 10 * (i + 1)); // 10 s .. 50 s
    expect(await store.deleteTag?.(tag)).toBe(3);
    const left = await Promise.all(keys.map(async (k) => (await store.get(k)) !== undefined));
    expect(left).toEqual([true, true, false, false, false]);
    clock.advance(21);
    expect(await store.get(keys[1])).toBeUndefined();
  });

  test("two isolates writing one tag at once can lose an index update: that entry escapes the purge until it expires", async () => {
    const clock = new TestClock();
    const shared = recordingCache();
    // Both isolates read the index before either writes it back.
    let reads = 0;
    let bothRead!: () => void;
    const barrier = new Promise<void>((resolve) => {
      bothRead = resolve;
    });
    const tag = uniqueTag();
    const indexKey = await indexKeyOf(tag);
    const racing: CacheLike = {
      match: async (key) => {
        const got = await shared.match(key);
        if (key === indexKey && ++reads === 2) bothRead();
        if (key === indexKey && reads <= 2) await barrier;
        return got;
      },
      put: (key, response) => shared.put(key, response),
      delete: (key) => shared.delete(key),
    };
    const isolates = [1, 2].map(() => cacheApiStore({ cache: racing, now: clock.now, maxTagIndexKeys: 10 }));
    const [a, b] = [uniqueKey(), uniqueKey()];
    await Promise.all([isolates[0].set(a, tagged([tag]), 30), isolates[1].set(b, tagged([tag]), 30)]);
    expect(await isolates[0].deleteTag?.(tag)).toBe(1);
    const survivors = [await isolates[0].get(a), await isolates[0].get(b)].filter(Boolean);
    expect(survivors).toHaveLength(1);
    clock.advance(31);
    expect([await isolates[0].get(a), await isolates[0].get(b)]).toEqual([undefined, undefined]);
  });

  test("a purge cut short (a platform limit) writes back what is left, and the next purge finishes", async () => {
    const cache = recordingCache();
    const store = cacheApiStore({ cache });
    const tag = uniqueTag();
    const keys = Array.from({ length: 20 }, () => uniqueKey());
    await Promise.all(keys.map((k) => store.set(k, tagged([tag]), 60)));
    let deletes = 0;
    const limited = cacheApiStore({
      cache: {
        ...cache,
        delete: (key) => (++deletes > 8 ? Promise.reject(new Error("Too many subrequests")) : cache.delete(key)),
      },
      origins: ["https://example.test"],
    });
    await expect(limited.deleteTag?.(tag)).rejects.toThrow("Too many subrequests");
    const gone = (await Promise.all(keys.map((k) => store.get(k)))).filter((e) => e === undefined).length;
    expect(gone).toBeGreaterThanOrEqual(6);
    expect(gone).toBeLessThan(20);
    expect(await store.deleteTag?.(tag)).toBe(20 - gone);
    expect((await Promise.all(keys.map((k) => store.get(k)))).every((e) => e === undefined)).toBe(true);
  });

  test("deleteTag knows the origins this store has seen, or is told them; else it says so", async () => {
    const cache = recordingCache();
    const tag = uniqueTag();
    const key = uniqueKey();
    await cacheApiStore({ cache }).set(key, tagged([tag]), 60); // another isolate wrote it
    await expect(cacheApiStore({ cache }).deleteTag?.(tag)).rejects.toThrow(/no origin known .* set option "origins"/);
    const reader = cacheApiStore({ cache });
    await reader.get(uniqueKey()); // any key on that origin
    expect(await reader.deleteTag?.("never-used")).toBe(0);
    expect(await cacheApiStore({ cache, origins: ["https://example.test/ignored/path"] }).deleteTag?.(tag)).toBe(1);
    expect(await cache.match(key)).toBeUndefined();
  });

  test("maxTagIndexKeys 0 keeps no index and offers no purge by tag; bad options are refused, naming them", async () => {
    const cache = recordingCache();
    const store = cacheApiStore({ cache, maxTagIndexKeys: 0 });
    expect(store.deleteTag).toBeUndefined();
    await store.set(uniqueKey(), tagged([uniqueTag()]), 60);
    expect(cache.puts).toHaveLength(1);
    expect(() => cacheApiStore({ cache, maxTagIndexKeys: -1 })).toThrow(/option "maxTagIndexKeys"/);
    expect(() => cacheApiStore({ cache, origins: ["example.test"] })).toThrow(/option "origins"/);
  });
});

describe("cache-api store: EdgeOne's match throws on expired entries", () => {
  test("the store reports the throw and answers a miss; core goes to the origin", async () => {
    const clock = new TestClock();
    const errors: string[] = [];
    const store = cacheApiStore({
      cache: edgeOneLike(recordingCache(), clock.now),
      now: clock.now,
      onError: (_error, where) => errors.push(where),
    });
    const postcache = createPostcache({ now: clock.now, defaultTtl: 30 });
    let originCalls = 0;
    const origin = async () => new Response(`answer ${++originCalls}`, { headers: { "content-type": "text/plain" } });
    const pending: Promise<unknown>[] = [];
    const ask = async () => {
      const response = await postcache.handle(
        new Request("https://shop.test/search", { method: "POST", body: '{"q":"lamp"}' }),
        store,
        origin,
        { waitUntil: (p) => pending.push(p) },
      );
      await Promise.all(pending.splice(0));
      return { status: response.headers.get("cache-status") ?? "", body: await response.text() };
    };

    expect((await ask()).status).toMatch(/fwd=uri-miss; fwd-status=200; stored/);
    const hit = await ask();
    expect(hit.status).toMatch(/; hit/);
    expect(hit.body).toBe("answer 1");
    clock.advance(31);
    const after = await ask();
    expect(after.status).toMatch(/fwd=uri-miss/);
    expect(after.body).toBe("answer 2");
    expect(originCalls).toBe(2);
    // The expired entry, then the expired indexes of ALL_TAG and of the URI's tag, read to list the new entry in them.
    expect(errors).toEqual(["cache-api.match", "cache-api.index", "cache-api.index"]);
  });
});
