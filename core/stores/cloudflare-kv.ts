/**
 * Workers KV store: a global shared tier for Cloudflare Workers, behind the PoP's Cache API in
 * `tieredStore({ local: cacheApiStore(), shared: cloudflareKvStore({ kv: env.POSTCACHE }) })`. The
 * namespace binding is passed in, so core names no platform global.
 *
 * Each value is `f64 expiresAt (ms, big-endian) | encodeEntry(entry)` (core/stores/codec.ts), written as
 * bytes with `expirationTtl`, the TTL rounded up to KV's minimum of 60 s ("expirationTtl ... at least
 * 60", https://developers.cloudflare.com/kv/api/write-key-value-pairs/); the expiry in the value is
 * checked against `now()`, so an entry is gone on time even while KV still holds it.
 *
 * Keys: "Keys have a maximum length of 512 bytes" (same page) and postcache keys are URLs of any length,
 * so the KV key is `<prefix><SHA-256 hex of the key>`, 64 characters after the prefix.
 * Values: "The maximum size of a value is 25 MiB" (same page); larger entries are not stored.
 *
 * Consistency: KV is eventually consistent. A write or a delete can take 60 s or more to be seen in
 * other locations, which also cache what they read
 * (https://developers.cloudflare.com/kv/concepts/how-kv-works/). So an entry written at one PoP may miss
 * at another for up to a minute (a miss, never a wrong answer), and a deleted one may still be read
 * there meanwhile: purges across PoPs go through `withPurgeLog` (docs/purge.md), which filters what any
 * tier returns by its storage time.
 *
 * Tags: no `deleteTag`. KV cannot find keys by tag except by a listing (`list({ prefix })`, eventually
 * consistent too, billed like a write) and a delete per key, each an operation in a Worker invocation's
 * bounded budget; a purge of a popular tag would run out of it. Without `deleteTag` on the shared tier,
 * `tieredStore` has none either, and purge by tag is `withPurgeLog`'s job, which needs no index.
 */
import { toHex } from "../key.ts";
import type { CacheEntry, CacheStore } from "../types.ts";
import { decodeEntry, encodeEntry } from "./codec.ts";

/** The part of a KV namespace binding (`KVNamespace`) this store uses. */
export interface WorkersKvLike {
  get(key: string, type: "stream"): Promise<{ cancel(): Promise<void> } | null>;
  get(key: string, type: "arrayBuffer"): Promise<ArrayBuffer | null>;
  put(key: string, value: ArrayBuffer | ArrayBufferView, options: { expirationTtl: number }): Promise<void>;
  delete(key: string): Promise<void>;
}

export interface CloudflareKvStoreOptions {
  /** The KV namespace binding, e.g. `env.POSTCACHE` (wrangler.toml `[[kv_namespaces]]`). */
  kv: WorkersKvLike;
  /** Prepended to every key, so the namespace can hold other data. Default `postcache:`. */
  prefix?: string;
  /** Largest stored value in bytes (the entry, its headers and 8 bytes); larger entries are not
   * stored. Default and maximum 25 MiB, KV's value limit. */
  maxEntryBytes?: number;
  /** The clock, in ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

const NAME = "cloudflare-kv";
export const DEFAULT_CLOUDFLARE_KV_PREFIX = "postcache:";
/** "The maximum size of a value is 25 MiB." */
export const CLOUDFLARE_KV_MAX_VALUE_BYTES = 25 * 1024 * 1024;
/** "Keys have a maximum length of 512 bytes." */
const MAX_KEY_BYTES = 512;
/** SHA-256 in hex. */
const HASH_CHARS = 64;
/** "expirationTtl ... at least 60" seconds. */
const MIN_EXPIRATION_TTL = 60;
/** Bytes before the encoded entry: the expiry time as a float64. */
const HEADER_BYTES = 8;

/**
 * @example
 * // worker.ts, with a KV namespace bound as POSTCACHE:
 * const store = (env) =>
 *   tieredStore({ local: cacheApiStore(), shared: cloudflareKvStore({ kv: env.POSTCACHE }) });
 */
export function cloudflareKvStore(options: CloudflareKvStoreOptions): CacheStore {
  const { kv, prefix = DEFAULT_CLOUDFLARE_KV_PREFIX, maxEntryBytes = CLOUDFLARE_KV_MAX_VALUE_BYTES } = options ?? {};
  if (!kv || typeof kv.get !== "function" || typeof kv.put !== "function" || typeof kv.delete !== "function") {
    throw new TypeError(`[postcache] [${NAME}] option "kv" must be a KV namespace binding (get, put, delete)`);
  }
  if (typeof prefix !== "string" || new TextEncoder().encode(prefix).byteLength + HASH_CHARS > MAX_KEY_BYTES) {
    throw new TypeError(
      `[postcache] [${NAME}] option "prefix" must be a string of at most ${MAX_KEY_BYTES - HASH_CHARS} bytes (KV keys are at most ${MAX_KEY_BYTES})`,
    );
  }
  if (!Number.isSafeInteger(maxEntryBytes) || maxEntryBytes <= HEADER_BYTES || maxEntryBytes > CLOUDFLARE_KV_MAX_VALUE_BYTES) {
    throw new TypeError(
      `[postcache] [${NAME}] option "maxEntryBytes" must be an integer up to ${CLOUDFLARE_KV_MAX_VALUE_BYTES}, KV's value limit (got ${maxEntryBytes})`,
    );
  }
  const now = options.now ?? Date.now;
  const kvKey = async (key: string): Promise<string> =>
    prefix + toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key))));

  const store: CacheStore = {
    name: NAME,
    async get(key) {
      const value = await kv.get(await kvKey(key), "arrayBuffer");
      if (value === null || value === undefined) return undefined;
      const bytes = new Uint8Array(value);
      if (bytes.byteLength < HEADER_BYTES) throw new TypeError(`[postcache] [${NAME}] stored value is truncated`);
      const expiresAt = new DataView(value).getFloat64(0);
      if (!(expiresAt > now())) return undefined;
      return decodeEntry(bytes.subarray(HEADER_BYTES), NAME);
    },
    async set(key, entry, ttlSeconds) {
      const value = ttlSeconds > 0 ? frame(entry, now() + Math.ceil(ttlSeconds * 1000)) : undefined;
      // A TTL of zero, or an entry over the limit, stores nothing; the old entry goes, as `set` overwrites.
      if (!value || value.byteLength > maxEntryBytes) {
        await kv.delete(await kvKey(key));
        return;
      }
      const expirationTtl = Math.max(MIN_EXPIRATION_TTL, Math.ceil(ttlSeconds));
      await kv.put(await kvKey(key), value, { expirationTtl });
    },
    async delete(key) {
      const at = await kvKey(key);
      // KV's delete does not say whether the key existed: a streamed get tells, without reading the value.
      const held = await kv.get(at, "stream");
      await held?.cancel();
      await kv.delete(at);
      return held !== null && held !== undefined;
    },
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
