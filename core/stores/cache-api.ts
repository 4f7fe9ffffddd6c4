/**
 * Cache API store: entries in a Web `Cache` — `caches.default` on Cloudflare and EdgeOne,
 * `caches.open(name)` on Netlify and Deno. Web standards only.
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
 */
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
   * Told when `cache.match` throws. Such a read is a miss, not an error, because EdgeOne's `match`
   * throws for every expired entry (https://edgeone.ai/document/52684): expect those there.
   * Default: nothing.
   */
  onError?: (error: unknown, where: string) => void;
}

const STORE = "cache-api";
/** Expiry in ms since the epoch on the store's clock: Deno keeps entries forever (see above). */
export const EXPIRES_HEADER = "x-postcache-expires";
/** A tag that fits a comma-separated `Cache-Tag` list: visible ASCII, no comma. */
const TAG = /^[\x21-\x2b\x2d-\x7e]+$/;

/**
 * @example
 * // Cloudflare Workers / EdgeOne
 * const store = cacheApiStore({ cache: () => caches.default });
 * // Netlify Edge Functions / Deno
 * const store = cacheApiStore({ cache: () => caches.open("postcache") });
 */
export function cacheApiStore(options: CacheApiStoreOptions): CacheStore {
  const source = options?.cache;
  if (!isCache(source) && typeof source !== "function") {
    throw new TypeError(`[postcache] [${STORE}] option "cache" must be a Cache or a function returning one`);
  }
  const now = options.now ?? Date.now;
  const onError = options.onError ?? (() => {});
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

  return {
    name: STORE,
    async get(key) {
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
      const c = await cache();
      if (!(ttlSeconds > 0)) {
        await c.delete(key);
        return;
      }
      // Whole seconds for the platform (at least 1); the exact expiry is checked against `now`.
      const seconds = Math.max(1, Math.ceil(ttlSeconds));
      const headers = new Headers({
        "content-type": "application/octet-stream",
        "cache-control": `public, max-age=${seconds}, s-maxage=${seconds}`,
        [EXPIRES_HEADER]: String(Math.round(now() + ttlSeconds * 1000)),
      });
      // Cloudflare purges Cache API entries by `Cache-Tag` in every data centre, where `delete` reaches
      // only one (https://developers.cloudflare.com/workers/runtime-apis/cache/#headers).
      const tags = entry.tags?.filter((tag) => TAG.test(tag));
      if (tags?.length) headers.set("cache-tag", tags.join(","));
      await c.put(key, new Response(encodeEntry(entry) as Uint8Array<ArrayBuffer>, { status: 200, headers }));
    },
    async delete(key) {
      return (await cache()).delete(key);
    },
  };
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
