/**
 * Cloudflare Workers (module syntax): `export default postcacheCloudflare({ ... })`.
 * Entries live in the data centre's Cache API (`caches.default`, or `caches.open(cacheStorageName)`);
 * cache writes finish in `ctx.waitUntil` after the answer is sent.
 * https://developers.cloudflare.com/workers/runtime-apis/handlers/fetch/
 */
import { createPostcache, type PostcacheOptions } from "../core/index.ts";
import { type CacheLike, cacheApiStore } from "../core/stores/cache-api.ts";
import type { CacheStore, Fetcher } from "../core/types.ts";
import { originFetcher } from "./origin.ts";

export interface CloudflareOptions extends PostcacheOptions {
  /**
   * The origin as an absolute URL, used when the `ORIGIN` variable is not set. Default: none, so
   * requests go on with `fetch(request)`, which on a Worker route reaches the zone's own origin
   * (https://developers.cloudflare.com/workers/runtime-apis/fetch/).
   */
  origin?: string | undefined;
  /**
   * Open this named cache (`caches.open(name)`) instead of `caches.default`, to keep postcache's
   * entries apart from the zone's. Default: `caches.default`.
   * https://developers.cloudflare.com/workers/runtime-apis/cache/#accessing-cache
   */
  cacheStorageName?: string | undefined;
  /** Where entries live. Default: the Cache API, as above. */
  store?: CacheStore | undefined;
}

/** The Worker's bindings postcache reads (`[vars]` in wrangler.toml). */
export interface CloudflareEnv {
  /** Absolute URL of the origin; overrides the `origin` option. */
  ORIGIN?: string | undefined;
}

/**
 * The part of the Worker's `ctx` postcache uses. Declared here so that a consumer's tsc needs no
 * @cloudflare/workers-types; its `ExecutionContext` fits.
 */
export interface CloudflareContext {
  waitUntil(promise: Promise<unknown>): void;
}

/** `caches` on Workers: the default cache and named ones (https://developers.cloudflare.com/workers/runtime-apis/cache/). */
interface CloudflareCaches {
  readonly default: CacheLike;
  open(name: string): Promise<CacheLike>;
}

/** A module Worker: the object `export default` gives the runtime. */
export interface CloudflareWorker {
  fetch(request: Request, env: CloudflareEnv, ctx: CloudflareContext): Promise<Response>;
}

/**
 * @example
 * // worker.ts — wrangler.toml: main = "worker.ts", [vars] ORIGIN = "https://origin.example.com"
 * export default postcacheCloudflare({ exclude: ["/admin/*"], defaultTtl: 300 });
 */
export function postcacheCloudflare({ origin, cacheStorageName, store, ...options }: CloudflareOptions = {}): CloudflareWorker {
  // One engine per isolate: its in-flight map collapses identical concurrent misses.
  const postcache = createPostcache(options);
  const cacheStore =
    store ??
    cacheApiStore({
      // Looked up on first use, so the module also loads where `caches` is absent (tests, tooling).
      cache: () => {
        const storage = (globalThis as unknown as { caches: CloudflareCaches }).caches;
        return cacheStorageName ? storage.open(cacheStorageName) : storage.default;
      },
      onError: options.onError,
    });
  const direct: Fetcher = (request) => fetch(request);
  // ORIGIN is fixed per deployment: build its fetcher once (a bad `origin` option throws here).
  let memo: { url: string; fetcher: Fetcher } | undefined = origin ? { url: origin, fetcher: originFetcher(origin) } : undefined;
  function fetcherFor(env: CloudflareEnv | undefined): Fetcher {
    const url = env?.ORIGIN || origin;
    if (!url) return direct;
    if (memo?.url !== url) memo = { url, fetcher: originFetcher(url) };
    return memo.fetcher;
  }

  return {
    fetch(request, env, ctx) {
      return postcache.handle(request, cacheStore, fetcherFor(env), { waitUntil: (p) => ctx.waitUntil(p) });
    },
  };
}
