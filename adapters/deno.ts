/**
 * Deno server: `export default postcacheDeno({ origin })` for `deno serve`, or
 * `Deno.serve(postcacheDeno({ origin }).fetch)`. Entries live in Deno's Cache API by default.
 */
import { createPostcache, type PostcacheOptions } from "../core/index.ts";
import { generationalCacheStore } from "../core/stores/cache-generations.ts";
import type { CacheStore } from "../core/types.ts";
import { originFetcher } from "./origin.ts";

export interface DenoOptions extends PostcacheOptions {
  /** Where requests go: an absolute URL such as `http://127.0.0.1:3000`. */
  origin: string;
  /**
   * Where entries live. Default: Deno's Cache API, `caches.open(cacheStorageName)`
   * (https://docs.deno.com/api/web/~/CacheStorage). Deno 2.8 keeps it in SQLite under the system temp
   * directory (`deno info`: "Web cache storage"), one per main module or `--location`, so it outlives
   * a restart. Deno never expires nor evicts its entries, so the store checks expiry itself and keeps
   * the cache bounded by generations (core/stores/cache-generations.ts): at most `maxCacheEntries`
   * entries, about `maxCacheBytes`, each gone at most twice `maxCacheAgeMs` after it was written. Pass
   * `memoryStore()` for a per-process cache instead.
   */
  store?: CacheStore | undefined;
  /** Most entries the default store holds. Default 10,000. */
  maxCacheEntries?: number | undefined;
  /** About the most bytes the default store holds. Default 256 MiB. */
  maxCacheBytes?: number | undefined;
  /** The default store's sweep period, in ms: an entry is gone at most twice this after it was written. Default 24 h. */
  maxCacheAgeMs?: number | undefined;
  /** Name of the Cache API cache used by the default store. Default `postcache`. */
  cacheStorageName?: string | undefined;
}

/** The shape `deno serve` takes as a default export, and whose `fetch` `Deno.serve` takes. */
export interface DenoServeExport {
  fetch(request: Request, info?: unknown): Promise<Response>;
}

/**
 * @example
 * // main.ts, run with: deno serve --allow-net --allow-env=ORIGIN main.ts
 * export default postcacheDeno({ origin: Deno.env.get("ORIGIN") ?? "http://127.0.0.1:3000" });
 */
export function postcacheDeno({
  origin,
  store,
  cacheStorageName = "postcache",
  maxCacheEntries,
  maxCacheBytes,
  maxCacheAgeMs,
  ...options
}: DenoOptions): DenoServeExport {
  const postcache = createPostcache(options);
  const entries =
    store ??
    generationalCacheStore({
      caches: () => caches,
      name: cacheStorageName,
      maxEntries: maxCacheEntries,
      maxBytes: maxCacheBytes,
      maxAgeMs: maxCacheAgeMs,
      onError: options.onError,
    });
  // Deno's fetch decodes gzip/br bodies and drops Content-Encoding with them, so what is stored is
  // consistent: a decoded body without an encoding header.
  const fetcher = originFetcher(origin);
  // A long-lived process: background cache writes finish on their own, no waitUntil needed.
  return { fetch: (request) => postcache.handle(request, entries, fetcher) };
}
