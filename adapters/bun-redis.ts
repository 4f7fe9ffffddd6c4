/**
 * The Redis store on Bun's built-in client (https://bun.com/docs/runtime/redis), for Bun servers that
 * must share one cache: `postcacheBun({ origin, store: bunRedisStore({ url: process.env.REDIS_URL }) })`.
 *
 * Behaviour while the server is down, checked against Bun 1.4.5:
 * - `enableOfflineQueue: false`: with the default queue, each command waits for the connection to return
 *   (or for `maxRetries` to run out), holding its value (up to 1 MiB per `set`) in memory all that time.
 *   Without it, a command on a closed connection rejects at once, so postcache goes to the origin at once.
 * - `autoReconnect: true` (the default) brings short outages back by itself. After `maxRetries` (20,
 *   about 30 s) Bun gives up and stays closed, so the wrapper below calls `connect()` again, at most one
 *   attempt at a time, whenever a command finds the client disconnected.
 *
 * The client class is taken from the `Bun` global when a store is created, not imported from "bun", so
 * this module loads in any runtime (a bundle or a test that imports every entry) and its declarations
 * need no bun-types: `BunRedisClient` is the part of Bun's `RedisClient` used here, which Bun's fits.
 */
import { type RedisStoreOptions, redisStore, type SendingRedisLike, type TaggedRedisStore } from "../core/stores/redis.ts";

export {
  DEFAULT_REDIS_PREFIX,
  type RedisLike,
  type RedisStore,
  type RedisStoreOptions,
  redisStore,
  type SendingRedisLike,
  type TaggedRedisStore,
} from "../core/stores/redis.ts";

/** The part of Bun's `RedisClient` (https://bun.com/docs/runtime/redis) this store uses. */
export interface BunRedisClient {
  readonly connected: boolean;
  connect(): Promise<void>;
  close(): void;
  getBuffer(key: string): Promise<Uint8Array | null>;
  set(key: string, value: Uint8Array, px: "PX", milliseconds: number): Promise<unknown>;
  del(key: string): Promise<number>;
  send(command: string, args: string[]): Promise<unknown>;
}

/** Bun's `RedisClient` constructor, reached through the runtime's global. */
type BunRedisClientClass = new (
  url?: string,
  options?: { enableOfflineQueue?: boolean; autoReconnect?: boolean },
) => BunRedisClient;

export interface BunRedisOptions extends Omit<RedisStoreOptions, "client"> {
  /** The server, e.g. `redis://127.0.0.1:6379`. Default: Bun's, i.e. `VALKEY_URL`, `REDIS_URL`, then
   * `valkey://localhost:6379` (https://bun.com/docs/runtime/redis). Ignored when `client` is given. */
  url?: string | undefined;
  /** A client of your own. Create it with `enableOfflineQueue: false` (see above). Default: a new one. */
  client?: BunRedisClient | undefined;
}

export interface BunRedisStore extends TaggedRedisStore {
  /** The underlying client, e.g. to `close()` it on shutdown. */
  readonly client: BunRedisClient;
}

/** Bun's `RedisClient` as a `RedisLike` that fails fast while disconnected and reconnects when Bun has given up. */
export function bunRedis(client: BunRedisClient): SendingRedisLike {
  let connecting = false;
  const connect = () => {
    if (connecting) return;
    connecting = true;
    client
      .connect()
      .catch(() => {})
      .finally(() => {
        connecting = false;
      });
  };
  function ready(): void {
    if (client.connected) return;
    connect();
    throw new Error("[postcache] [redis] not connected to the server (reconnecting)");
  }
  // Connect now, so the first request finds the connection open; until then store calls fail fast.
  if (!client.connected) connect();
  return {
    async getBuffer(key) {
      ready();
      return client.getBuffer(key);
    },
    async set(key, value, mode, ms) {
      ready();
      return client.set(key, value, mode, ms);
    },
    async del(key) {
      ready();
      return client.del(key);
    },
    async send(command, args) {
      ready();
      // Typed `string[]`, but Bun passes Uint8Array arguments as raw bytes (checked with Bun 1.4.5).
      return client.send(command, args as string[]);
    },
  };
}

/**
 * @example
 * const store = bunRedisStore({ url: process.env.REDIS_URL });
 * Bun.serve({ fetch: postcacheBun({ origin: "http://127.0.0.1:3000", store }) });
 */
export function bunRedisStore({ url, client, ...options }: BunRedisOptions = {}): BunRedisStore {
  const redis = client ?? new (bunRedisClientClass())(url, { enableOfflineQueue: false, autoReconnect: true });
  return { ...redisStore({ ...options, client: bunRedis(redis) }), client: redis };
}

function bunRedisClientClass(): BunRedisClientClass {
  const RedisClient = (globalThis as { Bun?: { RedisClient?: BunRedisClientClass } }).Bun?.RedisClient;
  if (!RedisClient)
    throw new TypeError("[postcache] bunRedisStore needs Bun's built-in Redis client (`Bun.RedisClient`), or pass `client`");
  return RedisClient;
}
