/**
 * Hono middleware (`postcache/hono`): `app.use("/api/*", postcache({ ... }))`. The rest of the app is the
 * origin: a miss runs it with `next()`, and its answer is what gets stored. Works wherever Hono does
 * (https://hono.dev/docs/concepts/middleware); `hono` is a peer dependency, used for its types only.
 *
 * - The store defaults to the runtime's Cache API where there is one (`caches.default` on Cloudflare,
 *   `caches.open(cacheStorageName)` elsewhere; on Deno, bounded in generations, as postcache/deno does),
 *   and to an in-memory LRU where there is none (Bun, Node).
 * - `waitUntil` comes from Hono's execution context (`c.executionCtx`), where the runtime gives one.
 * - A request whose body postcache read to key it goes on as `c.req.raw` rebuilt with that body, as
 *   Hono's own bodyLimit middleware does, so the handlers after it read the body as usual.
 */
import type { Context, MiddlewareHandler } from "hono";
import { createPostcache, memoryStore, type PostcacheOptions } from "../core/index.ts";
import { type CacheLike, cacheApiStore } from "../core/stores/cache-api.ts";
import { type CacheStorageLike, generationalCacheStore } from "../core/stores/cache-generations.ts";
import type { CacheStore, Fetcher, RequestContext } from "../core/types.ts";

export interface HonoOptions extends PostcacheOptions {
  /** Where entries live. Default: the runtime's Cache API, else memory (see above). */
  store?: CacheStore | undefined;
  /** The Cache API cache opened where there is no `caches.default`. Default `postcache`. */
  cacheStorageName?: string | undefined;
}

interface Caches extends CacheStorageLike {
  readonly default?: CacheLike;
}

/**
 * @example
 * import { Hono } from "hono";
 * import { postcache } from "postcache/hono";
 * const app = new Hono();
 * app.use("/api/*", postcache({ rules: [{ match: "/api/search", ttl: 300 }] }));
 * app.post("/api/search", async (c) => c.json(await search(await c.req.json())));
 */
export function postcache({ store, cacheStorageName = "postcache", ...options }: HonoOptions = {}): MiddlewareHandler {
  const engine = createPostcache(options);
  let entries = store;
  const storeFor = () => (entries ??= defaultStore(cacheStorageName, options.onError));
  return async (c, next) => {
    const original = c.req.raw;
    const fetcher: Fetcher = async (forwarded) => {
      if (forwarded !== original) c.req.raw = forwarded;
      await next();
      return c.res;
    };
    const response = await engine.handle(original, storeFor(), fetcher, contextOf(c));
    // Unset first: assigning over an answer merges the old one's headers into the new one.
    c.res = undefined as unknown as Response;
    c.res = response;
  };
}

/** The Cache API where the runtime has one, else memory. Looked up at the first request: some runtimes
 * allow no I/O at module scope. */
function defaultStore(name: string, onError: PostcacheOptions["onError"]): CacheStore {
  const caches = (globalThis as { caches?: Caches }).caches;
  if (!caches) return memoryStore();
  if ("Deno" in globalThis) return generationalCacheStore({ caches, name, onError });
  return cacheApiStore({ cache: () => caches.default ?? caches.open(name), onError });
}

function contextOf(c: Context): RequestContext {
  try {
    const ctx = c.executionCtx;
    return { waitUntil: (promise) => ctx.waitUntil(promise) };
  } catch {
    return {}; // No execution context (Bun, Node, Deno): background work finishes by itself.
  }
}
