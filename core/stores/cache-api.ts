/**
 * Cache API store: entries in a Web `Cache` — `caches.default` on Cloudflare and EdgeOne,
 * `caches.open(name)` on Netlify and Deno; Web standards only.
 *
 * The platforms' Cache APIs disagree on what they take, so every entry is stored the one way they all
 * accept: a plain `200` under the GET URL key, with `Cache-Control: public, max-age, s-maxage`, no
 * `Set-Cookie`, no `Vary`. The body is the codec's framed entry (`encodeEntry`: metadata then the
 * origin's body), so the real status, headers, freshness, vary and tags travel byte for byte in the
 * body, where no platform rewrites them and no header size limit applies. Quirks this avoids:
 * - Cloudflare: `put` throws for non-GET keys, 206 and `Vary: *`; silently skips `Set-Cookie`,
 *   `no-store`, `private` and responses without `Cache-Control`
 *   (https://developers.cloudflare.com/workers/runtime-apis/cache/).
 * - Netlify: `put` throws for non-2xx and needs `max-age`/`s-maxage`
 *   (https://docs.netlify.com/platform/cache-api/).
 * - EdgeOne: TTL comes from `s-maxage`; `put` resolves whether or not it stored; `match` THROWS
 *   (a 504) for an expired entry (https://edgeone.ai/document/52684): a throwing `match` is a miss.
 * - Deno: its caches never expire anything, so the expiry time rides in `x-postcache-expires` and is
 *   checked on this store's clock; an expired entry is deleted when read.
 * Tags also go in `Cache-Tag`, so Cloudflare's purge by tag reaches entries in every data centre.
 *
 * Purge by tag: the Cache API has neither tags nor a way to list what it holds, so the store keeps a tag
 * index in the cache itself: per origin and tag one entry, `<origin>/.postcache/v1/tag/<sha256 hex of the
 * tag>`, listing the keys that carry the tag and when each expires. A write adds its key to its tags'
 * indexes after storing the entry; `deleteTag` deletes the keys its index lists, each only if the entry
 * stored there still carries the tag (`x-postcache-tags`), so an overwrite needs no index update.
 * - An index update is a read-modify-write. Within one isolate updates to an index are queued (and
 *   batched), so none is lost; two isolates (or data centres' worth of instances) writing the same tag
 *   at once can lose one's update: that entry then escapes a purge of the tag until it expires.
 * - An index lists at most `maxTagIndexKeys` keys; past that, the keys that expire soonest leave it, and
 *   live on unpurgeable by that tag until they expire. `ALL_TAG` is indexed like any tag, so "purge
 *   everything" reaches at most that many entries per origin.
 * - The platform may evict an index before its entries; they then live until they expire.
 * - Indexes live under the entries' own origin (Cloudflare: "use the hostname that matches the domain
 *   associated with your Worker"), and `deleteTag` is told no origin: it visits the origins this store
 *   has read or written in this isolate, and those in the `origins` option.
 * - Like every Cache API operation, a purge reaches one data centre or node (Cloudflare, EdgeOne).
 */
import { KEY_PATH, toHex } from "../key.ts";
import type { CacheStore } from "../types.ts";
import { decodeEntry, encodeEntry } from "./codec.ts";

/** The part of the Web `Cache` interface this store uses; `caches.default` and `caches.open()` fit. */
export interface CacheLike {
  match(key: string): Promise<Response | undefined>;
  put(key: string, response: Response): Promise<void>;
  delete(key: string): Promise<boolean>;
}

export interface CacheApiStoreOptions {
  /**
   * The cache, or a function returning it (or a promise of it), called on first use and remembered:
   * `() => caches.default` (Cloudflare, EdgeOne) or `() => caches.open("postcache")` (Netlify, Deno).
   * Required. A getter keeps platform objects out of module scope, where some runtimes forbid I/O.
   */
  cache: CacheLike | (() => CacheLike | Promise<CacheLike>);
  /** The clock, in ms since the epoch, against which entries expire. Default `Date.now`. */
  now?: () => number;
  /**
   * Told when `cache.match` throws (`where`: `cache-api.match` for an entry, `cache-api.index` for a tag
   * index). Such a read is a miss, not an error, because EdgeOne's `match` throws for every expired entry
   * (https://edgeone.ai/document/52684): expect those there. Default: nothing.
   */
  onError?: (error: unknown, where: string) => void;
  /**
   * Most keys one tag's index lists (see above); past it, the keys that expire soonest drop out. Each
   * tagged write reads and rewrites its tags' indexes (about 100 bytes a key), and a purge makes two
   * Cache API calls per listed key: where those count toward a per-request subrequest limit (reported
   * for Cloudflare: 50 on Free, https://developers.cloudflare.com/workers/platform/limits/), a purge
   * past it is cut short and the next one goes on. `0` keeps no index: no purge by tag. Default 1000.
   */
  maxTagIndexKeys?: number;
  /**
   * Origins whose tag indexes `deleteTag` visits besides those this store has seen in this isolate, e.g.
   * `["https://api.example.com"]`: set it when purges may reach an isolate that has served nothing yet,
   * where `deleteTag` otherwise rejects. Default: none.
   */
  origins?: string[];
}

export interface CacheApiStore extends CacheStore {
  /** Present unless `maxTagIndexKeys` is 0. Purges under `hint.origin` and every origin this store has
   * seen; rejects when it knows none (see `origins`). */
  deleteTag?(tag: string, hint?: { origin: string }): Promise<number>;
}

const STORE = "cache-api";
/** Expiry in ms since the epoch on the store's clock: Deno keeps entries forever (see above). */
export const EXPIRES_HEADER = "x-postcache-expires";
/** The tags an entry carries, comma-separated: what a purge checks before it deletes. */
export const TAGS_HEADER = "x-postcache-tags";
/** A tag that fits a comma-separated `Cache-Tag` list: visible ASCII, no comma. */
const TAG = /^[\x21-\x2b\x2d-\x7e]+$/;
/** Where tag indexes live under an origin. */
export const TAG_INDEX_PATH = `${KEY_PATH}tag/`;
export const DEFAULT_MAX_TAG_INDEX_KEYS = 1000;
/** Origins remembered per isolate, so a Worker on a wildcard route cannot grow the set without bound. */
const MAX_ORIGINS = 100;
/** Cache API calls a purge keeps in flight: Cloudflare allows six simultaneous connections per request. */
const PURGE_PARALLEL = 6;
const encoder = new TextEncoder();

/** One index's queue: its last operation, and an add batch not yet started that new adds join. */
interface IndexQueue {
  tail: Promise<unknown>;
  batch?: Map<string, number>;
  batchDone?: Promise<void>;
}

/**
 * @example
 * // Cloudflare Workers / EdgeOne
 * const store = cacheApiStore({ cache: () => caches.default });
 * // Netlify Edge Functions / Deno
 * const store = cacheApiStore({ cache: () => caches.open("postcache") });
 */
export function cacheApiStore(options: CacheApiStoreOptions): CacheApiStore {
  const source = options?.cache;
  if (!isCache(source) && typeof source !== "function") {
    throw new TypeError(`[postcache] [${STORE}] option "cache" must be a Cache or a function returning one`);
  }
  const now = options.now ?? Date.now;
  const onError = options.onError ?? (() => {});
  const maxIndexKeys = options.maxTagIndexKeys ?? DEFAULT_MAX_TAG_INDEX_KEYS;
  if (!Number.isSafeInteger(maxIndexKeys) || maxIndexKeys < 0) {
    throw new TypeError(`[postcache] [${STORE}] option "maxTagIndexKeys" must be a whole number >= 0 (got ${maxIndexKeys})`);
  }
  const origins = new Set<string>();
  for (const value of options.origins ?? []) {
    const origin = originOf(String(value));
    if (!origin) throw new TypeError(`[postcache] [${STORE}] option "origins" must hold http(s) origins (got ${value})`);
    origins.add(origin);
  }
  const queues = new Map<string, IndexQueue>();
  let opened: Promise<CacheLike> | undefined;

  function cache(): Promise<CacheLike> {
    opened ??= (async () => {
      const value = isCache(source) ? source : await source();
      if (!isCache(value)) throw new TypeError(`[postcache] [${STORE}] option "cache" did not give a Cache`);
      return value;
    })().catch((error) => {
      opened = undefined; // try again on the next call
      throw error;
    });
    return opened;
  }

  /** Notes the key's origin (bounded), and returns it. */
  function learn(key: string): string | undefined {
    const origin = originOf(key);
    if (origin && origins.size < MAX_ORIGINS) origins.add(origin);
    return origin;
  }

  /** Runs `operation` on the index at `indexKey` after every operation queued on it before. */
  function queued<T>(indexKey: string, operation: () => Promise<T>, exclusive = false): Promise<T> {
    const queue = queues.get(indexKey) ?? { tail: Promise.resolve() };
    queues.set(indexKey, queue);
    // Adds after an exclusive operation wait for it, in a batch of their own.
    if (exclusive) queue.batch = undefined;
    const run = queue.tail.then(operation, operation);
    queue.tail = run;
    const settled = () => {
      if (queues.get(indexKey)?.tail === run) queues.delete(indexKey);
    };
    run.then(settled, settled);
    return run;
  }

  /** Lists `key` (expiring at `expiresAt`) in the index at `indexKey`, batched with adds queued meanwhile. */
  function addToIndex(c: CacheLike, indexKey: string, key: string, expiresAt: number): Promise<void> {
    const pending = queues.get(indexKey);
    if (pending?.batch && pending.batchDone) {
      pending.batch.set(key, Math.max(expiresAt, pending.batch.get(key) ?? 0));
      return pending.batchDone;
    }
    const batch = new Map([[key, expiresAt]]);
    const done = queued(indexKey, async () => {
      const queue = queues.get(indexKey);
      if (queue?.batch === batch) queue.batch = undefined; // started: later adds form the next batch
      const items = await readIndex(c, indexKey);
      for (const [k, at] of batch) items.set(k, Math.max(at, items.get(k) ?? 0));
      await writeIndex(c, indexKey, items);
    });
    const queue = queues.get(indexKey);
    if (queue) {
      queue.batch = batch;
      queue.batchDone = done;
    }
    return done;
  }

  /** The index's live items: key → expiry on our clock. A missing, foreign or expired index is empty. */
  async function readIndex(c: CacheLike, indexKey: string): Promise<Map<string, number>> {
    const items = new Map<string, number>();
    let response: Response | undefined;
    try {
      response = await c.match(indexKey);
    } catch (error) {
      onError(error, `${STORE}.index`); // EdgeOne: an expired index throws too
      return items;
    }
    if (!response) return items;
    if (response.status !== 200 || !(Number(response.headers.get(EXPIRES_HEADER)) > now())) {
      await response.body?.cancel();
      return items;
    }
    const at = now();
    for (const line of (await response.text()).split("\n")) {
      const space = line.indexOf(" ");
      const expiresAt = Number(line.slice(0, space));
      if (space > 0 && expiresAt > at) items.set(line.slice(space + 1), expiresAt);
    }
    return items;
  }

  /** Stores the index, the `maxIndexKeys` longest-lived items at most; an empty index is deleted. */
  async function writeIndex(c: CacheLike, indexKey: string, items: Map<string, number>): Promise<void> {
    const at = now();
    let live = [...items].filter(([, expiresAt]) => expiresAt > at);
    if (live.length > maxIndexKeys) live = live.sort((a, b) => b[1] - a[1]).slice(0, maxIndexKeys);
    if (live.length === 0) {
      await c.delete(indexKey);
      return;
    }
    const lastExpiry = Math.max(...live.map(([, expiresAt]) => expiresAt));
    const seconds = Math.max(1, Math.ceil((lastExpiry - at) / 1000));
    const body = live.map(([key, expiresAt]) => `${expiresAt} ${key}\n`).join("");
    await c.put(
      indexKey,
      new Response(body, {
        status: 200,
        headers: {
          "content-type": "text/plain; charset=utf-8",
          "cache-control": `public, max-age=${seconds}, s-maxage=${seconds}`,
          [EXPIRES_HEADER]: String(lastExpiry),
        },
      }),
    );
  }

  /** Deletes `key` if the entry there still carries `tag`; true if it did and the entry was live. */
  async function purgeKey(c: CacheLike, key: string, tag: string): Promise<boolean> {
    let response: Response | undefined;
    try {
      response = await c.match(key);
    } catch (error) {
      onError(error, `${STORE}.match`);
      return false;
    }
    if (!response) return false;
    await response.body?.cancel();
    const carries = response.status === 200 && (response.headers.get(TAGS_HEADER) ?? "").split(",").includes(tag);
    if (!carries) return false;
    const live = Number(response.headers.get(EXPIRES_HEADER)) > now();
    return (await c.delete(key)) && live;
  }

  /** Purges what the index at `indexKey` lists; on a failure what is left is written back for the next purge. */
  async function purgeIndex(c: CacheLike, indexKey: string, tag: string): Promise<number> {
    const items = await readIndex(c, indexKey);
    let removed = 0;
    try {
      const keys = [...items.keys()];
      for (let i = 0; i < keys.length; i += PURGE_PARALLEL) {
        const slice = keys.slice(i, i + PURGE_PARALLEL);
        const results = await Promise.all(slice.map((key) => purgeKey(c, key, tag)));
        removed += results.filter(Boolean).length;
        for (const key of slice) items.delete(key);
      }
    } catch (error) {
      await writeIndex(c, indexKey, items).catch(() => {});
      throw error;
    }
    await c.delete(indexKey);
    return removed;
  }

  const store: CacheApiStore = {
    name: STORE,
    async get(key) {
      learn(key);
      const c = await cache();
      let response: Response | undefined;
      try {
        response = await c.match(key);
      } catch (error) {
        onError(error, `${STORE}.match`);
        return undefined;
      }
      if (!response) return undefined;
      // Only our own synthetic 200s are entries; a 206/304 would come from a Range or conditional match.
      if (response.status !== 200) {
        await response.body?.cancel();
        return undefined;
      }
      const expires = Number(response.headers.get(EXPIRES_HEADER));
      if (!Number.isFinite(expires) || expires <= 0) {
        await response.body?.cancel();
        throw new TypeError(`[postcache] [${STORE}] stored response for ${key} has no valid ${EXPIRES_HEADER}`);
      }
      if (expires <= now()) {
        await response.body?.cancel();
        await c.delete(key).catch(() => false);
        return undefined;
      }
      return decodeEntry(new Uint8Array(await response.arrayBuffer()), STORE);
    },
    async set(key, entry, ttlSeconds) {
      const origin = learn(key);
      const c = await cache();
      if (!(ttlSeconds > 0)) {
        await c.delete(key);
        return;
      }
      // Whole seconds for the platform (at least 1); the exact expiry is checked against `now`.
      const seconds = Math.max(1, Math.ceil(ttlSeconds));
      const expiresAt = Math.round(now() + ttlSeconds * 1000);
      const headers = new Headers({
        "content-type": "application/octet-stream",
        "cache-control": `public, max-age=${seconds}, s-maxage=${seconds}`,
        [EXPIRES_HEADER]: String(expiresAt),
      });
      // Cloudflare purges Cache API entries by `Cache-Tag` in every data centre, where `delete` reaches
      // only one (https://developers.cloudflare.com/workers/runtime-apis/cache/#headers).
      const tags = [...new Set(entry.tags?.filter((tag) => TAG.test(tag)))];
      if (tags.length) {
        headers.set("cache-tag", tags.join(","));
        headers.set(TAGS_HEADER, tags.join(","));
      }
      await c.put(key, new Response(encodeEntry(entry) as Uint8Array<ArrayBuffer>, { status: 200, headers }));
      // Indexed after the put: a purge that runs in between finds the entry once it is listed, by the
      // next purge at the latest; the other order could list it, purge, then store it unlisted.
      if (maxIndexKeys === 0 || !origin || tags.length === 0) return;
      await Promise.all(tags.map(async (tag) => addToIndex(c, await indexKey(origin, tag), key, expiresAt)));
    },
    async delete(key) {
      learn(key);
      return (await cache()).delete(key);
    },
  };
  if (maxIndexKeys === 0) return store;
  store.deleteTag = async (tag, hint) => {
    if (!TAG.test(tag)) return 0; // never indexed, never in a Cache-Tag list
    if (hint?.origin) learn(`${hint.origin}/`);
    if (origins.size === 0) {
      throw new Error(
        `[postcache] [${STORE}] cannot purge tag "${tag}": no origin known in this isolate yet; set option "origins"`,
      );
    }
    const c = await cache();
    let removed = 0;
    for (const origin of origins) {
      const at = await indexKey(origin, tag);
      removed += await queued(at, () => purgeIndex(c, at, tag), true);
    }
    return removed;
  };
  return store;
}

/** Where the index of `tag` lives under `origin`. */
async function indexKey(origin: string, tag: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(tag));
  return `${origin}${TAG_INDEX_PATH}${toHex(new Uint8Array(digest))}`;
}

/** The http(s) origin of `url`, or undefined. */
function originOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.origin : undefined;
  } catch {
    return undefined;
  }
}

function isCache(value: unknown): value is CacheLike {
  const c = value as CacheLike;
  return (
    typeof c === "object" &&
    c !== null &&
    typeof c.match === "function" &&
    typeof c.put === "function" &&
    typeof c.delete === "function"
  );
}
