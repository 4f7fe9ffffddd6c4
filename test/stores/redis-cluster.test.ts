/**
 * The Redis store on a real Redis Cluster: three `redis-server --cluster-enabled yes` masters on free
 * loopback ports, created here with `redis-cli --cluster create` (test/stores/redis-server.ts), through
 * node-redis's cluster client. The conformance suite (sharded, and in one slot), the layout's claims
 * (slots as the cluster computes them, entries on every master, CROSSSLOT without hash tags), Bun's
 * client (no cluster support), and a master crashing and restarting while requests keep coming.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RedisClient } from "bun";
import { createCluster } from "redis";
import { nodeRedis, nodeRedisStore } from "../../adapters/node-redis.ts";
import { redisStore } from "../../core/stores/redis.ts";
import { keySlot, shardTags } from "../../core/stores/redis-slots.ts";
import { entry, tagged, testStore, uniqueKey, uniqueTag } from "./conformance.ts";
import { eventually, MISSING, postcacheOver, REDIS_SERVER, RedisCluster, timed } from "./redis-server.ts";

// Without redis-server (and no way to install it here) the whole file is skipped, with one line said.
if (REDIS_SERVER) {
  const prefix = `postcache-cluster-${Date.now().toString(36)}:`;
  // Longer than the outage below, so the other masters never mark the restarting one as failed.
  const NODE_TIMEOUT_MS = 5000;
  let cluster: RedisCluster | undefined;
  let client: ReturnType<typeof createCluster> | undefined;

  beforeAll(async () => {
    cluster = await RedisCluster.start(NODE_TIMEOUT_MS);
    client = createCluster({ rootNodes: cluster.urls.map((url) => ({ url })), defaults: { disableOfflineQueue: true } });
    await client.connect();
  }, 30_000);

  afterAll(async () => {
    client?.destroy();
    await cluster?.stop();
  });

  function running(): { cluster: RedisCluster; client: NonNullable<typeof client> } {
    if (!cluster || !client) throw new Error(MISSING);
    return { cluster, client };
  }

  testStore("redis cluster on node-redis (64 shards)", {
    create: (clock) => redisStore({ client: nodeRedis(running().client), prefix, now: clock.now }),
    capabilities: { tags: true, clear: true },
  });

  testStore("redis cluster on node-redis, 1 shard (one slot)", {
    create: (clock) => redisStore({ client: nodeRedis(running().client), prefix, now: clock.now, shards: 1 }),
    capabilities: { tags: true, clear: true },
  });

  /** Keys under `match` on each master, by SCAN (redis-cli --scan). */
  async function keysPerNode(c: RedisCluster, match: string): Promise<number[]> {
    return Promise.all(
      c.nodes.map(async (node) => (await c.cli(node, ["--scan", "--pattern", match])).split("\n").filter(Boolean).length),
    );
  }

  describe("redis cluster", () => {
    test("the store's slots are the cluster's own (CLUSTER KEYSLOT)", async () => {
      const { cluster } = running();
      for (const key of [...shardTags(8).map((tag) => `${prefix}{${tag}}${uniqueKey()}`), "somekey", "a{b}c", "x{}y"]) {
        expect(Number(await cluster.cli(cluster.nodes[0], ["CLUSTER", "KEYSLOT", key]))).toBe(keySlot(key));
      }
    });

    test("entries spread over every master; clear empties every master", async () => {
      const { cluster, client } = running();
      const own = `${prefix}spread:`;
      const store = redisStore({ client: nodeRedis(client), prefix: own });
      const tag = uniqueTag();
      await Promise.all(Array.from({ length: 300 }, () => store.set(uniqueKey(), tagged([tag]), 60)));
      // Entries only (their keys are URLs); about a third each, so every master holds well over a fifth.
      const entries = await keysPerNode(cluster, `${own}{*}https:*`);
      expect(entries.reduce((a, b) => a + b, 0)).toBe(300);
      for (const count of entries) expect(count).toBeGreaterThan(60);
      await store.clear();
      expect(await keysPerNode(cluster, `${own}*`)).toEqual([0, 0, 0]);
    });

    test("without hash tags the scripts fail with CROSSSLOT: why the store refuses shards: 0 on a cluster", async () => {
      const { client } = running();
      const { masters: _, ...single } = nodeRedis(client);
      const store = redisStore({ client: single, prefix, shards: 0 });
      await expect(store.set(uniqueKey(), tagged([uniqueTag(), uniqueTag()]), 60)).rejects.toThrow(/CROSSSLOT/);
      expect(() => redisStore({ client: nodeRedis(client), prefix, shards: 0 })).toThrow(/at least 1 on Redis Cluster/);
    });

    test("Bun's RedisClient does not follow cluster redirects (Bun's docs: Redis Cluster unsupported)", async () => {
      const { cluster } = running();
      const bun = new RedisClient(cluster.urls[0], { enableOfflineQueue: false });
      try {
        await bun.connect();
        // One of these hashes to another master, which answers MOVED.
        const keys = shardTags(3).map((tag) => `${prefix}{${tag}}probe`);
        const results = await Promise.allSettled(keys.map((key) => bun.get(key)));
        expect(results.some((r) => r.status === "rejected" && /MOVED/.test(String(r.reason)))).toBe(true);
      } finally {
        bun.close();
      }
    });

    test("a master crashes and restarts mid-run: every request is answered, store calls fail fast or succeed, the store recovers", async () => {
      const { cluster } = running();
      const store = nodeRedisStore({ cluster: cluster.urls, prefix: `${prefix}restart:` });
      const victim = cluster.nodes[1];
      try {
        await eventually(() => store.get(uniqueKey()), 5000);
        const { ask } = postcacheOver(store);
        const bodies = Array.from({ length: 24 }, (_, i) => JSON.stringify({ q: i, run: uniqueKey() }));
        const answers: { status: number; ms: number; ok: boolean }[] = [];
        const round = async () => {
          for (const answer of await Promise.all(bodies.map(ask))) {
            answers.push({ status: answer.status, ms: answer.ms, ok: Number.isInteger(JSON.parse(answer.text).n) });
          }
        };
        await round();
        await round();
        expect(answers.slice(bodies.length).every((a) => a.ok)).toBe(true);

        // Requests keep coming while the master is down and while it comes back.
        let stop = false;
        const traffic = (async () => {
          for (let i = 0; i < 400 && !stop; i++) await round();
        })();
        await Bun.sleep(100);
        await victim.stop(9);
        await Bun.sleep(300);
        // Direct store calls: the victim's shards reject at once, the others answer.
        const keys = Array.from({ length: 32 }, () => uniqueKey());
        const calls = await Promise.all(keys.map((k) => timed(store.get(k))));
        expect(calls.some((c) => c.rejected)).toBe(true);
        expect(calls.some((c) => !c.rejected)).toBe(true);
        for (const c of calls) expect(c.ms).toBeLessThan(250);
        const purge = await timed(store.deleteTag(uniqueTag()));
        expect(purge.rejected).toBe(true); // a purge must reach every shard, so it fails, and fast
        expect(purge.ms).toBeLessThan(250);
        await Bun.sleep(600);
        await victim.start();
        await cluster.waitUntilOk(10_000);
        // Recovered: every shard answers again (node-redis reconnects within its 2 s backoff).
        await eventually(async () => {
          const again = await Promise.all(keys.map((k) => timed(store.get(k))));
          expect(again.filter((c) => c.rejected)).toEqual([]);
        }, 10_000);
        stop = true;
        await traffic;
        expect(answers.length).toBeGreaterThan(bodies.length * 4);
        expect(answers.every((a) => a.status === 200 && a.ok)).toBe(true);
        expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(500);
        // The restarted master came back empty: its entries are stored again, and then hit.
        await round();
        const start = answers.length;
        await round();
        expect(answers.slice(start).every((a) => a.ok)).toBe(true);
        const hits = await Promise.all(bodies.map(ask));
        expect(hits.filter((h) => !/; hit/.test(h.cacheStatus))).toEqual([]);
        await store.set(keys[0], entry(), 60);
        expect((await store.get(keys[0]))?.status).toBe(200);
      } finally {
        store.client.destroy();
        await victim.start();
      }
    }, 40_000);

    // Last: it stops the whole cluster.
    test("a cluster that was down when the store was created: calls fail fast, then the store connects by itself", async () => {
      const { cluster } = running();
      await Promise.all(cluster.nodes.map((node) => node.stop()));
      const store = nodeRedisStore({ cluster: cluster.urls, prefix });
      try {
        const down = await timed(store.get(uniqueKey()));
        expect(down.rejected).toBe(true);
        expect(down.ms).toBeLessThan(250);
        await Promise.all(cluster.nodes.map((node) => node.start()));
        await cluster.waitUntilOk(15_000);
        expect(await eventually(() => store.get(uniqueKey()), 10_000)).toBeUndefined();
        const key = uniqueKey();
        await store.set(key, tagged([uniqueTag()]), 60);
        expect((await store.get(key))?.status).toBe(200);
      } finally {
        store.client.destroy();
        await Promise.all(cluster.nodes.map((node) => node.start()));
      }
    }, 40_000);
  });
}
