/**
 * Redis store: one cache shared by every instance behind a load balancer. Web standards only: the
 * client is injected, so core imports no driver: anything with a binary-safe `getBuffer`, `set(k, v,
 * "PX", ms)` and `del` fits `RedisLike`. Bun's built-in `RedisClient` is wired up in `adapters/bun-redis.ts`.
 *
 * Each value is `f64 expiresAt (ms, big-endian) | encodeEntry(entry)`. Redis drops the key itself after
 * the TTL (`SET ... PX`, https://redis.io/docs/latest/commands/set/); the expiry time in the value is
 * checked against `now()` too, so a controlled clock (tests, or a skewed host) sees the same expiry.
 *
 * Tags (when the client also has `send`): per tag a Redis set of the keys carrying it, `<prefix>#tag:<tag>`,
 * and per tagged entry a set of its tag keys, `<prefix>#tags:<key>`, so an overwrite or a delete takes the
 * key out of its old tags. Writes, deletes and purges run as Lua scripts, each atomic
 * (https://redis.io/docs/latest/develop/programmability/eval-intro/): no interleaving leaves an entry
 * that a purge of its tag misses. A tag's set lives at least as long as its longest-lived entry; members
 * whose entries Redis already dropped (expiry, `maxmemory` eviction) are pruned two at a time on writes to
 * the tag, which keeps a set under about twice its live size. `ALL_TAG` is not indexed: a purge of it is
 * `clear`, a SCAN of the prefix (https://redis.io/docs/latest/commands/scan/). Needs Redis 5 or later
 * (scripts replicated by effects), or Valkey.
 */
import { ALL_TAG } from "../tags.ts";
import type { CacheEntry, CacheStore } from "../types.ts";
import { decodeEntry, encodeEntry } from "./codec.ts";

/** The commands the store needs, binary-safe. */
export interface RedisLike {
  /** `GET key`, the value's raw bytes, or `null` when the key does not exist. */
  getBuffer(key: string): Promise<Uint8Array | null>;
  /** `SET key value PX milliseconds`. */
  set(key: string, value: Uint8Array, mode: "PX", milliseconds: number): Promise<unknown>;
  /** `DEL key`, resolving to the number of keys removed. */
  del(key: string): Promise<number>;
  /**
   * Optional: any command (`EVAL`, `SCAN`, `DEL`), `Uint8Array` arguments passed as raw bytes, replies
   * as RESP decodes them (integers as numbers, arrays as arrays). With it the store purges by tag and
   * clears; without it, it stores and deletes by key only. Bun's `send` fits as it is (adapters/bun-redis.ts);
   * other clients take a one-line wrapper, e.g. ioredis: `send: (command, args) => redis.call(command, ...args)`.
   */
  send?(command: string, args: (string | Uint8Array)[]): Promise<unknown>;
}

export interface RedisStoreOptions {
  /** The connected client. It should reject at once when the server is unreachable rather than queue
   * commands: postcache bounds every store call with a timeout, but a queued command keeps its value in
   * memory until the connection returns. */
  client: RedisLike;
  /**
   * Prepended to every key, so postcache can share a database with other data. `clear` deletes every
   * key that starts with it, so no other data may share it, nor a longer prefix that starts with it.
   * Default `postcache:`.
   */
  prefix?: string;
  /** Keys deleted per SCAN batch by `clear`. Default 500. */
  clearBatch?: number;
  /** The clock, in ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

export interface RedisStore extends CacheStore {
  /** Present when the client has `send`. */
  deleteTag?(tag: string): Promise<number>;
  /** Present when the client has `send`. */
  clear?(): Promise<void>;
}

/** A Redis store over a client with `send`: it purges by tag and clears. */
export interface TaggedRedisStore extends RedisStore {
  deleteTag(tag: string): Promise<number>;
  clear(): Promise<void>;
}

export const DEFAULT_REDIS_PREFIX = "postcache:";
const NAME = "redis";
/** Bytes before the encoded entry: the expiry time as a float64. */
const HEADER_BYTES = 8;
const DEFAULT_CLEAR_BATCH = 500;
/** Members a purge script pops at a time, so one purge of a huge tag never blocks Redis for long. */
const PURGE_BATCH = 500;

/**
 * KEYS: the entry, its tag list, then the sets of its tags. ARGV: the value, the TTL in ms, the prefix.
 * Takes the key out of the tags it carried, stores the value, and adds it to its new tags; each tag set
 * lives at least as long as the entry; two random members whose entries are gone leave the set.
 */
const SET_SCRIPT = `
local key = string.sub(KEYS[1], #ARGV[3] + 1)
for _, tag in ipairs(redis.call('SMEMBERS', KEYS[2])) do redis.call('SREM', tag, key) end
redis.call('DEL', KEYS[2])
local ms = tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ms)
for i = 3, #KEYS do
  redis.call('SADD', KEYS[i], key)
  redis.call('SADD', KEYS[2], KEYS[i])
  if redis.call('PTTL', KEYS[i]) < ms then redis.call('PEXPIRE', KEYS[i], ms) end
  for _, other in ipairs(redis.call('SRANDMEMBER', KEYS[i], 2)) do
    if redis.call('EXISTS', ARGV[3] .. other) == 0 then redis.call('SREM', KEYS[i], other) end
  end
end
if #KEYS > 2 then redis.call('PEXPIRE', KEYS[2], ms) end
return 1`;

/** KEYS: the entry, its tag list. ARGV: the prefix. Resolves 1 if the entry existed. */
const DELETE_SCRIPT = `
local key = string.sub(KEYS[1], #ARGV[1] + 1)
for _, tag in ipairs(redis.call('SMEMBERS', KEYS[2])) do redis.call('SREM', tag, key) end
redis.call('DEL', KEYS[2])
return redis.call('DEL', KEYS[1])`;

/**
 * KEYS: the tag's set. ARGV: the prefix, the batch size. Pops up to a batch of keys, deletes each entry
 * and its tag list, takes it out of its other tags. Resolves { entries removed, members left }.
 */
const PURGE_SCRIPT = `
local removed = 0
for _, key in ipairs(redis.call('SPOP', KEYS[1], tonumber(ARGV[2]))) do
  local tags = ARGV[1] .. '#tags:' .. key
  for _, tag in ipairs(redis.call('SMEMBERS', tags)) do
    if tag ~= KEYS[1] then redis.call('SREM', tag, key) end
  end
  redis.call('DEL', tags)
  removed = removed + redis.call('DEL', ARGV[1] .. key)
end
return { removed, redis.call('SCARD', KEYS[1]) }`;

/**
 * @example
 * // On Bun, through adapters/bun-redis.ts (fails fast while the server is down, reconnects):
 * const store = bunRedisStore({ url: "redis://127.0.0.1:6379" });
 * // Any other client that fits RedisLike:
 * const store = redisStore({ client, prefix: "myapp:postcache:" });
 * await store.deleteTag?.("product:42");
 */
export function redisStore(options: RedisStoreOptions & { client: Required<RedisLike> }): TaggedRedisStore;
export function redisStore(options: RedisStoreOptions): RedisStore;
export function redisStore(options: RedisStoreOptions): RedisStore {
  const { client, prefix = DEFAULT_REDIS_PREFIX, clearBatch = DEFAULT_CLEAR_BATCH } = options;
  if (!client || typeof client.getBuffer !== "function" || typeof client.set !== "function" || typeof client.del !== "function") {
    throw new TypeError(`[postcache] [${NAME}] option "client" must have getBuffer, set and del (e.g. Bun's RedisClient)`);
  }
  if (typeof prefix !== "string") throw new TypeError(`[postcache] [${NAME}] option "prefix" must be a string`);
  if (!Number.isSafeInteger(clearBatch) || clearBatch < 1) {
    throw new TypeError(`[postcache] [${NAME}] option "clearBatch" must be a positive integer (got ${clearBatch})`);
  }
  const now = options.now ?? Date.now;
  const send = typeof client.send === "function" ? client.send.bind(client) : undefined;
  const tagsKey = (key: string) => `${prefix}#tags:${key}`;
  const tagKey = (tag: string) => `${prefix}#tag:${tag}`;

  const store: RedisStore = {
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
        await store.delete(key);
        return;
      }
      const ms = Math.ceil(ttlSeconds * 1000);
      const value = frame(entry, now() + ms);
      if (!send) {
        await client.set(prefix + key, value, "PX", ms);
        return;
      }
      const tags = [...new Set(entry.tags ?? [])].filter((tag) => tag !== ALL_TAG).map(tagKey);
      await send("EVAL", [SET_SCRIPT, String(2 + tags.length), prefix + key, tagsKey(key), ...tags, value, String(ms), prefix]);
    },
    async delete(key) {
      if (!send) return (await client.del(prefix + key)) > 0;
      return Number(await send("EVAL", [DELETE_SCRIPT, "2", prefix + key, tagsKey(key), prefix])) > 0;
    },
  };
  if (!send) return store;

  /** Deletes every key under the prefix, a SCAN batch at a time; resolves how many were entries. */
  const clear = async (): Promise<number> => {
    // SCAN's MATCH is a glob: the prefix's own glob characters must match literally.
    const pattern = `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`;
    let cursor = "0";
    let entries = 0;
    // SCAN returns every key present for the whole iteration; keys written meanwhile may survive.
    do {
      const reply = await send("SCAN", [cursor, "MATCH", pattern, "COUNT", String(clearBatch)]);
      if (!Array.isArray(reply) || reply.length !== 2 || !Array.isArray(reply[1])) {
        throw new TypeError(`[postcache] [${NAME}] unexpected SCAN reply`);
      }
      cursor = String(reply[0]);
      const keys = (reply[1] as unknown[]).map(String);
      if (keys.length > 0) {
        await send("DEL", keys);
        entries += keys.filter((k) => !k.startsWith(`${prefix}#`)).length;
      }
    } while (cursor !== "0");
    return entries;
  };

  store.deleteTag = async (tag) => {
    if (tag === ALL_TAG) return clear();
    let removed = 0;
    // Each round pops up to PURGE_BATCH members; rounds are bounded by the set's size after the first,
    // so writers adding to the tag meanwhile cannot keep a purge going (what they add is concurrent).
    for (let round = 0, rounds = 1; round < rounds; round++) {
      const reply = await send("EVAL", [PURGE_SCRIPT, "1", tagKey(tag), prefix, String(PURGE_BATCH)]);
      if (!Array.isArray(reply) || reply.length !== 2) throw new TypeError(`[postcache] [${NAME}] unexpected purge reply`);
      removed += Number(reply[0]);
      if (round === 0) rounds = 1 + Math.ceil(Number(reply[1]) / PURGE_BATCH);
    }
    return removed;
  };
  store.clear = async () => {
    await clear();
  };
  return store;
}

function frame(entry: CacheEntry, expiresAt: number): Uint8Array {
  const encoded = encodeEntry(entry);
  const out = new Uint8Array(HEADER_BYTES + encoded.byteLength);
  new DataView(out.buffer).setFloat64(0, expiresAt);
  out.set(encoded, HEADER_BYTES);
  return out;
}
