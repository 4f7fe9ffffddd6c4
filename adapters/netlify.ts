/**
 * Netlify Edge Functions: `export default postcacheNetlify()` in `netlify/edge-functions/<name>.ts`.
 * The origin is what the site serves behind the edge function (`context.next()`), or `ORIGIN`.
 * Entries live in Netlify's Cache API, per region.
 */
import { createPostcache, type PostcacheOptions } from "../core/index.ts";
import { cacheApiStore } from "../core/stores/cache-api.ts";
import type { CacheStore, Fetcher } from "../core/types.ts";
import { originFetcher } from "./origin.ts";

export interface NetlifyOptions extends PostcacheOptions {
  /**
   * Where requests go: an absolute URL such as `https://api.example.com`. Default: the `ORIGIN`
   * environment variable (`Netlify.env.get`; set it in the Netlify UI or CLI with the Functions scope,
   * not in `netlify.toml`: https://docs.netlify.com/build/edge-functions/environment-variables) when
   * set, else `context.next()`: whatever the site serves at that path behind the edge function, such
   * as a proxy rule in `netlify.toml` (https://docs.netlify.com/build/edge-functions/api/).
   */
  origin?: string | undefined;
  /**
   * Where entries live. Default: the Cache API, `caches.open(cacheStorageName)`
   * (https://docs.netlify.com/platform/cache-api/), whose entries are per region and are not
   * replicated across regions.
   */
  store?: CacheStore | undefined;
  /** Name of the Cache API cache used by the default store. Default `postcache`. */
  cacheStorageName?: string | undefined;
}

/**
 * The part of Netlify's `Context` postcache uses (https://docs.netlify.com/build/edge-functions/api/).
 * Declared here so that a consumer's tsc needs no @netlify/edge-functions; its `Context` fits.
 */
export interface NetlifyContext {
  next(request?: Request): Promise<Response>;
  waitUntil?(promise: Promise<unknown>): void;
}

/** Netlify's runtime global, `Netlify.env` (https://docs.netlify.com/build/edge-functions/api/#netlify-global-object). */
interface NetlifyGlobal {
  env: { get(name: string): string | undefined };
}

/**
 * Default `originTimeoutMs` on Netlify: its proxy gives up on an origin at about 26 s
 * (https://docs.netlify.com/manage/routing/redirects/rewrites-proxies/), so postcache's own timeout
 * comes first and `staleIfError` can still answer with a stale copy.
 */
export const NETLIFY_ORIGIN_TIMEOUT_MS = 20_000;

/** An edge function: `(request, context) => Response`. */
export type NetlifyEdgeFunction = (request: Request, context: NetlifyContext) => Promise<Response>;

/**
 * @example
 * // netlify/edge-functions/postcache.ts
 * import type { Config } from "@netlify/edge-functions";
 * export default postcacheNetlify({ exclude: ["/admin/*"] });
 * export const config: Config = { path: "/api/*" };
 */
export function postcacheNetlify({
  origin,
  store,
  cacheStorageName = "postcache",
  ...options
}: NetlifyOptions = {}): NetlifyEdgeFunction {
  const postcache = createPostcache({ originTimeoutMs: NETLIFY_ORIGIN_TIMEOUT_MS, ...options });
  // Netlify's Cache API works only inside a request handler (https://ntl.fyi/cache-api-scope): the
  // store opens the cache on first use, in a request, never at import.
  const entries = store ?? cacheApiStore({ cache: () => caches.open(cacheStorageName), onError: options.onError });
  // An explicit origin is checked now; `ORIGIN` is read at the first request (`Netlify` is a runtime global).
  let explicit = origin === undefined ? undefined : originFetcher(origin);
  let envChecked = origin !== undefined;
  return (request, context) => {
    if (!envChecked) {
      const fromEnv = (globalThis as { Netlify?: NetlifyGlobal }).Netlify?.env.get("ORIGIN");
      explicit = fromEnv ? originFetcher(fromEnv) : undefined;
      envChecked = true;
    }
    // A request passed through untouched goes on as Netlify received it (`context.next()`); one we
    // rebuilt (its body was read to hash it) goes on as `context.next(rebuilt)`, which must keep the
    // site's own host (https://ntl.fyi/edge-rewrite-external).
    const fetcher: Fetcher = explicit ?? ((forwarded) => (forwarded === request ? context.next() : context.next(forwarded)));
    // Netlify's edge runtime implements `waitUntil` as a fire-and-forget (edge-functions-bootstrap): it
    // keeps nothing alive. So a miss's cache write finishes before the response's last chunk is released.
    return postcache.handle(request, entries, fetcher, {
      waitUntil: (promise) => context.waitUntil?.(promise),
      storeBeforeResponseEnds: true,
    });
  };
}
