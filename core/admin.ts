/**
 * The admin endpoints, `admin: adminEndpoints({ token })`, an entry of its own (`postcache/admin`) so
 * that bundles without them carry none of their code:
 *   GET  <path>stats                 live counters (this process or isolate)
 *   POST <path>purge  {"key": "..."} | {"tag": "..."} | {"tags": [...]} | {"all": true}
 * Both need `Authorization: Bearer <token>` (RFC 6750 §2.1), compared in constant time.
 */
import { sameBytes, sha256Of } from "./handshake.ts";
import { KEY_PATH } from "./key.ts";
import { describe, PostcacheOptionError, type ResolvedOptions } from "./options.ts";
import { problemJson } from "./problem.ts";
import type { Stats } from "./stats.ts";
import { ALL_TAG, isTag } from "./tags.ts";
import type { CacheStore, Sha256 } from "./types.ts";

const encoder = new TextEncoder();

export interface AdminOptions {
  /** The bearer token, at least 16 characters; compared in constant time. */
  token: string;
  /** Where the endpoints live. Default `/.postcache/` (so `/.postcache/stats`, `/.postcache/purge`). */
  path?: string | undefined;
}

/** What the engine calls for each request when the admin endpoints are on. */
export interface AdminEndpoints {
  readonly path: string;
  /** The admin answer for `request`, or undefined if it is not an admin request. */
  respond(request: Request, url: URL, store: CacheStore, stats: Stats, o: ResolvedOptions): Promise<Response | undefined>;
}

/**
 * The stats and purge endpoints under `path`, behind `Authorization: Bearer <token>`. Throws
 * PostcacheOptionError for a short token or a bad path, at creation.
 *
 * @example
 * import { adminEndpoints } from "postcache/admin";
 * createPostcache({ admin: adminEndpoints({ token: process.env.POSTCACHE_ADMIN_TOKEN ?? "" }) });
 */
export function adminEndpoints(options: AdminOptions): AdminEndpoints {
  if (typeof options !== "object" || options === null || typeof options.token !== "string" || options.token.length < 16) {
    throw new PostcacheOptionError(
      "admin.token",
      "must be a string of at least 16 characters (the bearer token for stats and purge)",
    );
  }
  const { token } = options;
  const path = options.path ?? "/.postcache/";
  if (typeof path !== "string" || !/^\/(?:[^/?#]+\/)*$/.test(path)) {
    throw new PostcacheOptionError("admin.path", `must be a path that starts and ends with "/" (got ${describe(path)})`);
  }
  return { path, respond: (request, url, store, stats, o) => adminResponse(request, url, store, stats, o, token, path) };
}

async function adminResponse(
  request: Request,
  url: URL,
  store: CacheStore,
  stats: Stats,
  o: ResolvedOptions,
  token: string,
  path: string,
): Promise<Response | undefined> {
  if (!url.pathname.startsWith(path)) return undefined;
  if (!(await bearerMatches(request, token, o.sha256))) {
    return problemJson(401, "unauthorized", "A valid bearer token is required", undefined, {
      "www-authenticate": 'Bearer realm="postcache"',
    });
  }
  const action = url.pathname.slice(path.length);
  if (action === "stats") {
    if (request.method !== "GET") return problemJson(405, "method-not-allowed", "Use GET", undefined, { allow: "GET" });
    return Response.json({ store: store.name, ...stats.snapshot() }, { headers: { "cache-control": "no-store" } });
  }
  if (action === "purge") {
    if (request.method !== "POST") return problemJson(405, "method-not-allowed", "Use POST", undefined, { allow: "POST" });
    try {
      return await purge(request, url, store);
    } catch (error) {
      // The admin asked for a purge and it did not happen: say so, never pretend (and never reject).
      o.onError(error, "store.purge");
      return problemJson(
        503,
        "purge-failed",
        `The ${store.name} store failed to purge`,
        String((error as Error)?.message ?? error),
      );
    }
  }
  return problemJson(404, "not-found", "No such admin endpoint", `Try ${path}stats or ${path}purge`);
}

async function purge(request: Request, url: URL, store: CacheStore): Promise<Response> {
  let body: { key?: unknown; tag?: unknown; tags?: unknown; all?: unknown };
  try {
    body = await request.json();
  } catch {
    return problemJson(400, "bad-purge", "The body must be JSON: {key}, {tag}, {tags} or {all: true}");
  }
  if (typeof body?.key === "string") {
    const key = keyUrl(body.key, url);
    if (!key) return problemJson(400, "bad-purge", "key must be the 64-hex digest or the full key URL");
    return Response.json({ purged: { key, removed: await store.delete(key) } }, { headers: { "cache-control": "no-store" } });
  }
  const tags = body?.all === true ? [ALL_TAG] : typeof body?.tag === "string" ? [body.tag] : body?.tags;
  if (!Array.isArray(tags) || tags.length === 0 || !tags.every(isTag)) {
    return problemJson(
      400,
      "bad-purge",
      "Give {key}, {tag}, {tags: [...]} or {all: true}; tags are visible ASCII without commas or spaces",
    );
  }
  if (body?.all === true && store.clear) {
    await store.clear();
    return Response.json({ purged: { all: true } }, { headers: { "cache-control": "no-store" } });
  }
  if (!store.deleteTag) {
    return problemJson(501, "purge-unsupported", `The ${store.name} store cannot purge by tag`, "Purge by key instead");
  }
  const removed: Record<string, number> = {};
  for (const tag of tags) removed[tag] = await store.deleteTag(tag, { origin: url.origin });
  return Response.json({ purged: { tags: removed } }, { headers: { "cache-control": "no-store" } });
}

function keyUrl(value: string, url: URL): string | undefined {
  if (/^[0-9a-f]{64}$/.test(value)) return url.origin + KEY_PATH + value;
  try {
    const key = new URL(value);
    if (key.pathname.startsWith(KEY_PATH) && /^[0-9a-f]{64}$/.test(key.pathname.slice(KEY_PATH.length))) return key.href;
  } catch {
    // not a URL
  }
  return undefined;
}

/** Whether the request carries `Authorization: Bearer <token>` (RFC 6750 §2.1). Compares digests, not
 * tokens, so neither the length nor a prefix of the token leaks through timing. */
export async function bearerMatches(request: Request, token: string, sha256: Sha256): Promise<boolean> {
  const match = (request.headers.get("authorization") ?? "").match(/^Bearer\s+(\S+)\s*$/i);
  if (!match) return false;
  const [given, expected] = await Promise.all([
    sha256Of(encoder.encode(match[1]), sha256),
    sha256Of(encoder.encode(token), sha256),
  ]);
  return sameBytes(given, expected);
}
