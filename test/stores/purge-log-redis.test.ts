/**
 * The Redis purge log against a real, throwaway redis-server (test/stores/redis-server.ts), through
 * Bun's client and through node-redis, so both `send`s the log relies on are covered.
 */
import { afterAll, beforeAll } from "bun:test";
import { RedisClient } from "bun";
import { createClient } from "redis";
import { bunRedis } from "../../adapters/bun-redis.ts";
import { nodeRedis } from "../../adapters/node-redis.ts";
import { redisPurgeLog } from "../../core/purge-logs/redis.ts";
import { testPurgeLog } from "./purge-log-conformance.ts";
import { MISSING, REDIS_SERVER, type RedisServer, startRedis } from "./redis-server.ts";

if (REDIS_SERVER) {
  let server: RedisServer | undefined;
  let bun: RedisClient | undefined;
  let node: ReturnType<typeof createClient> | undefined;
  let n = 0;
  beforeAll(async () => {
    server = await startRedis();
    bun = new RedisClient(server.url, { enableOfflineQueue: false });
    await bun.connect();
    node = createClient({ url: server.url });
    await node.connect();
  }, 20_000);
  afterAll(async () => {
    bun?.close();
    await node?.quit();
    await server?.stop();
  });

  testPurgeLog("redis (Bun's client)", {
    create: (clock, bounds) => {
      if (!bun) throw new Error(MISSING);
      return redisPurgeLog({ client: bunRedis(bun), prefix: `t${n++}:`, ...bounds, now: clock.now });
    },
  });
  testPurgeLog("redis (node-redis)", {
    create: (clock, bounds) => {
      if (!node) throw new Error(MISSING);
      return redisPurgeLog({ client: nodeRedis(node), prefix: `t${n++}:`, ...bounds, now: clock.now });
    },
  });
}
