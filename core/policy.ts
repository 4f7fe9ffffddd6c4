/**
 * What may be stored, and for how long: RFC 9111 read for a shared cache that has opted in to POST.
 * RFC 9110 §9.3.3 lets a POST response be reused only when it carries explicit freshness, so an answer
 * without `s-maxage`, `max-age` or `Expires` is stored only under a TTL the operator configured
 * (`defaultTtl` or a rule's `ttl`), and then only for 200, 203 and 204. Otherwise postcache applies
 * GET's rules to POST and QUERY (RFC 9110 §9.3.8, the QUERY method draft).
 */
import { deltaSeconds, parseCacheControl } from "./cache-control.ts";
import type { ResolvedOptions } from "./options.ts";

/** Why a response must not be stored, or `undefined` if it may be. */
export function whyNotStorable(response: Response, options: ResolvedOptions): string | undefined {
  const cc = parseCacheControl(response.headers.get("cache-control"));
  const vary = response.headers.get("vary");
  const length = Number(response.headers.get("content-length") ?? Number.NaN);
  return (
    // RFC 9111 §3: the status must be understood and, without explicit freshness, heuristically
    // cacheable (RFC 9110 §15.1); the operator narrows or widens that list.
    (!options.cacheableStatuses.has(response.status) && "status") ||
    // RFC 9111 §3.4: postcache never combines partial content.
    (response.headers.has("content-range") && "partial") ||
    // RFC 9111 §5.2.2.5: no-store forbids storing, in any cache.
    (cc.has("no-store") && "no-store") ||
    // RFC 9111 §5.2.2.7: a shared cache must not store a private response.
    (cc.has("private") && "private") ||
    // RFC 9111 §5.2.2.4: no-cache demands revalidation on every use; a POST has no conditional form
    // we could send, so storing would be pointless.
    (cc.has("no-cache") && "no-cache") ||
    // RFC 6265 §4.1 and RFC 9111 §7.3: a Set-Cookie answer belongs to one client.
    (response.headers.has("set-cookie") && "set-cookie") ||
    // RFC 9111 §4.1: "Vary: *" always fails to match.
    (vary?.split(",").some((v) => v.trim() === "*") && "vary-star") ||
    (length > options.maxResponseBytes && "too-large") ||
    undefined
  );
}

/** Freshness of a response about to be stored. */
export interface Freshness {
  /** ms since the epoch when the response was generated (our clock minus its `Age`). */
  storedAt: number;
  ttl: number;
  staleWhileRevalidate: number;
  staleIfError: number;
}

/** The first rule whose patterns match `path`, if any. */
export function ruleFor(options: ResolvedOptions, path: string): Rule | undefined {
  return options.rules.find((r) => r.match.some((re) => re.test(path)));
}

type Rule = ResolvedOptions["rules"][number];

/** Statuses an operator's TTL may give freshness to when the origin gave none: the successful answers
 * a client reads as results. A 404 or 410 from an API without Cache-Control is not the operator's to keep. */
const OPERATOR_TTL_STATUSES = new Set([200, 203, 204]);

/** RFC 9111 §4.2.1 (freshness lifetime, s-maxage first for a shared cache), §4.2.3 (age), RFC 5861.
 * `rule` is the request's rule (`ruleFor`), whose overrides win. Undefined when the answer has no
 * freshness at all: no explicit freshness, and no operator TTL that applies to it. */
export function freshness(
  response: Response,
  options: ResolvedOptions,
  rule: Rule | undefined,
  now: number,
): Freshness | undefined {
  const cc = parseCacheControl(response.headers.get("cache-control"));
  const age = deltaSeconds(response.headers.get("age") ?? undefined) ?? 0;
  const explicit = deltaSeconds(cc.get("s-maxage")) ?? deltaSeconds(cc.get("max-age")) ?? expiresLifetime(response, now);
  const operator = rule?.ttl ?? options.defaultTtl;
  const ttl =
    explicit !== undefined ? (rule?.ttl ?? explicit) : OPERATOR_TTL_STATUSES.has(response.status) ? operator : undefined;
  if (ttl === undefined) return undefined;
  // RFC 9111 §5.2.2.2 and §5.2.2.8: must-revalidate and proxy-revalidate forbid serving stale.
  const mayServeStale = !cc.has("must-revalidate") && !cc.has("proxy-revalidate");
  const swr = deltaSeconds(cc.get("stale-while-revalidate")) ?? rule?.staleWhileRevalidate ?? options.staleWhileRevalidate;
  const sie = deltaSeconds(cc.get("stale-if-error")) ?? rule?.staleIfError ?? options.staleIfError;
  return {
    storedAt: now - age * 1000,
    ttl,
    staleWhileRevalidate: mayServeStale ? swr : 0,
    staleIfError: mayServeStale ? sie : 0,
  };
}

/** RFC 9111 §5.3: Expires minus Date; an invalid Expires means "already expired". */
function expiresLifetime(response: Response, now: number): number | undefined {
  const expires = response.headers.get("expires");
  if (expires === null) return undefined;
  const at = Date.parse(expires);
  if (Number.isNaN(at)) return 0;
  const date = Date.parse(response.headers.get("date") ?? "");
  const base = Number.isNaN(date) ? now : date;
  return Math.max(0, Math.floor((at - base) / 1000));
}

/** How long a store should keep an entry: its lifetime plus the longest stale window, minus its age. */
export function storeTtl(f: Freshness, now: number): number {
  const age = Math.max(0, (now - f.storedAt) / 1000);
  return Math.floor(f.ttl + Math.max(f.staleWhileRevalidate, f.staleIfError) - age);
}
