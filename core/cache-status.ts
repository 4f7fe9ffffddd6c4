/**
 * The `Cache-Status` response field (RFC 9211): one list member per cache, ours appended after any the
 * origin's own caches set (§2: the member closest to the origin comes first).
 */
export interface CacheStatusParams {
  /** §2.1: answered from cache without going to the origin. */
  hit?: boolean;
  /** §2.2: why the request went forward: bypass, method, uri-miss, vary-miss, miss, request, stale. */
  fwd?: "bypass" | "uri-miss" | "vary-miss" | "miss" | "request" | "stale";
  /** §2.3: the status the origin answered the forwarded request with. */
  fwdStatus?: number;
  /** §2.4: remaining freshness in seconds; negative when stale. */
  ttl?: number;
  /** §2.5: the response was stored. */
  stored?: boolean;
  /** §2.6: the request was collapsed into another one in flight. */
  collapsed?: boolean;
  /** §2.7: the cache key (debug only). */
  key?: string;
  /** §2.8: implementation-specific detail, e.g. the bypass reason. */
  detail?: string;
}

const SF_TOKEN = /^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*$/;

export function cacheStatus(cacheName: string, p: CacheStatusParams): string {
  let out = cacheName;
  if (p.hit) out += "; hit";
  if (p.fwd) out += `; fwd=${p.fwd}`;
  if (p.fwdStatus !== undefined) out += `; fwd-status=${p.fwdStatus}`;
  if (p.ttl !== undefined) out += `; ttl=${Math.floor(p.ttl)}`;
  if (p.stored) out += "; stored";
  if (p.collapsed) out += "; collapsed";
  if (p.key !== undefined) out += `; key=${sfString(p.key)}`;
  if (p.detail !== undefined) out += `; detail=${SF_TOKEN.test(p.detail) ? p.detail : sfString(p.detail)}`;
  return out;
}

/** An RFC 8941 §3.3.3 string: printable ASCII with `"` and `\` escaped; other characters dropped. */
function sfString(value: string): string {
  return `"${value.replace(/[^\x20-\x7e]/g, "").replace(/[\\"]/g, "\\$&")}"`;
}
