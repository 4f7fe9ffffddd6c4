/**
 * The Redis store against a real, throwaway redis-server (spawned here on a free loopback port, no
 * persistence), through Bun's built-in client. A missing redis-server is installed through
 * `test/redis.sh install` when this machine can, else these tests are skipped with one line saying so;
 * under CI=true a missing redis-server fails the run (test/system-tool.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RedisClient } from "bun";
import { bunRedis, bunRedisStore } from "../../adapters/bun-redis.ts";
import { createPostcache } from "../../core/handler.ts";
import { redisStore } from "../../core/stores/redis.ts";
import { ALL_TAG } from "../../core/tags.ts";
import type { CacheStore } from "../../core/types.ts";
import { freePort } from "../e2e/process.ts";
import { requireTool } from "../system-tool.ts";
import { entry, tagged, testStore, uniqueKey, uniqueTag } from "./conformance.ts";

const BINARY = await requireTool({
  name: "redis-server",
  install: ["bash", "test/redis.sh", "install"],
  neededBy: "Redis store tests",
});
const MISSING = "[redis test] redis-server is not installed: run `bash test/redis.sh install`";
const prefix = `postcache-test-${Date.now().toString(36)}:`;

/** A redis-server child process; `stop` and `start` keep the port, to test an outage and a restart. */
class RedisServer {
  private child?: ReturnType<typeof Bun.spawn>;
  constructor(readonly port: number) {}
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    if (!BINARY) throw new Error(MISSING);
    if (this.child) return;
    const child = Bun.spawn(
      [BINARY, "--bind", "127.0.0.1", "--port", String(this.port), "--save", "", "--appendonly", "no", "--daemonize", "no"],
      { stdout: "pipe", stderr: "pipe" },
    );
    this.child = child;
    let output = "";
    const decoder = new TextDecoder();
    const ready = (async () => {
      for await (const chunk of child.stdout as ReadableStream<Uint8Array>) {
        output += decoder.decode(chunk);
        if (output.includes("Ready to accept connections")) return;
      }
      throw new Error(`[redis test] redis-server exited before it was ready:\n${output}`);
    })();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`[redis test] redis-server not ready after 10 s:\n${output}`)), 10_000);
    });
    try {
      await Promise.race([ready, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child) return;
    child.kill();
    await child.exited;
  }
}

let server: RedisServer | undefined;
let client: RedisClient | undefined;

if (BINARY) {
  beforeAll(async () => {
    server = new RedisServer(await freePort());
    await server.start();
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

  /** Retries `attempt` every 50 ms until it resolves, for up to `ms`. */
  async function eventually<T>(attempt: () => Promise<T>, ms: number): Promise<T> {
    const deadline = performance.now() + ms;
    for (;;) {
      try {
        return await attempt();
      } catch (error) {
        if (performance.now() > deadline) throw error;
        await Bun.sleep(50);
      }
    }
  }

  /** Milliseconds `promise` takes to settle, and whether it rejected. */
  async function timed(promise: Promise<unknown>): Promise<{ ms: number; rejected: boolean }> {
    const started = performance.now();
    const rejected = await promise.then(
      () => false,
      () => true,
    );
    return { ms: performance.now() - started, rejected };
  }

  testStore("redis", {
    create: (clock) => redisStore({ client: bunRedis(requireClient()), prefix, now: clock.now }),
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

    test("a client without getBuffer/set/del is refused at creation", () => {
      expect(() => redisStore({ client: {} as never })).toThrow(/\[postcache\] \[redis\] option "client"/);
    });

    test("server stopped: store calls reject at once, postcache answers from the origin; restarted: cached again", async () => {
      if (!server) throw new Error(MISSING);
      const store = bunRedisStore({ url: server.url, prefix });
      const errors: string[] = [];
      const postcache = createPostcache({ storeTimeoutMs: 1000, onError: (_, where) => errors.push(where) });
      let originCalls = 0;
      const fetcher = async () => {
        originCalls++;
        return new Response(JSON.stringify({ n: originCalls }), {
          headers: { "content-type": "application/json", "cache-control": "max-age=60" },
        });
      };
      const body = JSON.stringify({ q: uniqueKey() });
      const ask = async () => {
        const started = performance.now();
        const waits: Promise<unknown>[] = [];
        const response = await postcache.handle(
          new Request("http://app.test/search", { method: "POST", body, headers: { "content-type": "application/json" } }),
          store,
          fetcher,
          { waitUntil: (p) => waits.push(p) },
        );
        const text = await response.text();
        await Promise.all(waits);
        return {
          status: response.status,
          text,
          cacheStatus: response.headers.get("cache-status") ?? "",
          ms: performance.now() - started,
        };
      };
      try {
        await eventually(() => store.get(uniqueKey()), 5000);
        expect((await ask()).cacheStatus).toMatch(/fwd=uri-miss; fwd-status=200; stored/);
        expect((await ask()).cacheStatus).toMatch(/; hit/);
        expect(originCalls).toBe(1);

        await server.stop();
        // Store calls reject well inside postcache's store timeout (1000 ms here): nothing queues.
        for (const call of [store.get(uniqueKey()), store.set(uniqueKey(), entry(), 60), store.delete(uniqueKey())]) {
          const result = await timed(call);
          expect(result.rejected).toBe(true);
          expect(result.ms).toBeLessThan(250);
        }
        const down = await ask();
        expect(down.status).toBe(200);
        expect(JSON.parse(down.text)).toEqual({ n: 2 });
        expect(down.cacheStatus).toMatch(/fwd=uri-miss/);
        expect(down.ms).toBeLessThan(500);
        expect(errors).toContain("store.get");
        expect(originCalls).toBe(2);

        await server.start();
        // Bun reconnects by itself within a few hundred ms; the cache serves again.
        await eventually(() => store.get(uniqueKey()), 5000);
        expect((await ask()).cacheStatus).toMatch(/fwd=uri-miss; fwd-status=200; stored/);
        const hit = await ask();
        expect(hit.cacheStatus).toMatch(/; hit/);
        expect(JSON.parse(hit.text)).toEqual({ n: 3 });
        expect(originCalls).toBe(3);
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
