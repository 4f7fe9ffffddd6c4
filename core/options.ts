import type { AdminEndpoints } from "./admin.ts";
import type { Protocol } from "./protocols/protocol.ts";
import { didYouMean } from "./suggest.ts";
import { isTag } from "./tags.ts";
import type { BodyKey, ResultInfo, Sha256 } from "./types.ts";

/** A URL pattern: a string glob on the pathname (`*` matches any run of characters), or a RegExp
 * tested against pathname + search. */
export type UrlPattern = string | RegExp;

/** Per-path overrides, first match wins. */
export interface CacheRule {
  /** Which requests the rule applies to. */
  match: UrlPattern | UrlPattern[];
  /** Freshness lifetime in seconds, overriding the origin's `Cache-Control`/`Expires` (never its
   * `no-store`/`private`). */
  ttl?: number;
  /** `stale-while-revalidate` window in seconds for these requests. */
  staleWhileRevalidate?: number;
  /** `stale-if-error` window in seconds for these requests. */
  staleIfError?: number;
  /** Tags added to entries stored for these requests, for targeted purge. */
  tags?: string[];
  /** Tags purged when one of these requests succeeds (2xx): e.g. `/cart/*` invalidating `cart`. */
  invalidates?: string[];
}

export interface PostcacheOptions {
  /** Largest request body buffered and hashed, in bytes. A larger body is streamed to the origin
   * and the answer is not cached. Default 1 MiB (EdgeOne's request body limit). */
  maxBodyBytes?: number;
  /** Largest response body stored, in bytes. Default 1 MiB. */
  maxResponseBytes?: number;
  /** Request headers whose values are part of the key, because they change the answer. Default
   * `accept`, `accept-encoding`, `accept-language`. `content-type` and `content-encoding`, which say what
   * the body bytes mean, are always keyed besides these. */
  keyHeaders?: string[];
  /** Headers that proxies and frameworks trust to rebuild the request URL. Their values are part of the
   * key too, so a value one client sends never shapes an answer served to another (cache poisoning).
   * Kept apart from `keyHeaders` so that overriding one does not drop the other. */
  forwardedHeaders?: string[];
  /** What the key is computed over instead of the body bytes: `canonicalJsonKey()` from
   * `postcache/canonical-json` keys JSON bodies by their canonical form (member order and whitespace do
   * not matter; numbers as written; invalid JSON keyed by its bytes). Default: the bytes. */
  bodyKey?: BodyKey;
  /** If non-empty, only matching URLs are cached. */
  include?: UrlPattern[];
  /** The "do not cache" list: matching URLs always go to the origin. */
  exclude?: UrlPattern[];
  /** Path words that name a mutation (`/cart/addItem`, `/users.delete`); matching requests bypass.
   * `false` switches the check off. */
  mutationVerbs?: string[] | false;
  /** Request headers that disguise another method; their presence bypasses the cache. */
  methodOverrideHeaders?: string[];
  /** Request headers that identify a user; requests carrying one bypass unless `scope` gives a value. */
  credentialHeaders?: string[];
  /** Caches per user: the returned value is hashed into the key. Returning `undefined` for a request
   * with credentials bypasses the cache. */
  scope?: (request: Request) => string | undefined | null | Promise<string | undefined | null>;
  /** Custom exclusion: return `true` or a reason string to bypass the cache. */
  bypass?: (request: Request) => boolean | string | undefined | Promise<boolean | string | undefined>;
  /** Statuses that may be stored (RFC 9110 §15.1 "heuristically cacheable" plus 204). */
  cacheableStatuses?: number[];
  /** Freshness lifetime in seconds for a 200, 203 or 204 answer that gives none (no `s-maxage`,
   * `max-age` or `Expires`). Default: none, so such answers are not stored: RFC 9110 §9.3.3 lets a POST
   * answer be reused only with explicit freshness. Setting it is the operator's explicit freshness. */
  defaultTtl?: number;
  /** `stale-while-revalidate` window in seconds when the origin gives none. Default 0. */
  staleWhileRevalidate?: number;
  /** `stale-if-error` window in seconds when the origin gives none. Default 0. */
  staleIfError?: number;
  /** Per-path TTL and stale overrides, first match wins. */
  rules?: CacheRule[];
  /** Add `Warning: 110` to stale answers (eBay's design; RFC 7234 §5.5.1). Default true. */
  staleWarning?: boolean;
  /** Make one origin request for concurrent identical misses. Default true. */
  coalesce?: boolean;
  /** Longest wait for a store `get`/`set`, in ms; past it the store is skipped. Default 500. */
  storeTimeoutMs?: number;
  /** Longest wait for the origin's response headers, in ms; 0 disables. Default 30000. */
  originTimeoutMs?: number;
  /** Longest pause between two chunks of the origin's body while a copy is read for the cache, in ms;
   * past it the answer is cut off and nothing is stored. 0 disables. Default 10000. */
  originBodyTimeoutMs?: number;
  /** Longest wait on an identical request in flight, in ms; past it a request asks the origin itself
   * (or takes a stale-if-error copy). Default 5000, as nginx's `proxy_cache_lock_timeout`. */
  coalesceTimeoutMs?: number;
  /** RFC 9111 §4.4: a successful PUT, PATCH, DELETE (any unsafe method passed through), or a POST
   * bypassed as a mutation by its path or a method-override header, purges the answers stored for its
   * URI and for its same-origin `Location` and `Content-Location`, in stores that can purge by tag.
   * Default true. */
  uriInvalidation?: boolean;
  /** The cache's name in `Cache-Status` (RFC 9211 §2). Default `postcache`. */
  cacheName?: string;
  /** Add the cache key to `Cache-Status` (`key=`). Default false. */
  debug?: boolean;
  /** SHA-256 implementation. Default: `crypto.subtle.digest`. */
  sha256?: Sha256;
  /** The clock, in ms since the epoch. Default `Date.now`. */
  now?: () => number;
  /** Called when a store or hook fails; the request still gets the origin's answer. */
  onError?: (error: unknown, where: string) => void;
  /** Called once per POST/QUERY request with its outcome, for logs and metrics. */
  onResult?: (info: ResultInfo) => void;
  /** The stats and purge endpoints, protected by a bearer token: `adminEndpoints({ token })` from
   * `postcache/admin` (its own entry, so bundles without it carry none of its code). Default: off. */
  admin?: AdminEndpoints;
  /** Answer digest-only requests (`Postcache-Body: omitted` + `Content-Digest`) from kept bodies, and keep
   * the bodies of full requests that carry `Content-Digest`. Default true. */
  handshake?: boolean;
  /** How long a kept request body lives, in seconds. Default 3600. */
  handshakeBodyTtl?: number;
  /** Add `Server-Timing` (cache lookup, origin, total) to POST/QUERY answers. Default true. */
  serverTiming?: boolean;
  /** Protocols whose operations decide what is cached: `graphql()`, `jsonRpc()`, `soap()` from
   * `postcache/protocols` (docs/protocols.md). The first whose paths match and that claims the body
   * decides. Default: none. */
  protocols?: Protocol[];
}

const MiB = 1024 * 1024;

export const DEFAULT_MAX_BODY_BYTES = MiB;
export const DEFAULT_MAX_RESPONSE_BYTES = MiB;
export const DEFAULT_KEY_HEADERS = ["accept", "accept-encoding", "accept-language"];
/** RFC 9110 §8.3, §8.4: the headers that say what the body bytes mean, so the same bytes under another
 * type or coding are another request. Always keyed, whatever `keyHeaders` says. */
export const BODY_HEADERS = ["content-type", "content-encoding"];
/** Unkeyed inputs that web frameworks use to build absolute URLs and route requests: the headers of
 * RFC 7239 (`Forwarded`) and the de-facto `X-Forwarded-*` family, plus IIS/Symfony URL overrides. */
export const DEFAULT_FORWARDED_HEADERS = [
  "forwarded",
  "x-forwarded-host",
  "x-forwarded-proto",
  "x-forwarded-scheme",
  "x-forwarded-port",
  "x-forwarded-prefix",
  "x-host",
  "x-original-url",
  "x-rewrite-url",
];
export const DEFAULT_MUTATION_VERBS = [
  "set",
  "add",
  "create",
  "update",
  "delete",
  "remove",
  "insert",
  "upsert",
  "put",
  "patch",
  "save",
  "write",
  "edit",
  "modify",
  "destroy",
  "purge",
  "reset",
  "submit",
  "send",
  "cancel",
  "login",
  "logout",
  "register",
  "subscribe",
  "unsubscribe",
  "checkout",
  "pay",
];
export const DEFAULT_METHOD_OVERRIDE_HEADERS = ["x-http-method-override", "x-http-method", "x-method-override"];
export const DEFAULT_CREDENTIAL_HEADERS = ["authorization", "cookie", "proxy-authorization", "x-api-key"];
/** RFC 9110 §15.1: heuristically cacheable statuses, plus 204 (no body to get wrong). 206 is never
 * stored: postcache does not assemble ranges. */
export const DEFAULT_CACHEABLE_STATUSES = [200, 203, 204, 300, 301, 404, 405, 410, 414, 501];
export const DEFAULT_STORE_TIMEOUT_MS = 500;
export const DEFAULT_ORIGIN_TIMEOUT_MS = 30_000;
export const DEFAULT_ORIGIN_BODY_TIMEOUT_MS = 10_000;
export const DEFAULT_COALESCE_TIMEOUT_MS = 5_000;

/** Options after validation, with every default filled in and patterns compiled. */
export interface ResolvedOptions {
  maxBodyBytes: number;
  maxResponseBytes: number;
  keyHeaders: string[];
  forwardedHeaders: string[];
  /** BODY_HEADERS, `keyHeaders` and `forwardedHeaders` together, without repeats: every header value in the key. */
  keyedHeaders: string[];
  bodyKey?: BodyKey;
  include: RegExp[];
  exclude: RegExp[];
  mutationVerbs: ReadonlySet<string>;
  methodOverrideHeaders: string[];
  credentialHeaders: string[];
  scope?: PostcacheOptions["scope"];
  bypass?: PostcacheOptions["bypass"];
  cacheableStatuses: ReadonlySet<number>;
  defaultTtl?: number;
  staleWhileRevalidate: number;
  staleIfError: number;
  rules: {
    match: RegExp[];
    ttl?: number;
    staleWhileRevalidate?: number;
    staleIfError?: number;
    tags: string[];
    invalidates: string[];
  }[];
  staleWarning: boolean;
  coalesce: boolean;
  storeTimeoutMs: number;
  originTimeoutMs: number;
  originBodyTimeoutMs: number;
  coalesceTimeoutMs: number;
  uriInvalidation: boolean;
  cacheName: string;
  debug: boolean;
  sha256: Sha256;
  now: () => number;
  onError: (error: unknown, where: string) => void;
  onResult?: (info: ResultInfo) => void;
  admin?: AdminEndpoints;
  handshake: boolean;
  handshakeBodyTtl: number;
  serverTiming: boolean;
  protocols: Protocol[];
}

/** The error thrown for a bad option, naming it, at factory time. */
export class PostcacheOptionError extends TypeError {
  constructor(option: string, message: string) {
    super(`[postcache] option "${option}" ${message}`);
    this.name = "PostcacheOptionError";
  }
}

/**
 * SHA-256 with `crypto.subtle`, over a fresh buffer per call. A reused buffer would be faster (keying a
 * 64 KiB-1 MiB body at 0.9-1.1x a bare digest instead of 1.2-1.4x, bench/results.md) and is safe where
 * `digest()` copies its input when called, as the Web Cryptography API says and Bun, Deno and Node do;
 * but one runtime that read it later would key concurrent requests alike, which is a wrong answer, not a
 * slow one. Servers pass a synchronous hasher and copy nothing.
 */
const subtleSha256: Sha256 = (parts) =>
  crypto.subtle.digest("SHA-256", (parts.length === 1 ? parts[0] : concat(parts)) as Uint8Array<ArrayBuffer>);

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.byteLength;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

/** Validates `options` once and fills in defaults. Throws `PostcacheOptionError` naming the option. */
export function resolveOptions(options: PostcacheOptions = {}): ResolvedOptions {
  if (typeof options !== "object" || options === null) {
    throw new PostcacheOptionError("options", `must be an object (got ${describe(options)})`);
  }
  const known = new Set(Object.keys(OPTION_NAMES));
  for (const name of Object.keys(options)) {
    if (!known.has(name)) throw new PostcacheOptionError(name, `is not a postcache option${didYouMean(name, known)}`);
  }
  const o = options;
  const onError = safeOnError(fn("onError", o.onError));
  const onResult = fn("onResult", o.onResult);
  const keyHeaders = headerNames("keyHeaders", o.keyHeaders, DEFAULT_KEY_HEADERS);
  const forwardedHeaders = headerNames("forwardedHeaders", o.forwardedHeaders, DEFAULT_FORWARDED_HEADERS);
  const mutationVerbs = new Set(
    o.mutationVerbs === false
      ? []
      : strings("mutationVerbs", o.mutationVerbs, DEFAULT_MUTATION_VERBS).map((v) => v.toLowerCase()),
  );
  return {
    maxBodyBytes: count("maxBodyBytes", o.maxBodyBytes, DEFAULT_MAX_BODY_BYTES, 0),
    maxResponseBytes: count("maxResponseBytes", o.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES, 0),
    keyHeaders,
    forwardedHeaders,
    keyedHeaders: [...new Set([...BODY_HEADERS, ...keyHeaders, ...forwardedHeaders])],
    include: patterns("include", o.include),
    exclude: patterns("exclude", o.exclude),
    mutationVerbs,
    methodOverrideHeaders: headerNames("methodOverrideHeaders", o.methodOverrideHeaders, DEFAULT_METHOD_OVERRIDE_HEADERS),
    credentialHeaders: headerNames("credentialHeaders", o.credentialHeaders, DEFAULT_CREDENTIAL_HEADERS),
    scope: fn("scope", o.scope),
    bypass: fn("bypass", o.bypass),
    cacheableStatuses: new Set(statuses("cacheableStatuses", o.cacheableStatuses)),
    defaultTtl: o.defaultTtl === undefined ? undefined : count("defaultTtl", o.defaultTtl, 0, 0),
    staleWhileRevalidate: count("staleWhileRevalidate", o.staleWhileRevalidate, 0, 0),
    staleIfError: count("staleIfError", o.staleIfError, 0, 0),
    rules: rules(o.rules),
    staleWarning: flag("staleWarning", o.staleWarning, true),
    coalesce: flag("coalesce", o.coalesce, true),
    storeTimeoutMs: count("storeTimeoutMs", o.storeTimeoutMs, DEFAULT_STORE_TIMEOUT_MS, 1),
    originTimeoutMs: count("originTimeoutMs", o.originTimeoutMs, DEFAULT_ORIGIN_TIMEOUT_MS, 0),
    originBodyTimeoutMs: count("originBodyTimeoutMs", o.originBodyTimeoutMs, DEFAULT_ORIGIN_BODY_TIMEOUT_MS, 0),
    coalesceTimeoutMs: count("coalesceTimeoutMs", o.coalesceTimeoutMs, DEFAULT_COALESCE_TIMEOUT_MS, 1),
    uriInvalidation: flag("uriInvalidation", o.uriInvalidation, true),
    cacheName: token("cacheName", o.cacheName, "postcache"),
    debug: flag("debug", o.debug, false),
    sha256: fn("sha256", o.sha256) ?? subtleSha256,
    now: fn("now", o.now) ?? Date.now,
    onError,
    // A throwing hook is the operator's bug: it is reported, and never breaks the request.
    onResult:
      onResult &&
      ((info) => {
        try {
          onResult(info);
        } catch (error) {
          onError(error, "onResult");
        }
      }),
    admin: admin(o.admin),
    bodyKey: containedBodyKey(fn("bodyKey", o.bodyKey), onError),
    handshake: flag("handshake", o.handshake, true),
    handshakeBodyTtl: count("handshakeBodyTtl", o.handshakeBodyTtl, 3600, 1),
    serverTiming: flag("serverTiming", o.serverTiming, true),
    protocols: protocols(o.protocols),
  };
}

/** `onError` that can never throw into the engine: an error in the error hook goes nowhere. */
function safeOnError(onError: PostcacheOptions["onError"]): (error: unknown, where: string) => void {
  if (!onError) return () => {};
  return (error, where) => {
    try {
      onError(error, where);
    } catch {
      // Nothing left to tell.
    }
  };
}

function admin(value: unknown): AdminEndpoints | undefined {
  if (value === undefined) return undefined;
  const a = value as AdminEndpoints;
  if (typeof a !== "object" || a === null || typeof a.respond !== "function" || typeof a.path !== "string") {
    throw new PostcacheOptionError(
      "admin",
      `must come from adminEndpoints({ token }) in "postcache/admin" (got ${describe(value)})`,
    );
  }
  return a;
}

/** A `bodyKey` that throws keys the raw bytes instead (a safe miss), and is reported. */
function containedBodyKey(bodyKey: BodyKey | undefined, onError: (error: unknown, where: string) => void): BodyKey | undefined {
  if (!bodyKey) return undefined;
  return (body, headers) => {
    try {
      return bodyKey(body, headers);
    } catch (error) {
      onError(error, "bodyKey");
      return undefined;
    }
  };
}

const OPTION_NAMES: Record<keyof PostcacheOptions, true> = {
  maxBodyBytes: true,
  maxResponseBytes: true,
  keyHeaders: true,
  forwardedHeaders: true,
  bodyKey: true,
  include: true,
  exclude: true,
  mutationVerbs: true,
  methodOverrideHeaders: true,
  credentialHeaders: true,
  scope: true,
  bypass: true,
  cacheableStatuses: true,
  defaultTtl: true,
  staleWhileRevalidate: true,
  staleIfError: true,
  rules: true,
  staleWarning: true,
  coalesce: true,
  storeTimeoutMs: true,
  originTimeoutMs: true,
  originBodyTimeoutMs: true,
  coalesceTimeoutMs: true,
  uriInvalidation: true,
  cacheName: true,
  debug: true,
  sha256: true,
  now: true,
  onError: true,
  onResult: true,
  admin: true,
  handshake: true,
  handshakeBodyTtl: true,
  serverTiming: true,
  protocols: true,
};

function protocols(value: unknown): Protocol[] {
  if (value === undefined) return [];
  const ok = (p: Protocol) =>
    typeof p === "object" &&
    p !== null &&
    typeof p.name === "string" &&
    Array.isArray(p.paths) &&
    typeof p.classify === "function";
  if (!Array.isArray(value) || !value.every(ok)) {
    throw new PostcacheOptionError(
      "protocols",
      `must be an array of protocols from postcache/protocols, e.g. [graphql()] (got ${describe(value)})`,
    );
  }
  return value;
}

/** A short description of a bad option value for error messages. */
export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || value == null) return String(value);
  return Array.isArray(value) ? "an array" : typeof value;
}

function count(name: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw new PostcacheOptionError(name, `must be an integer >= ${min} (got ${describe(value)})`);
  }
  return value;
}

function flag(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw new PostcacheOptionError(name, `must be true or false (got ${describe(value)})`);
  return value;
}

function strings(name: string, value: unknown, fallback: string[]): string[] {
  if (value === undefined) return fallback;
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string" || v === "")) {
    throw new PostcacheOptionError(name, `must be an array of non-empty strings (got ${describe(value)})`);
  }
  return value;
}

// RFC 9110 §5.1: a field name is a token.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function headerNames(name: string, value: unknown, fallback: string[]): string[] {
  const names = strings(name, value, fallback);
  for (const header of names) {
    if (!TOKEN.test(header))
      throw new PostcacheOptionError(name, `has ${JSON.stringify(header)}, not a header name (RFC 9110 §5.1)`);
  }
  return names.map((h) => h.toLowerCase());
}

function token(name: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  // RFC 9211 §2: the cache identifier is a Structured Fields token or string; we require a token.
  if (typeof value !== "string" || !/^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*$/.test(value)) {
    throw new PostcacheOptionError(name, `must be a Structured Fields token (RFC 8941 §3.3.4) (got ${describe(value)})`);
  }
  return value;
}

function fn<T>(name: string, value: T): T {
  if (value !== undefined && typeof value !== "function") {
    throw new PostcacheOptionError(name, `must be a function (got ${describe(value)})`);
  }
  return value;
}

function statuses(name: string, value: unknown): number[] {
  if (value === undefined) return DEFAULT_CACHEABLE_STATUSES;
  if (!Array.isArray(value) || value.some((s) => !Number.isInteger(s) || s < 100 || s > 599)) {
    throw new PostcacheOptionError(name, `must be an array of status codes 100-599 (got ${describe(value)})`);
  }
  if (value.includes(206)) {
    throw new PostcacheOptionError(name, "may not include 206: partial content is never stored (RFC 9111 §3.4)");
  }
  return value;
}

/** Path globs (starting with "/") and RegExps, compiled; errors name `name`. */
export function patterns(name: string, value: unknown): RegExp[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((p) => {
    if (p instanceof RegExp) return p;
    if (typeof p === "string" && p.startsWith("/")) return globToRegExp(p);
    throw new PostcacheOptionError(name, `must hold path globs starting with "/" or RegExps (got ${describe(p)})`);
  });
}

function tagList(name: string, value: unknown): string[] {
  const tags = strings(name, value, []);
  for (const tag of tags) {
    if (!isTag(tag))
      throw new PostcacheOptionError(name, `has ${JSON.stringify(tag)}: tags are visible ASCII without commas or spaces`);
  }
  return tags;
}

/** `/api/*` → matches `/api/` followed by anything, on the pathname only. */
export function globToRegExp(glob: string): RegExp {
  const source = glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  // Globs see only the pathname: a `?` in the tested string ends the match region.
  return new RegExp(`^${source}(?:\\?.*)?$`);
}

function rules(value: unknown): ResolvedOptions["rules"] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new PostcacheOptionError("rules", `must be an array (got ${describe(value)})`);
  return value.map((rule, i) => {
    const at = `rules[${i}]`;
    if (typeof rule !== "object" || rule === null || rule.match === undefined) {
      throw new PostcacheOptionError(at, "must be an object with a match pattern");
    }
    return {
      match: patterns(`${at}.match`, rule.match),
      ttl: rule.ttl === undefined ? undefined : count(`${at}.ttl`, rule.ttl, 0, 0),
      staleWhileRevalidate:
        rule.staleWhileRevalidate === undefined
          ? undefined
          : count(`${at}.staleWhileRevalidate`, rule.staleWhileRevalidate, 0, 0),
      staleIfError: rule.staleIfError === undefined ? undefined : count(`${at}.staleIfError`, rule.staleIfError, 0, 0),
      tags: tagList(`${at}.tags`, rule.tags),
      invalidates: tagList(`${at}.invalidates`, rule.invalidates),
    };
  });
}
