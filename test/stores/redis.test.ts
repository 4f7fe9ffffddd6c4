/**
 * The Redis store against a real, throwaway redis-server (spawned here on a free loopback port, no
 * persistence), through Bun's built-in client. A missing redis-server is installed through
 * `test/redis.sh install` when this machine can, else the file is skipped with one line; under CI=true a
 * missing one fails the run (test/stores/redis-server.ts, test/system-tool.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RedisClient } from "bun";
import { bunRedis, bunRedisStore } from "../../adapters/bun-redis.ts";
import { redisStore } from "../../core/stores/redis.ts";
import { ALL_TAG } from "../../core/tags.ts";
import type { CacheStore } from "../../core/types.ts";
import { entry, tagged, testStore, uniqueKey, uniqueTag } from "./conformance.ts";
import { eventually, MISSING, outageScenario, REDIS_SERVER, type RedisServer, startRedis } from "./redis-server.ts";

// Without redis-server (and no way to install it here) the whole file is skipped, with one line said.
if (REDIS_SERVER) {
  const prefix = `postcache-test-${Date.now().toString(36)}:`;
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

  function requireClient(): RedisClient {
    if (!client) throw new Error(MISSING);
    return client;
  }

  testStore("redis", {
    create: (clock) => redisStore({ client: bunRedis(requireClient()), prefix, now: clock.now }),
    capabilities: { tags: true, clear: true },
  });

  // The layout Redis Cluster needs (hash tags, an index per shard), here on one server.
  testStore("redis, 8 shards", {
    create: (clock) => redisStore({ client: bunRedis(requireClient()), prefix, now: clock.now, shards: 8 }),
    capabilities: { tags: true, clear: true },
  });

  describe("redis store", () => {
    test("Redis itself drops the key after the TTL (SET ... PX), under the prefix", async () => {
      const redis = requireClient();
      const store = redisStore({ client: bunRedis(redis), prefix });
      const key = uniqueKey();
      await store.set(key, entry(), 2);
      const pttl = Number(await redis.send("PTTL", [prefix + key]));
      expect(pttl).toBeGreaterThan(1000);
      expect(pttl).toBeLessThanOrEqual(2000);
      expect(await redis.send("EXISTS", [key])).toBe(0);
    });

    test("the default prefix is postcache:", async () => {
      const redis = requireClient();
      const store = redisStore({ client: bunRedis(redis) });
      const key = uniqueKey();
      await store.set(key, entry(), 5);
      expect(await redis.send("EXISTS", [`postcache:${key}`])).toBe(1);
      expect(await store.delete(key)).toBe(true);
    });

    test("a value that is not ours is an error naming the store, never an entry", async () => {
      const redis = requireClient();
      const store = redisStore({ client: bunRedis(redis), prefix });
      const short = uniqueKey();
      await redis.set(prefix + short, "abc");
      await expect(store.get(short)).rejects.toThrow(/\[postcache\] \[redis\] stored value is truncated/);
      const garbage = uniqueKey();
      await redis.set(prefix + garbage, new Uint8Array(64).fill(0x7f));
      await expect(store.get(garbage)).rejects.toThrow(/\[postcache\] \[redis\]/);
    });

    test("a tag's set lives at least as long as its longest entry; the entry's tag list as long as the entry", async () => {
      const redis = requireClient();
      const store = redisStore({ client: bunRedis(redis), prefix });
      const tag = uniqueTag();
      const [long, short] = [uniqueKey(), uniqueKey()];
      await store.set(long, tagged([tag]), 120);
      await store.set(short, tagged([tag]), 5);
      const setTtl = Number(await redis.send("PTTL", [`${prefix}#tag:${tag}`]));
      expect(setTtl).toBeGreaterThan(115_000);
      expect(setTtl).toBeLessThanOrEqual(120_000);
      expect(Number(await redis.send("PTTL", [`${prefix}#tags:${short}`]))).toBeLessThanOrEqual(5000);
      expect((await redis.send("SMEMBERS", [`${prefix}#tags:${long}`])) as string[]).toEqual([`${prefix}#tag:${tag}`]);
      // ALL_TAG is not indexed: a purge of it is a clear.
      expect(await redis.send("EXISTS", [`${prefix}#tag:${ALL_TAG}`])).toBe(0);
      expect(await store.deleteTag(tag)).toBe(2);
      expect(await redis.send("EXISTS", [`${prefix}#tag:${tag}`, `${prefix}#tags:${long}`, `${prefix}#tags:${short}`])).toBe(0);
    });

    test("entries Redis dropped by itself (eviction) are not counted, and writes prune them from the tag's set", async () => {
      const redis = requireClient();
      const store = redisStore({ client: bunRedis(redis), prefix });
      const tag = uniqueTag();
      const dropped = Array.from({ length: 50 }, () => uniqueKey());
      await Promise.all(dropped.map((k) => store.set(k, tagged([tag]), 60)));
      // What `maxmemory` eviction does: the value goes, the index is not told.
      await redis.send(
        "DEL",
        dropped.map((k) => prefix + k),
      );
      const live = Array.from({ length: 100 }, () => uniqueKey());
      for (const k of live) await store.set(k, tagged([tag]), 60);
      // Each write drops up to two members whose entries are gone: nearly all 50 are pruned by now.
      expect(Number(await redis.send("SCARD", [`${prefix}#tag:${tag}`]))).toBeLessThanOrEqual(115);
      expect(await store.deleteTag(tag)).toBe(100);
    });

    test("a purge larger than one script batch removes every entry, counted", async () => {
      const redis = requireClient();
      const store = redisStore({ client: bunRedis(redis), prefix });
      const [tag, other] = [uniqueTag(), uniqueTag()];
      const keys = Array.from({ length: 1200 }, () => uniqueKey());
      await Promise.all(keys.map((k, i) => store.set(k, tagged(i % 3 ? [tag] : [tag, other]), 60)));
      expect(await store.deleteTag(tag)).toBe(1200);
      expect(await store.get(keys[0])).toBeUndefined();
      expect(await store.get(keys[1199])).toBeUndefined();
      // Purged entries also left their other tags' sets.
      expect(await redis.send("EXISTS", [`${prefix}#tag:${other}`])).toBe(0);
    });

    test("clear deletes only keys under the prefix, whose glob characters match literally", async () => {
      const redis = requireClient();
      const store = redisStore({ client: bunRedis(redis), prefix: `${prefix}a*:` });
      const neighbour = `${prefix}ab:${uniqueKey()}`; // matched by the unescaped pattern "a*:*"
      await redis.set(neighbour, "not postcache's");
      const key = uniqueKey();
      await store.set(key, tagged([uniqueTag()]), 60);
      await store.clear();
      expect(await store.get(key)).toBeUndefined();
      expect(await redis.get(neighbour)).toBe("not postcache's");
      expect(await redis.send("KEYS", [`${prefix}a\\*:*`])).toEqual([]);
      await redis.del(neighbour);
    });

    test("a client without send stores and deletes, but offers no purge by tag", async () => {
      const redis = requireClient();
      const store = redisStore({
        client: { getBuffer: (k) => redis.getBuffer(k), set: (k, v, m, ms) => redis.set(k, v, m, ms), del: (k) => redis.del(k) },
        prefix,
      });
      expect(store.deleteTag).toBeUndefined();
      expect(store.clear).toBeUndefined();
      const key = uniqueKey();
      await store.set(key, tagged([uniqueTag()]), 60);
      expect((await store.get(key))?.status).toBe(200);
      expect(await store.delete(key)).toBe(true);
    });

    test("shards: each entry, its tag list and its shard's tag sets share one hash tag; bad values are refused", async () => {
      const redis = requireClient();
      const store = redisStore({ client: bunRedis(redis), prefix, shards: 4 });
      const tag = uniqueTag();
      const keys = Array.from({ length: 16 }, () => uniqueKey());
      await Promise.all(keys.map((k) => store.set(k, tagged([tag]), 60)));
      const found = (await redis.send("KEYS", [`${prefix}{*}${keys[0]}`])) as string[];
      expect(found).toHaveLength(1);
      const at = found[0].slice(0, found[0].length - keys[0].length);
      expect(at).toMatch(/^postcache-test-[a-z0-9]+:\{[a-z0-9]+\}$/);
      expect((await redis.send("SMEMBERS", [`${at}#tags:${keys[0]}`])) as string[]).toEqual([`${at}#tag:${tag}`]);
      // 16 keys over 4 shards: several tag sets, together listing every key once.
      const sets = (await redis.send("KEYS", [`${prefix}{*}#tag:${tag}`])) as string[];
      expect(sets.length).toBeGreaterThan(1);
      const members = (await Promise.all(sets.map((k) => redis.send("SMEMBERS", [k]) as Promise<string[]>))).flat();
      expect(members.sort()).toEqual([...keys].sort());
      expect(await store.deleteTag(tag)).toBe(16);

      const client = bunRedis(redis);
      expect(() => redisStore({ client, prefix: "{app}:", shards: 4 })).toThrow(/option "prefix" must not contain/);
      for (const shards of [-1, 1.5, 1025, Number.NaN]) {
        expect(() => redisStore({ client, shards })).toThrow(/option "shards" must be an integer from 0 to 1024/);
      }
      expect(() => redisStore({ client: { ...client, masters: async () => [] }, shards: 0 })).toThrow(
        /at least 1 on Redis Cluster/,
      );
    });

    test("a client without getBuffer/set/del is refused at creation", () => {
      expect(() => redisStore({ client: {} as never })).toThrow(/\[postcache\] \[redis\] option "client"/);
    });

    test("server stopped: store calls reject at once, postcache answers from the origin; restarted: cached again", async () => {
      if (!server) throw new Error(MISSING);
      const store = bunRedisStore({ url: server.url, prefix });
      try {
        await outageScenario(server, store);
      } finally {
        store.client.close();
        await server.start(); // in case an expectation failed during the outage
      }
    }, 20_000);

    test("recovers after Bun's client has given up reconnecting (maxRetries spent)", async () => {
      if (!server) throw new Error(MISSING);
      const own = new RedisClient(server.url, { enableOfflineQueue: false, maxRetries: 1 });
      const store: CacheStore = bunRedisStore({ client: own, prefix });
      try {
        const key = uniqueKey();
        await eventually(() => store.set(key, entry(), 60), 5000);
        await server.stop();
        // Let the single retry run out: Bun then stays closed until someone calls connect().
        await Bun.sleep(1500);
        await expect(store.get(key)).rejects.toThrow();
        await server.start();
        // The server restarted empty (no persistence): a miss, but a working store.
        expect(await eventually(() => store.get(key), 5000)).toBeUndefined();
        await store.set(key, entry(), 60);
        expect((await store.get(key))?.status).toBe(200);
      } finally {
        own.close();
        await server.start();
      }
    }, 20_000);
  });
}
