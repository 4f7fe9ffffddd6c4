/**
 * Redis store: one cache shared by every instance behind a load balancer. Web standards only: the
 * client is injected, so core imports no driver: anything with a binary-safe `getBuffer`, `set(k, v,
 * "PX", ms)` and `del` fits `RedisLike`. Bun's built-in `RedisClient` is wired up in `adapters/bun-redis.ts`.
 *
 * Each value is `f64 expiresAt (ms, big-endian) | encodeEntry(entry)`. Redis drops the key itself after
 * the TTL (`SET ... PX`, https://redis.io/docs/latest/commands/set/); the expiry time in the value is
 * checked against `now()` too, so a controlled clock (tests, or a skewed host) sees the same expiry.
 */
import type { CacheEntry, CacheStore } from "../types.ts";
import { decodeEntry, encodeEntry } from "./codec.ts";

/** The three commands the store needs, binary-safe. */
export interface RedisLike {
  /** `GET key`, the value's raw bytes, or `null` when the key does not exist. */
  getBuffer(key: string): Promise<Uint8Array | null>;
  /** `SET key value PX milliseconds`. */
  set(key: string, value: Uint8Array, mode: "PX", milliseconds: number): Promise<unknown>;
  /** `DEL key`, resolving to the number of keys removed. */
  del(key: string): Promise<number>;
}

export interface RedisStoreOptions {
  /** The connected client. It should reject at once when the server is unreachable rather than queue
   * commands: postcache bounds every store call with a timeout, but a queued command keeps its value in
   * memory until the connection returns. */
  client: RedisLike;
  /** Prepended to every key, so postcache can share a database with other data. Default `postcache:`. */
  prefix?: string;
  /** The clock, in ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

export const DEFAULT_REDIS_PREFIX = "postcache:";
const NAME = "redis";
/** Bytes before the encoded entry: the expiry time as a float64. */
const HEADER_BYTES = 8;

/**
 * @example
 * // On Bun, through adapters/bun-redis.ts (fails fast while the server is down, reconnects):
 * const store = bunRedisStore({ url: "redis://127.0.0.1:6379" });
 * // Any other client that fits RedisLike:
 * const store = redisStore({ client, prefix: "myapp:postcache:" });
 */
export function redisStore(options: RedisStoreOptions): CacheStore {
  const { client, prefix = DEFAULT_REDIS_PREFIX } = options;
  if (!client || typeof client.getBuffer !== "function" || typeof client.set !== "function" || typeof client.del !== "function") {
    throw new TypeError(`[postcache] [${NAME}] option "client" must have getBuffer, set and del (e.g. Bun's RedisClient)`);
  }
  if (typeof prefix !== "string") throw new TypeError(`[postcache] [${NAME}] option "prefix" must be a string`);
  const now = options.now ?? Date.now;

  return {
    name: NAME,
    async get(key) {
      const value = await client.getBuffer(prefix + key);
      if (value === null || value === undefined) return undefined;
      if (value.byteLength < HEADER_BYTES) throw new TypeError(`[postcache] [${NAME}] stored value is truncated`);
      const expiresAt = new DataView(value.buffer, value.byteOffset, value.byteLength).getFloat64(0);
      if (!(expiresAt > now())) return undefined;
      return decodeEntry(value.subarray(HEADER_BYTES), NAME);
    },
    async set(key, entry, ttlSeconds) {
      // Like every store, a TTL of zero stores nothing; the old entry goes too, as `set` overwrites.
      if (!(ttlSeconds > 0)) {
        await client.del(prefix + key);
        return;
      }
      const ms = Math.ceil(ttlSeconds * 1000);
      await client.set(prefix + key, frame(entry, now() + ms), "PX", ms);
    },
    async delete(key) {
      return (await client.del(prefix + key)) > 0;
    },
  };
}

function frame(entry: CacheEntry, expiresAt: number): Uint8Array {
  const encoded = encodeEntry(entry);
  const out = new Uint8Array(HEADER_BYTES + encoded.byteLength);
  new DataView(out.buffer).setFloat64(0, expiresAt);
  out.set(encoded, HEADER_BYTES);
  return out;
}
