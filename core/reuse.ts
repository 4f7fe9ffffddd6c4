/**
 * Whether a stored entry may answer a request: its freshness (RFC 9111 §4.2), the request's own
 * Cache-Control (§5.2.1), and the stale windows of RFC 5861.
 */
import { deltaSeconds, parseCacheControl } from "./cache-control.ts";
import type { CacheEntry } from "./types.ts";

/** What the request's Cache-Control (and Pragma) asks of the cache. */
export interface RequestDirectives {
  /** no-cache, max-age=0, or Pragma: no-cache: go to the origin whatever is stored (§5.2.1.4, §5.2.1.1, §5.4). */
  revalidate: boolean;
  /** §5.2.1.1: the oldest entry the client accepts, in seconds. */
  maxAge?: number;
  /** §5.2.1.2: how stale an entry the client accepts; Infinity for a bare `max-stale`. */
  maxStale?: number;
  /** §5.2.1.3: how much freshness the entry must have left, in seconds. */
  minFresh: number;
  /** §5.2.1.7: answer from the cache or not at all. */
  onlyIfCached: boolean;
}

const NONE: RequestDirectives = { revalidate: false, minFresh: 0, onlyIfCached: false };

export function requestDirectives(headers: Headers): RequestDirectives {
  const value = headers.get("cache-control");
  if (value === null) {
    // §5.4: Pragma counts only when there is no Cache-Control.
    const pragma = headers.get("pragma");
    return pragma !== null && /(^|,)\s*no-cache\s*(,|$)/i.test(pragma) ? { ...NONE, revalidate: true } : NONE;
  }
  const cc = parseCacheControl(value);
  const maxAge = deltaSeconds(cc.get("max-age"));
  const maxStale = cc.get("max-stale");
  return {
    revalidate: cc.has("no-cache") || maxAge === 0,
    maxAge,
    maxStale: maxStale === true ? Number.POSITIVE_INFINITY : deltaSeconds(maxStale),
    minFresh: deltaSeconds(cc.get("min-fresh")) ?? 0,
    onlyIfCached: cc.has("only-if-cached"),
  };
}

/** How an entry of `age` seconds may answer a request with directives `d`. */
export type Reuse =
  /** Fresh enough: a hit. */
  | { use: "fresh" }
  /** Stale within stale-while-revalidate: serve it and refresh it in the background. */
  | { use: "stale-while-revalidate" }
  /** Stale, but within the request's max-stale: serve it. */
  | { use: "max-stale" }
  /** Go to the origin (RFC 9211 §2.2: `request` when only the request's directives forbade a fresh
   * entry); `staleIfError` says whether the entry may still cover an origin failure. */
  | { use: "forward"; fwd: "request" | "stale"; staleIfError: boolean };

export function reuse(entry: CacheEntry, age: number, d: RequestDirectives): Reuse {
  const remaining = entry.ttl - age;
  if (remaining > 0) {
    if (remaining > d.minFresh && !(d.maxAge !== undefined && age > d.maxAge)) return { use: "fresh" };
    return { use: "forward", fwd: "request", staleIfError: true };
  }
  const staleness = -remaining;
  if (staleness < entry.staleWhileRevalidate) return { use: "stale-while-revalidate" };
  if (d.maxStale !== undefined && staleness <= d.maxStale && mayServeStale(entry)) return { use: "max-stale" };
  return { use: "forward", fwd: "stale", staleIfError: staleness < entry.staleIfError };
}

/**
 * RFC 9111 §5.2.2.2 (must-revalidate), §5.2.2.8 (proxy-revalidate) and §5.2.2.10 (s-maxage, which
 * carries proxy-revalidate's meaning for a shared cache): a stored answer with one of these is never
 * served stale on the client's say-so.
 */
function mayServeStale(entry: CacheEntry): boolean {
  const value = entry.headers.find(([name]) => name === "cache-control")?.[1];
  if (!value) return true;
  const cc = parseCacheControl(value);
  return !cc.has("must-revalidate") && !cc.has("proxy-revalidate") && !cc.has("s-maxage");
}
