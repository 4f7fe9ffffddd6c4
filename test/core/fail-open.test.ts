import { describe, expect, test } from "bun:test";
import { memoryStore } from "../../core/stores/memory.ts";
import type { CacheStore } from "../../core/types.ts";
import { harness, origin, post, status, useOrigin } from "./harness.ts";

useOrigin();

function brokenStore(overrides: Partial<CacheStore>): CacheStore {
  return { ...memoryStore(), name: "broken", ...overrides };
}

describe("fail-open: a broken store never breaks a request", () => {
  const cases: [string, Partial<CacheStore>, string][] = [
    [
      "get throws",
      {
        get: () => {
          throw new Error("get exploded");
        },
      },
      "store.get",
    ],
    ["get rejects", { get: () => Promise.reject(new Error("get rejected")) }, "store.get"],
    ["get never settles", { get: () => new Promise(() => {}) }, "store.get"],
    ["get returns garbage", { get: async () => ({ status: "200" }) as never }, "store.get"],
    [
      "set throws",
      {
        set: () => {
          throw new Error("set exploded");
        },
      },
      "store.set",
    ],
    ["set never settles", { set: () => new Promise(() => {}) }, "store.set"],
  ];
  for (const [name, override, where] of cases) {
    test(`${name}: the origin answers, and the error is reported`, async () => {
      const h = harness({ storeTimeoutMs: 50 }, brokenStore(override));
      const o = origin();
      for (let i = 0; i < 2; i++) {
        const res = await h.send(post("/search"));
        expect(res.status).toBe(200);
        expect(await res.json()).toMatchObject({ length: 7 });
        await h.settle();
      }
      expect(o.calls).toBe(2);
      expect(h.errors.some((e) => e.where === where)).toBe(true);
    });
  }

  test("a hanging store costs at most storeTimeoutMs", async () => {
    const h = harness({ storeTimeoutMs: 50 }, brokenStore({ get: () => new Promise(() => {}) }));
    origin();
    const started = performance.now();
    const res = await h.send(post("/search"));
    expect(status(res)).toMatch(/uri-miss/);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe("storeBeforeResponseEnds: for runtimes that cut work off when the response ends", () => {
  function slowStore() {
    const base = memoryStore();
    let settled = false;
    const store: CacheStore = {
      ...base,
      name: "slow",
      set: async (key, entry, ttl) => {
        await Bun.sleep(80);
        await base.set(key, entry, ttl);
        settled = true;
      },
    };
    return { store, settled: () => settled };
  }

  test("with it, the body ends only after the cache write settled; headers are not held back", async () => {
    const { store, settled } = slowStore();
    const h = harness({}, store, async () => new Response("answer", { headers: { "cache-control": "max-age=60" } }));
    const res = await h.postcache.handle(
      post("/search"),
      store,
      async () => new Response("answer", { headers: { "cache-control": "max-age=60" } }),
      {
        storeBeforeResponseEnds: true,
      },
    );
    expect(settled()).toBe(false);
    expect(await res.text()).toBe("answer");
    expect(settled()).toBe(true);
  });

  test("without it, the body ends without waiting for the cache write", async () => {
    const { store, settled } = slowStore();
    const h = harness({}, store);
    const res = await h.postcache.handle(
      post("/search"),
      store,
      async () => new Response("answer", { headers: { "cache-control": "max-age=60" } }),
    );
    expect(await res.text()).toBe("answer");
    expect(settled()).toBe(false);
  });

  test("a store that never settles holds the end for storeTimeoutMs at most", async () => {
    const base = memoryStore();
    const store: CacheStore = { ...base, name: "hung", set: () => new Promise(() => {}) };
    const h = harness({ storeTimeoutMs: 50 }, store);
    const started = performance.now();
    const res = await h.postcache.handle(
      post("/search"),
      store,
      async () => new Response("answer", { headers: { "cache-control": "max-age=60" } }),
      {
        storeBeforeResponseEnds: true,
      },
    );
    expect(await res.text()).toBe("answer");
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
