/**
 * Tencent EdgeOne, both shapes:
 * - Edge Functions, a service-worker script:
 *   `addEventListener("fetch", (event) => postcache.handleEvent(event))`
 *   (https://edgeone.ai/document/52688, FetchEvent `request`/`respondWith`/`waitUntil`).
 * - Pages Functions, a module under `edge-functions/`: `export const onRequest = postcache.onRequest`
 *   (https://cloud.tencent.com/document/product/1552/127416, context `{ request, params, env, waitUntil }`).
 * Entries live in the node's Cache API (`caches.default`, https://edgeone.ai/document/52684), whose
 * quirks (GET keys only, TTL from `s-maxage`, `match` throwing on expired entries) the Cache API store
 * handles. EdgeOne ships no types package, so the few shapes used are declared here.
 */
import { createPostcache, type PostcacheOptions } from "../core/index.ts";
import { type CacheLike, cacheApiStore } from "../core/stores/cache-api.ts";
import type { CacheStore, Fetcher } from "../core/types.ts";
import { originFetcher } from "./origin.ts";

export interface EdgeOneOptions extends PostcacheOptions {
  /**
   * The origin as an absolute URL, used when no `ORIGIN` environment variable is set. Default: none;
   * Edge Functions then go on with `fetch(request)`, which reaches the site's origin
   * (https://edgeone.ai/document/52688); Pages Functions have no origin of their own and need one.
   */
  origin?: string | undefined;
  /**
   * Open this cache (`caches.open(name)`, a "namespace" in https://edgeone.ai/document/52684) instead of
   * `caches.default`, to keep postcache's entries apart. Default: `caches.default`.
   */
  cacheStorageName?: string | undefined;
  /** Where entries live. Default: the Cache API, as above. */
  store?: CacheStore | undefined;
}

/** The service-worker `FetchEvent` (https://edgeone.ai/document/52688). */
export interface EdgeOneFetchEvent extends Event {
  readonly request: Request;
  respondWith(response: Response | Promise<Response>): void;
  waitUntil(promise: Promise<unknown>): void;
}

/** The Pages Functions context (https://cloud.tencent.com/document/product/1552/127416). */
export interface EdgeOnePagesContext {
  request: Request;
  /** Environment variables set in the console; `ORIGIN` overrides the `origin` option. */
  env?: Record<string, unknown>;
  params?: Record<string, string | string[]>;
  waitUntil(promise: Promise<unknown>): void;
}

interface EdgeOneCaches {
  readonly default: CacheLike;
  open(namespace: string): Promise<CacheLike>;
}

export interface PostcacheEdgeOne {
  /** Edge Functions: answers the event through `respondWith`. */
  handleEvent(event: EdgeOneFetchEvent): void;
  /** Pages Functions: the `onRequest` handler (every method; non-POST requests pass through). */
  onRequest(context: EdgeOnePagesContext): Promise<Response>;
}

/**
 * @example
 * // Edge Functions (service worker)
 * const postcache = postcacheEdgeOne({ defaultTtl: 300 });
 * addEventListener("fetch", (event) => postcache.handleEvent(event as EdgeOneFetchEvent));
 * // Pages Functions: edge-functions/[[default]].ts
 * export const onRequest = postcacheEdgeOne({ defaultTtl: 300 }).onRequest;
 */
export function postcacheEdgeOne({ origin, cacheStorageName, store, ...options }: EdgeOneOptions = {}): PostcacheEdgeOne {
  // One engine per isolate: its in-flight map collapses identical concurrent misses.
  const postcache = createPostcache(options);
  const cacheStore =
    store ??
    cacheApiStore({
      cache: () => {
        const caches = (globalThis as unknown as { caches: EdgeOneCaches }).caches;
        return cacheStorageName ? caches.open(cacheStorageName) : caches.default;
      },
      onError: options.onError,
    });
  // ORIGIN is fixed per deployment: build its fetcher once (a bad `origin` option throws here).
  let memo: { url: string; fetcher: Fetcher } | undefined = origin ? { url: origin, fetcher: originFetcher(origin) } : undefined;
  const fetcherFor = (url: string): Fetcher => {
    if (memo?.url !== url) memo = { url, fetcher: originFetcher(url) };
    return memo.fetcher;
  };

  return {
    handleEvent(event) {
      const url = globalOrigin() ?? origin;
      const fetcher: Fetcher = url ? fetcherFor(url) : (request) => fetch(request);
      event.respondWith(postcache.handle(event.request, cacheStore, fetcher, { waitUntil: (p) => event.waitUntil(p) }));
    },
    async onRequest(context) {
      const url = text(context.env?.ORIGIN) ?? origin;
      if (!url) {
        return new Response("postcache: set the ORIGIN environment variable to the origin's URL\n", {
          status: 500,
          headers: { "content-type": "text/plain; charset=utf-8" },
        });
      }
      return postcache.handle(context.request, cacheStore, fetcherFor(url), { waitUntil: (p) => context.waitUntil(p) });
    },
  };
}

/**
 * Edge Functions read environment variables as globals, `env.NAME`
 * (https://cloud.tencent.com/document/product/1552/109151); a bare global `ORIGIN` is taken too.
 */
function globalOrigin(): string | undefined {
  const scope = globalThis as unknown as { env?: Record<string, unknown>; ORIGIN?: unknown };
  return text(scope.env?.ORIGIN) ?? text(scope.ORIGIN);
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}
