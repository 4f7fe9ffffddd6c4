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
