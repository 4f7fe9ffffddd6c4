/**
 * Vercel Routing Middleware (Edge runtime): `export default postcacheVercel({ origin })` in
 * `middleware.ts` (https://vercel.com/docs/routing-middleware/api). Entries live in Vercel's Runtime
 * Cache, per region (https://vercel.com/docs/caching/runtime-cache).
 *
 * Middleware cannot read the answer of the route it continues to (`next()` only tells the platform to
 * go on), so to cache an answer the middleware fetches it itself:
 * - with `origin` (ORIGIN), every request is forwarded there, GETs included: postcache is the whole
 *   front of the deployment. `origin` must not be this deployment's own URL, or each forwarded request
 *   re-enters the middleware (Vercel stops the loop with a 508, INFINITE_LOOP_DETECTED).
 * - without it, POST and QUERY are fetched from the request's own URL, marked with `x-postcache-subrequest`
 *   so that the middleware, entered again by that fetch, steps aside with `next()`. Unsafe methods (PUT,
 *   PATCH, DELETE...) are fetched the same way when they may invalidate (RFC 9111 §4.4 needs their
 *   status); GET, HEAD and OPTIONS go straight on with `next()`. The mark only makes a request skip the cache.
 */
import { getCache, next, waitUntil } from "@vercel/functions";
import { createPostcache, type PostcacheOptions } from "../core/index.ts";
import { runtimeCacheKeyHash, vercelRuntimeCacheStore } from "../core/stores/vercel-runtime-cache.ts";
import type { CacheStore, Fetcher, RequestContext } from "../core/types.ts";
import { originFetcher, retarget } from "./origin.ts";

export interface VercelOptions extends PostcacheOptions {
  /**
   * Where requests go: an absolute URL such as `https://api.example.com`, typically
   * `process.env.ORIGIN` (environment variables reach Edge middleware through `process.env`). Default:
   * none, meaning the deployment's own routes behind the middleware (see above).
   */
  origin?: string | undefined;
  /** Where entries live. Default: the Runtime Cache, namespace `namespace`, created once per isolate. */
  store?: CacheStore | undefined;
  /** Runtime Cache namespace (a key prefix). Default `postcache`. */
  namespace?: string | undefined;
}

/**
 * Default `originTimeoutMs` on Vercel: middleware must begin its response within 25 s
 * (https://vercel.com/docs/edge-middleware/limitations), so postcache's own timeout comes first and
 * `staleIfError` can still answer with a stale copy.
 */
export const VERCEL_ORIGIN_TIMEOUT_MS = 20_000;

/** Marks the middleware's own subrequests to this deployment, so the middleware lets them through. */
export const SUBREQUEST_HEADER = "x-postcache-subrequest";
/** RFC 9110 §9.2.1: methods that change nothing, so neither cached nor invalidating. */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);
const CACHED_METHODS = new Set(["POST", "QUERY"]);

/**
 * @example
 * // middleware.ts
 * export default postcacheVercel({ origin: process.env.ORIGIN, rules: [{ match: "/search", ttl: 300 }] });
 * export const config = { matcher: "/:path*" };
 */
export function postcacheVercel({
  origin,
  store,
  namespace = "postcache",
  ...options
}: VercelOptions = {}): (request: Request, context?: RequestContext) => Promise<Response> {
  const postcache = createPostcache({ originTimeoutMs: VERCEL_ORIGIN_TIMEOUT_MS, ...options });
  // Whether a successful write can purge anything: then postcache must see its answer.
  const invalidates = postcache.options.uriInvalidation || postcache.options.rules.some((r) => r.invalidates.length > 0);
  const fetcher: Fetcher = origin ? originFetcher(origin) : selfFetcher;
  // `getCache` finds the deployed Runtime Cache (request context or environment), or an in-memory fallback
  // outside Vercel. Our keys already end in a SHA-256, and the default 32-bit djb2 key hash could
  // make two requests share one entry: pass an injective hash instead.
  const cacheStore = () =>
    (store ??= vercelRuntimeCacheStore({ cache: getCache({ namespace, keyHashFunction: runtimeCacheKeyHash }) }));

  return async (request, context) => {
    const method = request.method.toUpperCase();
    const ours = CACHED_METHODS.has(method) || (invalidates && !SAFE_METHODS.has(method));
    if (!origin && (request.headers.has(SUBREQUEST_HEADER) || !ours)) {
      return next();
    }
    // The middleware's second argument carries `waitUntil`; `waitUntil` from @vercel/functions reads the
    // same request context from a global, for callers that do not pass it on.
    const keepAlive = (promise: Promise<unknown>) => void (context?.waitUntil ? context.waitUntil(promise) : waitUntil(promise));
    return postcache.handle(request, cacheStore(), fetcher, { waitUntil: keepAlive });
  };
}

/** Fetches the request's own URL again, marked so the middleware lets it through to the route. */
const selfFetcher: Fetcher = (request) => {
  const headers = new Headers(request.headers);
  headers.set(SUBREQUEST_HEADER, "1");
  return fetch(retarget(request, request.url, headers));
};
