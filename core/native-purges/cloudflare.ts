/**
 * Cloudflare zone purge (https://developers.cloudflare.com/api/resources/cache/methods/purge/):
 * `POST {apiBase}/zones/{zone_id}/purge_cache` with a bearer API token holding the "Cache Purge"
 * permission, and one of `{"tags": [...]}`, `{"files": [...]}` or `{"purge_everything": true}`.
 *
 * - Reach: entries `cache.put` into `caches.default` are purged by tag in every data centre: the Cache
 *   API "respects" `Cache-Tag` on the stored response, "allows resource purging by tag(s) later"
 *   (https://developers.cloudflare.com/workers/runtime-apis/cache/#headers), and core/stores/cache-api.ts
 *   sets it on every entry. Purge by URL reaches Cache API entries stored under a plain URL, which
 *   postcache's keys are; not those with a Worker-set custom cache key
 *   (https://developers.cloudflare.com/cache/how-to/purge-cache/purge-cache-key/). Only on a custom
 *   domain: Cache API calls on `*.workers.dev` do nothing. Not "Workers Caching" (`ctx.cache`), which no
 *   zone purge reaches (https://developers.cloudflare.com/workers/cache/purge/).
 * - Plans: URL, tag, hostname, prefix and everything on every plan; at most 100 operations per request
 *   (URLs: 500 on Enterprise); rate limits per account, a token bucket: Free 5 requests a minute (bucket
 *   25), Pro 5/s, Business 10/s, Enterprise 50/s; URLs 800/s Free, 1500/s Pro and Business, 3000/s
 *   Enterprise (https://developers.cloudflare.com/cache/how-to/purge-cache/, "last updated Jul 29, 2026").
 * - Answers: `{"success": true, "result": {"id"}}`; failures `{"success": false, "errors": [{code,
 *   message}]}` (401/403 for the token, 429 past the rate limit). `success: false` fails even on a 200.
 */
import {
  baseUrl,
  batches,
  NativePurgeError,
  type NativePurger,
  type PurgerRequestOptions,
  purgeRequest,
  requestOptions,
  requiredString,
} from "../native-purge.ts";

export interface CloudflarePurgerOptions extends PurgerRequestOptions {
  /** An API token with the zone's "Cache Purge" permission (sent as `Authorization: Bearer`). Required. */
  token: string;
  /** The zone's id (32 hex, on the zone's overview page). Required. */
  zoneId: string;
  /** The API's base URL. Default `https://api.cloudflare.com/client/v4`. */
  apiBase?: string;
  /**
   * Most tags or URLs per request. Default 100, Cloudflare's "max operations per request" on every plan.
   */
  maxPerRequest?: number;
}

const NAME = "cloudflare-purge";
export const CLOUDFLARE_API_BASE = "https://api.cloudflare.com/client/v4";
/** "Max operations per request: 100" on Free, Pro, Business and Enterprise (tags, hosts, prefixes, URLs). */
export const CLOUDFLARE_MAX_PER_REQUEST = 100;

/**
 * @example
 * import { cloudflarePurger, withNativePurge } from "postcache/native-purge";
 * const purger = cloudflarePurger({ token: env.CF_PURGE_TOKEN, zoneId: env.CF_ZONE_ID });
 */
export function cloudflarePurger(options: CloudflarePurgerOptions): NativePurger {
  const token = requiredString(NAME, "token", options?.token);
  const zoneId = requiredString(NAME, "zoneId", options.zoneId);
  if (!/^[0-9a-f]{32}$/i.test(zoneId)) throw new TypeError(`[postcache] [${NAME}] option "zoneId" must be the 32-hex zone id`);
  const url = `${baseUrl(NAME, "apiBase", options.apiBase ?? CLOUDFLARE_API_BASE)}/zones/${zoneId}/purge_cache`;
  const max = options.maxPerRequest ?? CLOUDFLARE_MAX_PER_REQUEST;
  if (!Number.isSafeInteger(max) || max < 1) {
    throw new TypeError(`[postcache] [${NAME}] option "maxPerRequest" must be a whole number of 1 or more (got ${max})`);
  }
  const o = requestOptions(NAME, options);

  async function send(what: string, body: object): Promise<void> {
    const init = {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    };
    const answer = await purgeRequest(NAME, what, o, url, init, [token]);
    const result = answer.body as { success?: boolean; errors?: { code?: number; message?: string }[] } | undefined;
    if (result?.success !== true) {
      const errors = (result?.errors ?? []).map((e) => `${e.code ?? "?"} ${e.message ?? ""}`.trim()).join("; ");
      throw new NativePurgeError(
        `[postcache] [${NAME}] ${what} failed: success is not true${errors ? ` (${errors})` : ""}`
          .split(token)
          .join("[redacted]"),
        answer.status,
      );
    }
  }
  // One batch after another: the rate limit is a token bucket per account, and a failure stops the rest.
  async function each(what: string, field: "tags" | "files", items: string[]): Promise<void> {
    for (const batch of batches([...new Set(items)], max)) await send(what, { [field]: batch });
  }

  return {
    name: "cloudflare",
    purgeTags: (tags) => each("purge by tag", "tags", tags),
    purgeUrls: (urls) => each("purge by URL", "files", urls),
    purgeAll: () => send("purge everything", { purge_everything: true }),
  };
}
