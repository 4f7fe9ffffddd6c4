/**
 * Redis store: one cache shared by every instance behind a load balancer. Web standards only: the
 * client is injected, so core imports no driver: anything with a binary-safe `getBuffer`, `set(k, v,
 * "PX", ms)` and `del` fits `RedisLike`. Bun's built-in `RedisClient` is wired up in `adapters/bun-redis.ts`,
 * node-redis (one server or a cluster) in `adapters/node-redis.ts`; docs/redis.md.
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
 *
 * Redis Cluster (`shards`): a script may only touch keys of one hash slot, else CROSSSLOT
 * (https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#hash-tags). An entry's
 * script touches the entry, its tag list, its tags' sets and their other members; a purge touches a
 * tag's set and every entry in it. So the store keeps `shards` copies of the index: each entry goes to
 * one shard by a hash of its key, and the entry, its tag list and that shard's set of each of its tags
 * all carry the shard's hash tag, `<prefix>{<shard>}<key>`. Every script stays in one slot, entries
 * spread over the masters, and a purge by tag runs once per shard. docs/redis.md has the trade-off.
 */
import { ALL_TAG } from "../tags.ts";
import type { CacheEntry, CacheStore } from "../types.ts";
import { decodeEntry, encodeEntry } from "./codec.ts";
import { crc16, hashTagOf, shardTags } from "./redis-slots.ts";

/** Any command, as `RedisLike.send` sends it. */
export type RedisSend = (command: string, args: (string | Uint8Array)[]) => Promise<unknown>;

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
  /**
   * Optional, for Redis Cluster: one `send` per master, for `SCAN`, which a master answers for its own
   * keys only. With it, `clear` scans every master and deletes what it found through `send` (routed by
   * key), one `DEL` per hash tag; and the store defaults to `shards: 64`. `send` then routes each command
   * by its first key (an `EVAL` by its first key in KEYS).
   */
  masters?(): Promise<RedisSend[]>;
}

/** A client with `send`: the store over it purges by tag and clears. */
export type SendingRedisLike = RedisLike & { send: RedisSend };

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
  /**
   * For Redis Cluster: how many hash tags the store spreads its keys over. `0`: keys carry none (one
   * server). `n`: each entry, with its tag list and its shard's copy of its tags' sets, carries one of
   * `n` hash tags, so every script stays in one slot; a purge by tag runs `n` scripts. `1` puts the whole
   * store in one slot (one master). Default `0`, or `64` when the client has `masters` (a cluster).
   * Every instance sharing the store must use the same value; changing it is like changing the prefix
   * (entries written before are no longer found; they expire, and `clear` still reaches them).
   */
  shards?: number;
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
/** Shards on a cluster: several per master for an even spread, without making a purge too many scripts. */
export const DEFAULT_CLUSTER_SHARDS = 64;
const MAX_SHARDS = 1024;
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
 * // On Node, Deno or Bun, one server or a cluster, through adapters/node-redis.ts:
 * const store = nodeRedisStore({ cluster: ["redis://10.0.0.5:7000", "redis://10.0.0.6:7000"] });
 * // Any other client that fits RedisLike:
 * const store = redisStore({ client, prefix: "myapp:postcache:" });
 * await store.deleteTag?.("product:42");
 */
export function redisStore(options: RedisStoreOptions & { client: SendingRedisLike }): TaggedRedisStore;
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
  const masters = typeof client.masters === "function" ? client.masters.bind(client) : undefined;
  const base = layout(prefix, options.shards ?? (masters ? DEFAULT_CLUSTER_SHARDS : 0), Boolean(masters));

  const store: RedisStore = {
    name: NAME,
    async get(key) {
      const value = await client.getBuffer(base.of(key) + key);
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
      const at = base.of(key);
      if (!send) {
        await client.set(at + key, value, "PX", ms);
        return;
      }
      const tags = [...new Set(entry.tags ?? [])].filter((tag) => tag !== ALL_TAG).map((tag) => `${at}#tag:${tag}`);
      await send("EVAL", [SET_SCRIPT, String(2 + tags.length), at + key, `${at}#tags:${key}`, ...tags, value, String(ms), at]);
    },
    async delete(key) {
      const at = base.of(key);
      if (!send) return (await client.del(at + key)) > 0;
      return Number(await send("EVAL", [DELETE_SCRIPT, "2", at + key, `${at}#tags:${key}`, at])) > 0;
    },
  };
  if (!send) return store;

  /** Pops a tag's set in one shard, a script batch at a time; resolves how many entries it removed. */
  const purgeShard = async (at: string, tag: string): Promise<number> => {
    let removed = 0;
    // Each round pops up to PURGE_BATCH members; rounds are bounded by the set's size after the first,
    // so writers adding to the tag meanwhile cannot keep a purge going (what they add is concurrent).
    for (let round = 0, rounds = 1; round < rounds; round++) {
      const reply = await send("EVAL", [PURGE_SCRIPT, "1", `${at}#tag:${tag}`, at, String(PURGE_BATCH)]);
      if (!Array.isArray(reply) || reply.length !== 2) throw new TypeError(`[postcache] [${NAME}] unexpected purge reply`);
      removed += Number(reply[0]);
      if (round === 0) rounds = 1 + Math.ceil(Number(reply[1]) / PURGE_BATCH);
    }
    return removed;
  };
  const clear = async (): Promise<number> => {
    // A cluster's masters each list their own keys: every one is scanned (a failing one fails the clear).
    const scanners = masters ? await masters() : [send];
    const counts = await Promise.all(scanners.map((scan) => clearNode(scan, send, prefix, clearBatch, Boolean(masters))));
    return counts.reduce((a, b) => a + b, 0);
  };

  store.deleteTag = async (tag) => {
    if (tag === ALL_TAG) return clear();
    const counts = await Promise.all(base.all.map((at) => purgeShard(at, tag)));
    return counts.reduce((a, b) => a + b, 0);
  };
  store.clear = async () => {
    await clear();
  };
  return store;
}

/**
 * Where a key's entry, tag list and tag sets live: `<prefix>` alone, or `<prefix>{<shard tag>}` with
 * the shard chosen by a hash of the key. `all` lists every shard's, for a purge.
 */
function layout(prefix: string, shards: number, cluster: boolean): { of(key: string): string; all: string[] } {
  if (!Number.isSafeInteger(shards) || shards < 0 || shards > MAX_SHARDS) {
    throw new TypeError(`[postcache] [${NAME}] option "shards" must be an integer from 0 to ${MAX_SHARDS} (got ${shards})`);
  }
  if (shards === 0) {
    if (cluster) throw new TypeError(`[postcache] [${NAME}] option "shards" must be at least 1 on Redis Cluster`);
    return { of: () => prefix, all: [prefix] };
  }
  // A hash tag in the prefix would be the one Redis uses, and every shard would land in its slot.
  if (/[{}]/.test(prefix)) {
    throw new TypeError(
      `[postcache] [${NAME}] option "prefix" must not contain "{" or "}" with shards (it would be the hash tag)`,
    );
  }
  const all = shardTags(shards).map((tag) => `${prefix}{${tag}}`);
  return { of: (key) => all[crc16(key) % shards], all };
}

/**
 * Deletes every key under `prefix` that `scan` lists, a SCAN batch at a time; resolves how many were
 * entries (not index keys). On a cluster the keys are deleted through `send`, one DEL per hash tag, since
 * one DEL may only name keys of one slot.
 */
async function clearNode(scan: RedisSend, send: RedisSend, prefix: string, batch: number, cluster: boolean): Promise<number> {
  // SCAN's MATCH is a glob: the prefix's own glob characters must match literally.
  const pattern = `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`;
  let cursor = "0";
  let entries = 0;
  // SCAN returns every key present for the whole iteration; keys written meanwhile may survive.
  do {
    const reply = await scan("SCAN", [cursor, "MATCH", pattern, "COUNT", String(batch)]);
    if (!Array.isArray(reply) || reply.length !== 2 || !Array.isArray(reply[1])) {
      throw new TypeError(`[postcache] [${NAME}] unexpected SCAN reply`);
    }
    cursor = String(reply[0]);
    const keys = (reply[1] as unknown[]).map(String);
    if (keys.length > 0) {
      await Promise.all([...groupBySlot(keys, cluster).values()].map((group) => send("DEL", group)));
      entries += keys.filter((k) => !isIndexKey(k.slice(prefix.length))).length;
    }
  } while (cursor !== "0");
  return entries;
}

/** One group on a single server; on a cluster one per hash tag (keys without one each alone). */
function groupBySlot(keys: string[], cluster: boolean): Map<string, string[]> {
  if (!cluster) return new Map([["", keys]]);
  const groups = new Map<string, string[]>();
  for (const key of keys) {
    const tag = hashTagOf(key);
    const group = groups.get(tag);
    if (group) group.push(key);
    else groups.set(tag, [key]);
  }
  return groups;
}

/** `#tag:...` and `#tags:...`, after the prefix and the shard's hash tag if any. */
function isIndexKey(rest: string): boolean {
  const tail = rest.startsWith("{") ? rest.slice(rest.indexOf("}") + 1) : rest;
  return tail.startsWith("#");
}

function frame(entry: CacheEntry, expiresAt: number): Uint8Array {
  const encoded = encodeEntry(entry);
  const out = new Uint8Array(HEADER_BYTES + encoded.byteLength);
  new DataView(out.buffer).setFloat64(0, expiresAt);
  out.set(encoded, HEADER_BYTES);
  return out;
}
