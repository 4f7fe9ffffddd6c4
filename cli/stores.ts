/**
 * The stores the `postcache` command opens from its flags: `--redis` (one cache shared through Redis)
 * and `--purge-log` (each process keeps its own store, and purges reach every process through a purge
 * log in Redis: core/purge-log.ts). Bun's built-in client under Bun, else node-redis (the `redis`
 * package, an optional peer).
 */
import { redisPurgeLog, withPurgeLog } from "../core/purge-log-entry.ts";
import type { RedisSend } from "../core/stores/redis.ts";
import type { CacheStore } from "../core/types.ts";
import { UsageError } from "./settings.ts";

/** A store the command opened, and how to close it. */
export interface OpenStore {
  store: CacheStore;
  close(): Promise<void>;
}

const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";

export async function openRedis(url: string): Promise<OpenStore> {
  if (isBun) {
    const { bunRedisStore } = await import("../adapters/bun-redis.ts");
    const store = bunRedisStore({ url });
    return { store, close: async () => store.client.close() };
  }
  const { nodeRedisStore } = await nodeRedisAdapter("--redis");
  const store = nodeRedisStore({ url });
  return { store, close: async () => (store.client as { destroy?: () => void }).destroy?.() };
}

/** `store`, its purges recorded in and its hits checked against a purge log in the Redis at `url`. */
export async function openPurgeLog(
  url: string,
  store: CacheStore,
  purgeCheckMs: number,
  err: (line: string) => void,
): Promise<OpenStore> {
  let client: { send: RedisSend };
  let close: () => Promise<void>;
  if (isBun) {
    const { bunRedis } = await import("../adapters/bun-redis.ts");
    const { RedisClient } = (globalThis as unknown as { Bun: { RedisClient: BunRedisClientClass } }).Bun;
    const raw = new RedisClient(url, { enableOfflineQueue: false, autoReconnect: true });
    client = bunRedis(raw);
    close = async () => raw.close();
  } else {
    const { nodeRedis } = await nodeRedisAdapter("--purge-log");
    const { createClient } = await import("redis");
    const raw = createClient({ url, disableOfflineQueue: true });
    client = nodeRedis(raw);
    close = async () => raw.destroy();
  }
  // A log that cannot be read is not silent: each failure is one line (hits turn to misses past the grace).
  const onError = (error: unknown, during: string) =>
    err(`postcache: ${during} failed: ${error instanceof Error ? error.message : String(error)}`);
  return { store: withPurgeLog(store, redisPurgeLog({ client }), { purgeCheckMs, onError }), close };
}

type BunRedisClientClass = new (
  url: string,
  options: { enableOfflineQueue: boolean; autoReconnect: boolean },
) => Parameters<typeof import("../adapters/bun-redis.ts").bunRedis>[0];

async function nodeRedisAdapter(flag: string): Promise<typeof import("../adapters/node-redis.ts")> {
  try {
    return await import("../adapters/node-redis.ts");
  } catch {
    throw new UsageError(`${flag} under Node needs the redis package: npm install redis`);
  }
}
