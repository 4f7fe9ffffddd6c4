/**
 * tieredStore: the store conformance suite over a memory tier in front of a memory tier and in front of
 * a real redis-server, then what a tier adds: a shared hit fills the local tier for the remaining
 * lifetime, and a failing tier is skipped and reported.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RedisClient } from "bun";
import { bunRedis } from "../../adapters/bun-redis.ts";
import { memoryStore } from "../../core/stores/memory.ts";
import { redisStore } from "../../core/stores/redis.ts";
import { tieredStore } from "../../core/stores/tiered.ts";
import type { CacheStore } from "../../core/types.ts";
import { entry, TestClock, testStore, uniqueKey } from "./conformance.ts";
import { REDIS_SERVER, type RedisServer, startRedis } from "./redis-server.ts";

testStore("tiered (memory in front of memory)", {
  create: (clock) =>
    tieredStore({ local: memoryStore({ now: clock.now }), shared: memoryStore({ now: clock.now }), now: clock.now }),
  capabilities: { tags: true, clear: true },
});

const failing: CacheStore = {
  name: "down",
  get: () => Promise.reject(new Error("down")),
  set: () => Promise.reject(new Error("down")),
  delete: () => Promise.reject(new Error("down")),
};

describe("tiered store", () => {
  test("a shared hit is returned and fills the local tier for what is left of its lifetime", async () => {
    const clock = new TestClock();
    const local = memoryStore({ now: clock.now });
    const shared = memoryStore({ now: clock.now });
    const store = tieredStore({ local, shared, now: clock.now });
    const key = uniqueKey();
    await shared.set(key, entry({ storedAt: clock.ms, ttl: 60, staleWhileRevalidate: 0, staleIfError: 0 }), 60);
    clock.advance(50);
    expect((await store.get(key))?.ttl).toBe(60);
    await Bun.sleep(0);
    expect(await local.get(key)).toBeDefined();
    clock.advance(11); // 61 s after it was generated: gone from the local copy too
    expect(await local.get(key)).toBeUndefined();
  });

  test("a shared hit resolves once the local copy is written: work left after the answer may be cut off", async () => {
    // workerd cancels what a request left running outside waitUntil (test/e2e/tiered-cloudflare-kv.test.ts).
    const memory = memoryStore();
    let filled = false;
    const local: CacheStore = {
      ...memory,
      name: "slow-local",
      get: (key) => memory.get(key),
      set: async (key, value, ttl) => {
        await Bun.sleep(20);
        await memory.set(key, value, ttl);
        filled = true;
      },
    };
    const shared = memoryStore();
    const key = uniqueKey();
    await shared.set(key, entry({ storedAt: Date.now() }), 60);
    expect(await tieredStore({ local, shared }).get(key)).toBeDefined();
    expect(filled).toBe(true);
  });

  test("a fill slower than fillWaitMs does not hold the answer; 0 does not wait", async () => {
    const hanging: CacheStore = { ...memoryStore(), name: "hanging", set: () => new Promise(() => {}) };
    const shared = memoryStore();
    const key = uniqueKey();
    await shared.set(key, entry({ storedAt: Date.now() }), 60);
    for (const fillWaitMs of [30, 0]) {
      const started = performance.now();
      expect(await tieredStore({ local: hanging, shared, fillWaitMs }).get(key)).toBeDefined();
      expect(performance.now() - started).toBeLessThan(fillWaitMs + 25);
    }
    expect(() => tieredStore({ local: hanging, shared, fillWaitMs: -1 })).toThrow('[postcache] [tiered] option "fillWaitMs"');
  });

  test("writes go to both tiers; a purge removes from both", async () => {
    const local = memoryStore();
    const shared = memoryStore();
    const store = tieredStore({ local, shared });
    const key = uniqueKey();
    await store.set(key, entry(), 60);
    expect(await local.get(key)).toBeDefined();
    expect(await shared.get(key)).toBeDefined();
    expect(await store.delete(key)).toBe(true);
    expect(await local.get(key)).toBeUndefined();
    expect(await shared.get(key)).toBeUndefined();
  });

  test("a failing shared tier is skipped and reported; the local tier still answers", async () => {
    const errors: string[] = [];
    const local = memoryStore();
    const store = tieredStore({ local, shared: failing, onError: (_, where) => errors.push(where) });
    const key = uniqueKey();
    await store.set(key, entry(), 60);
    expect(await store.get(key)).toBeDefined();
    expect(await store.get(uniqueKey())).toBeUndefined();
    expect(errors).toEqual(["tiered.shared.set", "tiered.shared.get"]);
  });

  test("a call rejects only when both tiers fail; purge by tag needs it of both tiers", async () => {
    const store = tieredStore({ local: failing, shared: failing });
    await expect(store.set(uniqueKey(), entry(), 60)).rejects.toThrow("down");
    expect(await store.get(uniqueKey())).toBeUndefined();
    expect(tieredStore({ local: memoryStore(), shared: failing }).deleteTag).toBeUndefined();
  });
});

// The shared tier as it is deployed: Redis (a real, throwaway redis-server), through Bun's client.
if (REDIS_SERVER) {
  const prefix = `postcache-tiered-${Date.now().toString(36)}:`;
  let server: RedisServer | undefined;
  let client: RedisClient | undefined;
  beforeAll(async () => {
    server = await startRedis();
    client = new RedisClient(server.url, { enableOfflineQueue: false });
    await client.connect();
  }, 20_000);
  afterAll(async () => {
    client?.close();
    await server?.stop();
  });
  testStore("tiered (memory in front of redis-server)", {
    create: (clock) =>
      tieredStore({
        local: memoryStore({ now: clock.now }),
        shared: redisStore({ client: bunRedis(client as RedisClient), prefix, now: clock.now }),
        now: clock.now,
      }),
    capabilities: { tags: true, clear: true },
  });
}
