/**
 * Deno server: `export default postcacheDeno({ origin })` for `deno serve`, or
 * `Deno.serve(postcacheDeno({ origin }).fetch)`. Entries live in Deno's Cache API by default.
 */
import { createPostcache, type PostcacheOptions } from "../core/index.ts";
import { cacheApiStore } from "../core/stores/cache-api.ts";
import type { CacheStore } from "../core/types.ts";
import { originFetcher } from "./origin.ts";

export interface DenoOptions extends PostcacheOptions {
  /** Where requests go: an absolute URL such as `http://127.0.0.1:3000`. */
  origin: string;
  /**
   * Where entries live. Default: Deno's Cache API, `caches.open(cacheStorageName)`
   * (https://docs.deno.com/api/web/~/CacheStorage). Deno 2.8 keeps it in SQLite under the system temp
   * directory (`deno info`: "Web cache storage"), one per main module or `--location`, so it outlives
   * a restart. Deno never expires its entries: the store checks expiry itself. Pass `memoryStore()` for a per-process cache instead.
   */
  store?: CacheStore | undefined;
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
export function postcacheDeno({ origin, store, cacheStorageName = "postcache", ...options }: DenoOptions): DenoServeExport {
  const postcache = createPostcache(options);
  const entries = store ?? cacheApiStore({ cache: () => caches.open(cacheStorageName), onError: options.onError });
  // Deno's fetch decodes gzip/br bodies and drops Content-Encoding with them, so what is stored is
  // consistent: a decoded body without an encoding header.
  const fetcher = originFetcher(origin);
  // A long-lived process: background cache writes finish on their own, no waitUntil needed.
  return { fetch: (request) => postcache.handle(request, entries, fetcher) };
}
