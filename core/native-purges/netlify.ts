/**
 * Netlify purge by cache tag (https://open-api.netlify.com/#tag/purge, operation `purgeCache`):
 * `POST {apiBase}/api/v1/purge` with a bearer token and `{"site_id", "cache_tags": [...]}`; without
 * `cache_tags` it purges the whole site's cache. Answers 202; 400 for a bad request, 404 for an unknown
 * site. This is the request `purgeCache({ tags })` from `@netlify/functions` sends (its
 * dist/main.js: same path, body and `Authorization: Bearer`), without the Node-only `process.env`.
 *
 * - Reach: Netlify's Cache API (`caches.open`) is per region, and its responses "can be manually
 *   invalidated by calling the delete() method or by purging any cache tags set on the response"
 *   (https://docs.netlify.com/platform/cache-api/). Netlify reads tags from `Netlify-Cache-Tag` or
 *   `Cache-Tag`; core/stores/cache-api.ts sets `Cache-Tag` on every entry, so a purge by tag reaches
 *   postcache's entries in every region. There is no purge by URL: a purge by key stays local.
 * - Token: `purgeCache` reads `NETLIFY_PURGE_API_TOKEN`, which Netlify sets for Functions; pass it (or a
 *   personal access token) as `token`, e.g. `Netlify.env.get("NETLIFY_PURGE_API_TOKEN")`, and the site id
 *   as `siteId` (`SITE_ID`, or `Netlify.context.site.id` in an edge function).
 * - Limits: Netlify's docs give no tags-per-call limit and no purge-specific rate limit; its API guide
 *   documents a general one, with `X-RateLimit-Limit: 500` in its example
 *   (https://docs.netlify.com/api-and-cli-guides/api-guides/get-started-with-api/#rate-limiting). Tags go
 *   in one call up to `maxPerRequest` (default 100, our choice, not Netlify's).
 */
import {
  baseUrl,
  batches,
  type NativePurger,
  type PurgerRequestOptions,
  purgeRequest,
  requestOptions,
  requiredString,
} from "../native-purge.ts";

export interface NetlifyPurgerOptions extends PurgerRequestOptions {
  /** A token allowed to purge the site: `NETLIFY_PURGE_API_TOKEN` or a personal access token. Required. */
  token: string;
  /** The site's id (`SITE_ID`). Required. */
  siteId: string;
  /** The API's base URL. Default `https://api.netlify.com`. */
  apiBase?: string;
  /** Most tags per request. Default 100 (Netlify documents no limit; this keeps each body small). */
  maxPerRequest?: number;
}

const NAME = "netlify-purge";
export const NETLIFY_API_BASE = "https://api.netlify.com";
export const NETLIFY_MAX_PER_REQUEST = 100;

/**
 * @example
 * import { netlifyPurger, withNativePurge } from "postcache/native-purge";
 * const purger = netlifyPurger({ token: Netlify.env.get("NETLIFY_PURGE_API_TOKEN")!, siteId: context.site.id! });
 */
export function netlifyPurger(options: NetlifyPurgerOptions): NativePurger {
  const token = requiredString(NAME, "token", options?.token);
  const siteId = requiredString(NAME, "siteId", options.siteId);
  const url = `${baseUrl(NAME, "apiBase", options.apiBase ?? NETLIFY_API_BASE)}/api/v1/purge`;
  const max = options.maxPerRequest ?? NETLIFY_MAX_PER_REQUEST;
  if (!Number.isSafeInteger(max) || max < 1) {
    throw new TypeError(`[postcache] [${NAME}] option "maxPerRequest" must be a whole number of 1 or more (got ${max})`);
  }
  const o = requestOptions(NAME, options);

  async function send(what: string, body: object): Promise<void> {
    const init = {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json; charset=utf-8" },
      body: JSON.stringify({ site_id: siteId, ...body }),
    };
    await purgeRequest(NAME, what, o, url, init, [token]);
  }

  return {
    name: "netlify",
    async purgeTags(tags) {
      for (const batch of batches([...new Set(tags)], max)) await send("purge by tag", { cache_tags: batch });
    },
    purgeAll: () => send("purge everything", {}),
  };
}
