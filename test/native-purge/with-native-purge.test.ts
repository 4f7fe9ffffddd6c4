/**
 * `withNativePurge(store, purger)`: the wrapped store is still a store (the conformance suite), every
 * purge reaches both the local store and the provider, a failing provider fails the purge loudly, and
 * the engine's own purges (admin endpoint, URI invalidation after an unsafe request) go through it.
 */
import { describe, expect, test } from "bun:test";
import { adminEndpoints } from "../../core/admin.ts";
import { type NativePurger, withNativePurge } from "../../core/native-purge.ts";
import { cloudflarePurger } from "../../core/native-purges/cloudflare.ts";
import { memoryStore } from "../../core/stores/memory.ts";
import { ALL_TAG } from "../../core/tags.ts";
import type { CacheStore } from "../../core/types.ts";
import { harness, ORIGIN, post, status } from "../core/harness.ts";
import { entry, TestClock, tagged, testStore, uniqueKey, uniqueTag } from "../stores/conformance.ts";
import { standIn } from "./stand-in.ts";

/** A purger that records its calls and fails while `failing` is set. */
function recording() {
  const calls: [string, string[]][] = [];
  const state = { failing: false };
  const purger: NativePurger = {
    name: "recording",
    async purgeTags(tags) {
      calls.push(["tags", tags]);
      if (state.failing) throw new Error("provider down");
    },
    async purgeUrls(urls) {
      calls.push(["urls", urls]);
      if (state.failing) throw new Error("provider down");
    },
    async purgeAll() {
      calls.push(["all", []]);
      if (state.failing) throw new Error("provider down");
    },
  };
  return { purger, calls, state };
}

testStore("memory + native purge", {
  create: (clock) => withNativePurge(memoryStore({ now: clock.now, maxBytes: 8 * 1024 * 1024 }), recording().purger),
  capabilities: { tags: true, clear: true },
});

describe("withNativePurge", () => {
  test("a purge by tag reaches the local store and the provider", async () => {
    const { purger, calls } = recording();
    const clock = new TestClock();
    const store = withNativePurge(memoryStore({ now: clock.now }), purger);
    const tag = uniqueTag();
    const key = uniqueKey();
    await store.set(key, tagged([tag]), 60);
    expect(await store.deleteTag?.(tag)).toBe(1);
    expect(await store.get(key)).toBeUndefined();
    expect(calls).toEqual([["tags", [tag]]]);
    expect(store.name).toBe("memory+recording");
  });

  test("tags purged in the same turn go to the provider in one call", async () => {
    const { purger, calls } = recording();
    const store = withNativePurge(memoryStore(), purger);
    await Promise.all(["a", "b", "c"].map((t) => store.deleteTag?.(t)));
    await store.deleteTag?.("d");
    expect(calls).toEqual([
      ["tags", ["a", "b", "c"]],
      ["tags", ["d"]],
    ]);
  });

  test("a purge by key is a purge by URL where the provider has one, else stays local", async () => {
    const { purger, calls } = recording();
    const store = withNativePurge(memoryStore(), purger);
    const key = uniqueKey();
    await store.set(key, entry(), 60);
    expect(await store.delete(key)).toBe(true);
    expect(calls).toEqual([["urls", [key]]]);
    const tagsOnly: NativePurger = { name: "tags-only", purgeTags: purger.purgeTags, purgeAll: purger.purgeAll };
    const local = withNativePurge(memoryStore(), tagsOnly);
    await local.set(key, entry(), 60);
    expect(await local.delete(key)).toBe(true);
    expect(calls.length).toBe(1);
  });

  test('"purge everything" purges ALL_TAG by default, the whole zone with everything: "zone"', async () => {
    const byTag = recording();
    const store = withNativePurge(memoryStore(), byTag.purger);
    await store.set(uniqueKey(), entry(), 60);
    await store.clear?.();
    await store.deleteTag?.(ALL_TAG);
    expect(byTag.calls).toEqual([
      ["tags", [ALL_TAG]],
      ["tags", [ALL_TAG]],
    ]);
    const zone = recording();
    const whole = withNativePurge(memoryStore(), zone.purger, { everything: "zone" });
    await whole.clear?.();
    await whole.deleteTag?.(ALL_TAG);
    expect(zone.calls).toEqual([
      ["all", []],
      ["all", []],
    ]);
  });

  test("a failing provider rejects the purge (after the local one) and is reported", async () => {
    const { purger, state } = recording();
    const errors: string[] = [];
    const store = withNativePurge(memoryStore(), purger, { onError: (_e, during) => errors.push(during) });
    const key = uniqueKey();
    const tag = uniqueTag();
    await store.set(key, tagged([tag]), 60);
    state.failing = true;
    await expect(store.deleteTag?.(tag)).rejects.toThrow("provider down");
    expect(await store.get(key)).toBeUndefined(); // this data centre is purged all the same
    expect(errors).toEqual(["native-purge"]);
  });

  test("a failing local store, with the provider's purge done, resolves and is reported", async () => {
    const { purger } = recording();
    const errors: string[] = [];
    const broken: CacheStore = {
      name: "broken",
      get: async () => undefined,
      set: async () => {},
      delete: async () => {
        throw new Error("local down");
      },
      deleteTag: async () => {
        throw new Error("local down");
      },
    };
    const store = withNativePurge(broken, purger, { onError: (_e, during) => errors.push(during) });
    expect(await store.deleteTag?.("t")).toBe(-1);
    expect(await store.delete(uniqueKey())).toBe(false);
    expect(errors).toEqual(["native-purge.local", "native-purge.local"]);
  });

  test("a purger without purgeTags or purgeAll, or a bad everything, is refused", () => {
    expect(() => withNativePurge(memoryStore(), {} as NativePurger)).toThrow(/purgeTags and purgeAll/);
    expect(() => withNativePurge(memoryStore(), recording().purger, { everything: "site" as "zone" })).toThrow(/everything/);
  });
});

describe("through the engine, to a Cloudflare stand-in", () => {
  const ZONE = "023e105f4ecef8ad9ca31a8372d0c353";
  const TOKEN = "s3cret-token-of-enough-length";
  const admin = (body: unknown) =>
    new Request(`${ORIGIN}/.postcache/purge`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(body),
    });

  test("an admin purge by tag goes to the zone purge; a provider failure answers 503, not a silent success", async () => {
    const api = standIn(() => Response.json({ success: true, errors: [], result: { id: "x" } }));
    try {
      const store = withNativePurge(memoryStore(), cloudflarePurger({ token: "cf-token", zoneId: ZONE, apiBase: api.base }));
      let n = 0;
      const h = harness({ admin: adminEndpoints({ token: TOKEN }) }, store, async () => {
        n++;
        return new Response(`v${n}`, { headers: { "cache-control": "max-age=600", "cache-tag": "product-42" } });
      });
      await (await h.send(post("/search"))).text();
      await h.settle();
      expect(status(await h.send(post("/search")))).toMatch(/hit/);

      const ok = await h.send(admin({ tag: "product-42" }));
      expect(ok.status).toBe(200);
      expect(api.requests.map((r) => r.json)).toEqual([{ tags: ["product-42"] }]);
      expect(await (await h.send(post("/search"))).text()).toBe("v2"); // purged here too

      api.answer = () =>
        new Response('{"success":false,"errors":[{"code":10000,"message":"Authentication error"}]}', { status: 403 });
      const failed = await h.send(admin({ all: true }));
      expect(failed.status).toBe(503);
      const problem = await failed.text();
      expect(problem).toContain("HTTP 403");
      expect(problem).not.toContain("cf-token");
      expect(api.requests.at(-1)?.json).toEqual({ tags: [ALL_TAG] });
    } finally {
      await api.stop();
    }
  });

  test("an unsafe request's URI invalidation reaches the provider in one call", async () => {
    const { purger, calls } = recording();
    const h = harness({}, withNativePurge(memoryStore(), purger), async (r) => {
      await r.arrayBuffer();
      return new Response("ok", { headers: { "cache-control": "max-age=600" } });
    });
    const write = await h.send(new Request(`${ORIGIN}/items/42`, { method: "PUT", body: "{}" }));
    expect(write.status).toBe(200);
    await h.settle();
    expect(calls.length).toBe(1);
    expect(calls[0][0]).toBe("tags");
    expect(calls[0][1].length).toBeGreaterThanOrEqual(1);
  });
});
