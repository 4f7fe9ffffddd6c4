/**
 * A miss: one origin call for every identical request in flight (the leader's), its answer streamed to
 * the client while a copy is read, judged and stored; and the waiters, who get that copy or, past a
 * bound, go on without it.
 */
import { readAll } from "./body.ts";
import { etagFor } from "./handshake.ts";
import { storableHeaders } from "./hop-by-hop.ts";
import { targetUri, uriTag } from "./invalidation.ts";
import type { CacheKey } from "./key.ts";
import type { ResolvedOptions } from "./options.ts";
import { freshness, ruleFor, storeTtl, whyNotStorable } from "./policy.ts";
import { problemText } from "./problem.ts";
import type { BodyClass } from "./protocols/protocol.ts";
import { storeSet } from "./store-calls.ts";
import { tagsOf } from "./tags.ts";
import { callOrigin, holdUntil, idleTimeout, OriginBodyTimeout, OriginTimeout, TIMED_OUT, withDeadline } from "./timeouts.ts";
import type { CacheEntry, CacheStore, Fetcher, RequestContext } from "./types.ts";

/** What a leader hands the requests that waited on it. */
export interface Shared {
  /** The answer as stored, when there is one to share. */
  entry?: CacheEntry;
  /** The origin failed (RFC 5861 §4 "error": a 5xx or no answer at all). */
  failure?: OriginFailure;
}

export interface OriginFailure {
  /** The origin's 5xx status; absent when it gave no answer (network error, timeout). */
  status?: number;
}

/** How storing a copy ended: known only once the whole body has been read. */
export interface StoreOutcome {
  stored: boolean;
  /** Why it was not stored: `too-large`, `origin-body-timeout`, `origin-body-error`, `store-error`, or a protocol's reason. */
  detail?: string;
}

export interface OriginResult {
  response: Response;
  /** A copy is being read to be stored (`Cache-Status: stored`); `outcome` says how that ended. */
  storing: boolean;
  /** Why the answer is not stored, when that is known from its headers. */
  detail?: string;
  /** Set when the origin failed. */
  failure?: OriginFailure;
  /** What the waiters get: settles once the copy is read (or known not to be shared). */
  shared: Promise<Shared>;
  /** Settles once storing has ended (at once when `storing` is false). */
  outcome: Promise<StoreOutcome>;
}

/** Identical misses in flight: key → what the leader's origin call gives. */
export type Inflight = Map<string, Promise<Shared>>;

/** One miss as the engine sees it. */
export interface MissContext {
  store: CacheStore;
  fetcher: Fetcher;
  context: RequestContext;
  url: URL;
  path: string;
}

const NOT_STORED: Promise<StoreOutcome> = Promise.resolve({ stored: false });

/** Asks the origin once for everyone waiting on `key`, and stores the answer when it may. */
export async function fetchAndStore(
  o: ResolvedOptions,
  inflight: Inflight,
  m: MissContext,
  request: Request,
  key: CacheKey,
  requestHeaders: Headers,
  protocol?: BodyClass,
): Promise<OriginResult> {
  let share!: (shared: Shared) => void;
  const shared = new Promise<Shared>((resolve) => {
    share = resolve;
  });
  if (o.coalesce) inflight.set(key.url, shared);
  const release = () => {
    if (inflight.get(key.url) === shared) inflight.delete(key.url);
  };
  const notStored = (response: Response, detail: string, failure?: OriginFailure): OriginResult => {
    share({ failure });
    release();
    return { response, storing: false, detail, failure, shared, outcome: NOT_STORED };
  };

  let response: Response;
  try {
    response = mutable(await callOrigin(m.fetcher, request, o.originTimeoutMs));
  } catch (error) {
    o.onError(error, "origin");
    if (error instanceof OriginTimeout)
      return notStored(problemText(504, "the origin did not answer in time"), "origin-timeout", {});
    return notStored(problemText(502, "the origin could not be reached"), "origin-error", {});
  }
  if (response.status >= 500) return notStored(response, "status", { status: response.status });
  const why = whyNotStorable(response, o);
  if (why) return notStored(response, why);
  const now = o.now();
  const rule = ruleFor(o, m.path);
  const fresh = freshness(response, o, rule, now);
  // RFC 9110 §9.3.3: a POST answer is reusable only with explicit freshness (or an operator's TTL).
  if (!fresh) return notStored(response, "no-freshness");
  const ttl = storeTtl(fresh, now);
  if (ttl <= 0) return notStored(response, "expired");

  const headers = storableHeaders(response.headers);
  const vary = varyOf(response.headers, requestHeaders, o.keyedHeaders);
  const tags = tagsOf(response.headers, rule?.tags);
  const source = response.body ? idleTimeout(response.body, o.originBodyTimeoutMs) : null;
  const [toClient, toCache] = source ? source.tee() : [null, null];
  const collected = readAll(toCache, o.maxResponseBytes);
  // A protocol answer (GraphQL `errors`, a JSON-RPC `error`) is read in full before the client is told
  // whether it is stored; one that is not is not shared, and waiters ask for themselves.
  const rejected =
    protocol?.rejectAnswer &&
    (await protocol.rejectAnswer(
      response,
      collected.catch(() => undefined),
    ));
  if (rejected) return notStored(new Response(toClient, response), rejected);

  const outcome = collected
    .then(async (body): Promise<StoreOutcome> => {
      if (!body) {
        share({});
        return { stored: false, detail: "too-large" };
      }
      // A validator for If-None-Match on later hits (RFC 9110 §8.8.3), unless the origin gave one.
      if (!response.headers.has("etag")) headers.push(["etag", await etagFor(body, o.sha256)]);
      if (o.uriInvalidation) tags.push(await uriTag(targetUri(m.url), o.sha256));
      const entry: CacheEntry = { status: response.status, headers, body, ...fresh, tags };
      if (vary.length > 0) entry.vary = vary;
      share({ entry });
      return (await storeSet(o, m.store, key.url, entry, ttl)) ? { stored: true } : { stored: false, detail: "store-error" };
    })
    .catch((error): StoreOutcome => {
      o.onError(error, "response-body");
      share({});
      return { stored: false, detail: error instanceof OriginBodyTimeout ? "origin-body-timeout" : "origin-body-error" };
    })
    .finally(release);
  m.context.waitUntil?.(outcome);
  const body = m.context.storeBeforeResponseEnds && toClient ? toClient.pipeThrough(holdUntil(outcome)) : toClient;
  return { response: new Response(body, response), storing: true, shared, outcome };
}

/**
 * Waits on an identical request in flight, at most `coalesceTimeoutMs` (nginx's proxy_cache_lock_timeout
 * has the same role and a 5 s default): what it shared, or undefined when it took too long.
 */
export async function waitForLeader(o: ResolvedOptions, pending: Promise<Shared>): Promise<Shared | undefined> {
  const shared = await withDeadline(pending, o.coalesceTimeoutMs);
  return shared === TIMED_OUT ? undefined : shared;
}

/** A copy whose headers we may change (fetch responses' headers can be immutable). */
export function mutable(response: Response): Response {
  return new Response(response.body, response);
}

/** The request header values a response varies on (RFC 9111 §4.1), beyond those already keyed. */
function varyOf(responseHeaders: Headers, requestHeaders: Headers, keyed: string[]): [string, string | null][] {
  const vary = responseHeaders.get("vary");
  if (!vary) return [];
  const names = new Set(
    vary
      .split(",")
      .map((n) => n.trim().toLowerCase())
      .filter((n) => n && !keyed.includes(n)),
  );
  return [...names].map((name) => [name, requestHeaders.get(name)]);
}

export function varyMatches(entry: CacheEntry, headers: Headers): boolean {
  return !entry.vary || entry.vary.every(([name, value]) => headers.get(name) === value);
}
