/**
 * Vercel Runtime Cache store: entries as JSON values in the per-region cache that Vercel Functions
 * and Routing Middleware share (https://vercel.com/docs/caching/runtime-cache). The cache object is
 * passed in, so this file needs nothing from a platform: the Vercel adapter creates it with
 * `getCache({ namespace, keyHashFunction: runtimeCacheKeyHash })` from `@vercel/functions`.
 *
 * Tags are native: each entry is set with its tags, and `deleteTag` is the cache's `expireTag`, which
 * cannot say how many entries it reached (-1). Tags are per project and environment, not per namespace
 * (`getCache` namespaces keys only, @vercel/functions cache/index.js): a purge reaches every entry with
 * the tag there, `ALL_TAG` every postcache entry. Without Vercel's RUNTIME_CACHE_* variables, `getCache`
 * falls back to an in-memory cache whose `expireTag` deletes the matching entries at once (cache/in-memory-cache.js).
 */
import { ALL_TAG } from "../tags.ts";
import type { CacheStore } from "../types.ts";
import { entryFromJson, entryToJson, type JsonEntry } from "./codec.ts";

/** What this store uses of `getCache()`'s `RuntimeCache` (structurally, so no platform import). */
export interface RuntimeCacheLike {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown, options?: { ttl?: number; tags?: string[] }): Promise<void>;
  delete(key: string): Promise<void>;
  /** Expires every entry carrying one of the tags. Without it, the store cannot purge by tag. */
  expireTag?(tag: string | string[]): Promise<void>;
}

export interface VercelRuntimeCacheStoreOptions {
  /**
   * The cache: `getCache({ namespace: "postcache", keyHashFunction: runtimeCacheKeyHash })`. Create
   * it with that hash: `getCache`'s default key hash is a 32-bit djb2, whose collisions would serve
   * one request's answer to another.
   */
  cache: RuntimeCacheLike;
  /**
   * Largest serialised item, in bytes; larger entries are not stored. Default 2,000,000: "The maximum
   * size of an item in the cache is 2 MB. Items larger than this will not be cached."
   * (https://vercel.com/docs/infrastructure/data-cache/limits-and-pricing), read as decimal MB to stay
   * under either reading. Bodies are base64 in JSON, so bodies above ~1.5 MB never fit.
   */
  maxItemBytes?: number;
  /** The clock, in ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

export const DEFAULT_RUNTIME_CACHE_MAX_ITEM_BYTES = 2_000_000;
/** Same limits page: at most 64 tags per item, each at most 256 bytes (as sent, see `runtimeCacheTag`). */
const MAX_TAGS = 64;
const MAX_TAG_BYTES = 256;
const NAME = "vercel-runtime-cache";

/**
 * The key hash to give `getCache`: injective (our keys already carry a SHA-256, so no second hash is
 * wanted) and URL-safe, because the deployed client appends the hashed key to its endpoint URL as it is
 * (`fetch(\`${endpoint}${key}\`)` in @vercel/functions' cache/build-client.js) and our keys are URLs.
 */
export const runtimeCacheKeyHash = (key: string): string => encodeURIComponent(key);

/** Characters a tag keeps as they are: they survive a comma-joined header and a URL query unchanged. */
const TAG_SAFE = /^[A-Za-z0-9_.:/@-]$/;

/**
 * The tag as given to the Runtime Cache. The deployed client sends an item's tags comma-joined in one
 * header, and `expireTag`'s tags unencoded in a URL query (`revalidate?tags=${tag}`, cache/build-client.js;
 * encoding them was tried and reverted, CHANGELOG "Revert URL encode cache tags"). So every character
 * outside `TAG_SAFE` (`,` `&` `#` `%` `+` `=` `?`, non-ASCII...) becomes `~` and its UTF-8 bytes in hex,
 * `~` included: one-to-one, and `product:42` stays `product:42`.
 */
export function runtimeCacheTag(tag: string): string {
  let out = "";
  for (const char of tag) {
    if (TAG_SAFE.test(char)) out += char;
    else for (const byte of encoder.encode(char)) out += `~${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** What is stored under a key: the entry, and when it expires on the store's clock. */
interface StoredItem {
  expiresAt: number;
  entry: JsonEntry;
}

const encoder = new TextEncoder();

/**
 * @example
 * import { getCache } from "@vercel/functions";
 * const store = vercelRuntimeCacheStore({
 *   cache: getCache({ namespace: "postcache", keyHashFunction: runtimeCacheKeyHash }),
 * });
 */
export function vercelRuntimeCacheStore(options: VercelRuntimeCacheStoreOptions): CacheStore {
  const { cache } = options;
  if (!cache || typeof cache.get !== "function" || typeof cache.set !== "function") {
    throw new TypeError(`[postcache] [${NAME}] option "cache" must be a Runtime Cache from getCache()`);
  }
  const maxItemBytes = options.maxItemBytes ?? DEFAULT_RUNTIME_CACHE_MAX_ITEM_BYTES;
  if (!Number.isSafeInteger(maxItemBytes) || maxItemBytes < 1) {
    throw new TypeError(`[postcache] [${NAME}] option "maxItemBytes" must be a positive integer (got ${maxItemBytes})`);
  }
  const now = options.now ?? Date.now;

  async function read(key: string): Promise<StoredItem | undefined> {
    const item = (await cache.get(key)) as StoredItem | null | undefined;
    if (item === null || item === undefined) return undefined;
    if (typeof item !== "object" || !Number.isFinite(item.expiresAt)) {
      throw new TypeError(`[postcache] [${NAME}] stored value is not a postcache entry`);
    }
    return item;
  }

  const store: CacheStore = {
    name: NAME,
    async get(key) {
      const item = await read(key);
      // The backend's own TTL runs on its clock; ours decides, so a controlled clock works too.
      if (!item || item.expiresAt <= now()) return undefined;
      return entryFromJson(item.entry, NAME);
    },
    async set(key, entry, ttlSeconds) {
      if (ttlSeconds <= 0) return;
      const item: StoredItem = { expiresAt: now() + ttlSeconds * 1000, entry: entryToJson(entry) };
      // Measure without building the whole JSON string twice: base64 needs no escaping.
      const size =
        encoder.encode(JSON.stringify({ ...item, entry: { ...item.entry, body64: "" } })).byteLength + item.entry.body64.length;
      if (size > maxItemBytes) return;
      // ALL_TAG first, so "purge everything" reaches every entry even past the 64-tag limit.
      const given = new Set(entry.tags ?? []);
      const ordered = given.delete(ALL_TAG) ? [ALL_TAG, ...given] : [...given];
      const tags = ordered
        .filter((tag) => tag !== "")
        .map(runtimeCacheTag)
        .filter((tag) => tag.length <= MAX_TAG_BYTES)
        .slice(0, MAX_TAGS);
      // `ttl` is whole seconds.
      await cache.set(key, item, { ttl: Math.ceil(ttlSeconds), ...(tags.length ? { tags } : {}) });
    },
    async delete(key) {
      // The Runtime Cache's delete does not say whether something was there: ask first.
      const existed = (await read(key).catch(() => undefined)) !== undefined;
      await cache.delete(key);
      return existed;
    },
  };
  const expireTag = cache.expireTag?.bind(cache);
  if (expireTag) {
    store.deleteTag = async (tag) => {
      const sent = runtimeCacheTag(tag);
      // Never attached to an entry (see `set`), so nothing carries it.
      if (tag === "" || sent.length > MAX_TAG_BYTES) return 0;
      // Deployed, Vercel expires the tag in every region within moments, and the client only logs a
      // failure (cache/build-client.js): how many entries it reached is not known here.
      await expireTag(sent);
      return -1;
    };
  }
  return store;
}
