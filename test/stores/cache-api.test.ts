/**
 * The Cache API store: the conformance suite in workerd over a real `caches.default`, and again over
 * a cache whose `match` throws on expired entries (EdgeOne); then what it hands the platform, and how
 * core answers when `match` throws.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createPostcache } from "../../core/index.ts";
import { type CacheLike, cacheApiStore, EXPIRES_HEADER } from "../../core/stores/cache-api.ts";
import { edgeOneLike } from "../fixtures/workerd/cache-api-store.ts";
import { bundle, startWorkerd, type Workerd } from "../fixtures/workerd/workerd.ts";
import { entry, TestClock, testStore, uniqueKey } from "./conformance.ts";
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
});
testStore("cache-api in workerd, match throwing on expired entries (EdgeOne)", {
  create: async (clock) => remoteStore(`${(await workerd()).url}/edgeone`, clock, "cache-api"),
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
    expect(errors).toEqual(["cache-api.match"]);
  });
});
