/**
 * The engine: decides for each POST/QUERY request whether to bypass, serve from cache, serve stale, or
 * go to the origin and store, and says which in `Cache-Status`. The cache never breaks a request:
 * every store call is bounded by a timeout and fails open to the origin.
 */
import { adminResponse } from "./admin.ts";
import { type BodyRead, declaredLength, readAll, readBodyCapped } from "./body.ts";
import { parseCacheControl } from "./cache-control.ts";
import { type CacheStatusParams, cacheStatus } from "./cache-status.ts";
import { hasCredentials, headerBypassReason, pathBypassReason } from "./exclusions.ts";
import {
  BODY_OMITTED_HEADER,
  type BodyRequiredReason,
  bodyKey,
  etagFor,
  isBodyOmitted,
  noneMatch,
  sameBytes,
  sha256FromContentDigest,
  sha256Of,
} from "./handshake.ts";
import { storableHeaders } from "./hop-by-hop.ts";
import { type CacheKey, cacheKey } from "./key.ts";
import { type PostcacheOptions, type ResolvedOptions, resolveOptions } from "./options.ts";
import { freshness, ruleFor, storeTtl, whyNotStorable } from "./policy.ts";
import { corsEcho, problemJson, problemText } from "./problem.ts";
import { type BodyClass, classifyBody } from "./protocols/protocol.ts";
import { createStats, type StatsSnapshot } from "./stats.ts";
import { tagsOf } from "./tags.ts";
import type { CacheEntry, CacheOutcome, CacheStore, Fetcher, RequestContext } from "./types.ts";

/** Methods whose answers postcache caches: POST, and QUERY (the safe method with a body). */
const CACHED_METHODS = new Set(["POST", "QUERY"]);
/** RFC 9110 §9.2.1: methods that change nothing, so never trigger invalidation. */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);
/** RFC 9110 §15.4.5: what a 304 carries of the answer it stands for, plus our own Age. */
const NOT_MODIFIED_HEADERS = ["cache-control", "content-location", "date", "etag", "expires", "vary", "age"];
/** RFC 9110 §15.3.5, §15.3.6, §15.4.5: statuses whose responses have no body. */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

export interface Postcache {
  /** Answers `request`: from `store` when it can, else through `fetcher`. Never rejects. */
  handle(request: Request, store: CacheStore, fetcher: Fetcher, context?: RequestContext): Promise<Response>;
  /** The validated options. */
  readonly options: ResolvedOptions;
  /** Live counters for this engine (this process or isolate). */
  stats(): StatsSnapshot;
}

/**
 * Validates options once and returns an engine whose in-flight map (request coalescing) lives as long
 * as it does: create one per process or isolate, not per request.
 *
 * @example
 * const postcache = createPostcache({ exclude: ["/admin/*"], defaultTtl: 300 });
 * const store = memoryStore();
 * export default { fetch: (req: Request) => postcache.handle(req, store, (r) => fetch(r)) };
 */
export function createPostcache(options: PostcacheOptions = {}): Postcache {
  const o = resolveOptions(options);
  const stats = createStats(o.now);
  const invalidating = o.rules.some((rule) => rule.invalidates.length > 0);
  const protocols = o.protocols.length > 0;
  const protocolContext = { sha256: o.sha256, mutationVerbs: o.mutationVerbs };
  /** A protocol's key body is canonical already: it is keyed as it is. */
  const protocolKeyOptions: ResolvedOptions = { ...o, canonicalJson: false };
  /** Identical misses in flight: key → what the leader's origin call gave. */
  const inflight = new Map<string, Promise<Shared>>();
  /** URL-only exclusion verdicts by path: an API has few paths, and judging one costs a decode and regexes. */
  const pathVerdicts = new Map<string, string | null>();
  function pathVerdict(path: string, pathname: string): string | undefined {
    let verdict = pathVerdicts.get(path);
    if (verdict === undefined) {
      if (pathVerdicts.size >= 1024) pathVerdicts.clear();
      verdict = pathBypassReason(path, pathname, o) ?? null;
      pathVerdicts.set(path, verdict);
    }
    return verdict ?? undefined;
  }

  async function handle(request: Request, store: CacheStore, fetcher: Fetcher, context: RequestContext = {}): Promise<Response> {
    const started = elapsedClock();
    const method = request.method.toUpperCase();
    if (o.admin) {
      const admin = await adminResponse(request, new URL(request.url), store, stats, o);
      if (admin) return admin;
    }
    // Every other method passes through untouched (RFC 9110 §9.2.1: only safe methods are ours to reuse),
    // though a successful unsafe one may purge the tags a rule names.
    if (!CACHED_METHODS.has(method)) {
      // The handshake is for POST and QUERY: any other request without its body must not reach the origin.
      if (isBodyOmitted(request.headers)) {
        return problemJson(
          412,
          "body-required",
          "Send the full request",
          `the digest handshake is for POST and QUERY, not ${method}`,
          corsEcho(request),
          { reason: "not-cached" },
        );
      }
      const response = await forward(fetcher, request);
      if (invalidating && !SAFE_METHODS.has(method)) invalidate(request, response, store, context);
      return response;
    }

    const url = new URL(request.url);
    const path = url.pathname + url.search;
    let key: CacheKey | undefined;
    let collapsed = false;
    const timing = { lookup: -1, origin: -1 };

    const finish = (response: Response, outcome: CacheOutcome, params: CacheStatusParams, fromCache?: CacheEntry): Response => {
      if (o.debug && key) params.key = key.url;
      response.headers.append("cache-status", cacheStatus(o.cacheName, params));
      const elapsedMs = elapsedClock() - started;
      if (o.serverTiming) response.headers.append("server-timing", serverTiming(timing, elapsedMs));
      stats.record(outcome, params.detail, collapsed, fromCache && response.status !== 304 ? fromCache.body.byteLength : 0);
      o.onResult?.({
        outcome,
        detail: params.detail,
        method,
        url: request.url,
        status: response.status,
        shortKey: key?.hex.slice(0, 12),
        collapsed,
        elapsedMs,
      });
      return response;
    };
    const bypass = async (forwarded: Request, detail: string) => {
      const response = finish(mutable(await forward(fetcher, forwarded)), "BYPASS", { fwd: "bypass", detail });
      if (invalidating) invalidate(request, response, store, context);
      return response;
    };
    /** A digest-only request postcache cannot complete from what it holds: ask for the full request. */
    const bodyRequired = (reason: BodyRequiredReason, why: string) =>
      finish(problemJson(412, "body-required", "Send the full request", why, corsEcho(request), { reason }), "BYPASS", {
        fwd: "bypass",
        detail: "body-required",
      });

    // 1. Exclusion rules, from the URL and headers alone.
    let reason = pathVerdict(path, url.pathname) ?? headerBypassReason(request.headers, o);
    let scope: string | undefined;
    if (!reason && o.bypass) {
      const verdict = await hook(() => o.bypass?.(request), "bypass");
      if (verdict === HOOK_FAILED) reason = "hook-error";
      else if (verdict) reason = typeof verdict === "string" ? verdict : "custom";
    }
    if (!reason && o.scope) {
      const value = await hook(() => o.scope?.(request), "scope");
      if (value === HOOK_FAILED) reason = "hook-error";
      else scope = value ?? undefined;
    }
    // RFC 9111 §3.5: a shared cache must not reuse answers to requests with credentials; per-user
    // caching is the operator's explicit choice through `scope`.
    if (!reason && scope === undefined && hasCredentials(request, o)) reason = "credentials";
    const omitted = isBodyOmitted(request.headers);
    if (reason)
      return omitted ? bodyRequired("not-cached", `this request is not cached here (${reason})`) : bypass(request, reason);

    // 2. The body: kept from an earlier request (digest handshake), or read under the cap. Past the cap
    // the request streams to the origin and nothing is cached.
    let bytes: Uint8Array;
    let headers = request.headers;
    const claimed = sha256FromContentDigest(request.headers.get("content-digest"));
    if (omitted) {
      if (!o.handshake) return bodyRequired("handshake-off", "the digest handshake is switched off here");
      if (!claimed)
        return bodyRequired("digest-required", "Content-Digest with sha-256 is required with Postcache-Body: omitted");
      const kept = await storeGet(store, await bodyKey(url.origin, claimed, scope, o.sha256));
      if (!kept || !sameBytes(await sha256Of(kept.body, o.sha256), claimed)) {
        return bodyRequired("unknown-body", "this body is not known here");
      }
      bytes = kept.body;
      headers = new Headers(request.headers);
      headers.delete(BODY_OMITTED_HEADER);
      headers.delete("content-length");
    } else {
      const declared = declaredLength(request.headers);
      if (declared !== undefined && declared > o.maxBodyBytes) return bypass(request, "body-too-large");
      let body: BodyRead;
      try {
        body = await readBodyCapped(request, o.maxBodyBytes, declared);
      } catch (error) {
        o.onError(error, "request-body");
        return finish(problem(400, "could not read the request body"), "BYPASS", { fwd: "bypass", detail: "body-unreadable" });
      }
      if (body.kind === "overflow") return bypass(withBody(request, body.stream), "body-too-large");
      bytes = body.bytes;
      // RFC 9530 §2: a Content-Digest that does not match the content is an error; nothing is stored.
      if (claimed) {
        if (!sameBytes(await sha256Of(bytes, o.sha256), claimed)) {
          return finish(
            problemJson(400, "digest-mismatch", "Content-Digest does not match the body", undefined, corsEcho(request)),
            "BYPASS",
            {
              fwd: "bypass",
              detail: "digest-mismatch",
            },
          );
        }
        if (o.handshake) keepBody(store, await bodyKey(url.origin, claimed, scope, o.sha256), bytes, request.headers, context);
      }
    }
    const toOrigin = () => originRequest(request, headers, bytes);

    // 3. GraphQL, JSON-RPC, SOAP: the operation inside the body decides, and says what the key holds.
    const protocol = protocols ? await classifyBody(o.protocols, url, headers, bytes, protocolContext, o.onError) : undefined;
    if (protocol?.bypass) return bypass(toOrigin(), protocol.bypass);

    // 4. The key, and what the cache holds under it. A protocol's name joins the method (RFC 9110 §9.1: a
    // method is a token, so no request has `POST graphql` for one): its keys never meet raw-body keys.
    key = protocol
      ? await cacheKey(`${method} ${protocol.protocol}`, url, headers, protocol.keyBody ?? bytes, scope, protocolKeyOptions)
      : await cacheKey(method, url, headers, bytes, scope, o);
    const requestCc = parseCacheControl(headers.get("cache-control"));
    // RFC 9111 §5.2.1.4 (no-cache), §5.2.1.1 (max-age=0), §5.4 (Pragma only without Cache-Control).
    const revalidate =
      requestCc.has("no-cache") ||
      requestCc.get("max-age") === "0" ||
      (!headers.has("cache-control") && /(^|,)\s*no-cache\s*(,|$)/i.test(headers.get("pragma") ?? ""));

    let stale: CacheEntry | undefined;
    let fwd: CacheStatusParams["fwd"] = revalidate ? "request" : "uri-miss";
    if (!revalidate) {
      const lookupStarted = elapsedClock();
      const entry = await storeGet(store, key.url);
      timing.lookup = elapsedClock() - lookupStarted;
      if (entry && !varyMatches(entry, headers)) fwd = "vary-miss";
      else if (entry) {
        const age = ageOf(entry);
        if (age < entry.ttl)
          return finish(replay(entry, age, headers, protocol), "HIT", { hit: true, ttl: entry.ttl - age }, entry);
        if (age < entry.ttl + entry.staleWhileRevalidate) {
          if (!inflight.has(key.url)) {
            const refresh = fetchAndStore(store, fetcher, toOrigin(), key, path, headers, context, protocol);
            const refreshed = refresh.then((r) => r.response.body?.cancel()).catch(() => {});
            context.waitUntil?.(refreshed);
          }
          return finish(
            replay(entry, age, headers, protocol, true),
            "STALE",
            { fwd: "stale", ttl: entry.ttl - age, detail: "stale-while-revalidate" },
            entry,
          );
        }
        fwd = "stale";
        if (age < entry.ttl + entry.staleIfError) stale = entry;
      }
    }
    // RFC 9111 §5.2.1.7: only-if-cached with nothing usable is a 504.
    if (requestCc.has("only-if-cached")) {
      return finish(problem(504, "not in cache (only-if-cached)"), "MISS", { fwd, detail: "only-if-cached" });
    }

    // 5. Join an identical request already in flight, when its answer can be shared.
    const pending = o.coalesce && !revalidate ? inflight.get(key.url) : undefined;
    if (pending) {
      const shared = await pending;
      collapsed = true;
      if (shared.entry && varyMatches(shared.entry, headers)) {
        return finish(
          replay(shared.entry, ageOf(shared.entry), headers, protocol),
          "MISS",
          { fwd, collapsed: true },
          shared.entry,
        );
      }
      // The origin just failed for this very request: a usable stale copy beats asking it again.
      if (shared.failure && stale) return serveStaleOnError(stale, shared.failure);
      collapsed = false;
    }

    // 6. The origin.
    const originStarted = elapsedClock();
    const result = await fetchAndStore(store, fetcher, toOrigin(), key, path, headers, context, protocol);
    timing.origin = elapsedClock() - originStarted;
    if (result.failure && stale) {
      result.response.body?.cancel();
      return serveStaleOnError(stale, result.failure);
    }
    const params: CacheStatusParams = { fwd, fwdStatus: result.response.status, stored: result.stored };
    if (result.detail) params.detail = result.detail;
    return finish(result.response, "MISS", params);

    function serveStaleOnError(entry: CacheEntry, failure: OriginFailure): Response {
      const age = ageOf(entry);
      return finish(
        replay(entry, age, headers, protocol, true),
        "STALE",
        {
          fwd: "stale",
          fwdStatus: failure.status,
          ttl: entry.ttl - age,
          detail: "stale-if-error",
          collapsed: collapsed || undefined,
        },
        entry,
      );
    }
  }

  /** Keeps a request body under its digest, so later digest-only requests can be answered. */
  function keepBody(store: CacheStore, key: string, body: Uint8Array, headers: Headers, context: RequestContext) {
    const contentType = headers.get("content-type");
    const entry: CacheEntry = {
      status: 200,
      headers: contentType ? [["content-type", contentType]] : [],
      body,
      storedAt: o.now(),
      ttl: o.handshakeBodyTtl,
      staleWhileRevalidate: 0,
      staleIfError: 0,
    };
    // Started here, not inside `waitUntil?.(...)`: an optional call skips evaluating its argument.
    const keeping = storeSet(store, key, entry, o.handshakeBodyTtl);
    context.waitUntil?.(keeping);
  }

  /** After a successful unsafe request, purges the tags the first matching rule names (in the background). */
  function invalidate(request: Request, response: Response, store: CacheStore, context: RequestContext): void {
    if (response.status < 200 || response.status > 299 || !store.deleteTag) return;
    const url = new URL(request.url);
    const path = url.pathname + url.search;
    const rule = o.rules.find((r) => r.invalidates.length > 0 && r.match.some((re) => re.test(path)));
    if (!rule) return;
    const deleteTag = store.deleteTag.bind(store);
    const purging = Promise.all(
      rule.invalidates.map((tag) =>
        bounded(deleteTag(tag, { origin: url.origin }), o.storeTimeoutMs, `${store.name}.deleteTag`).catch((error) =>
          o.onError(error, "store.deleteTag"),
        ),
      ),
    );
    context.waitUntil?.(purging);
  }

  /** What a leader hands the requests that waited on it. */
  interface Shared {
    /** The stored answer, when there is one to share. */
    entry?: CacheEntry;
    /** The origin failed (RFC 5861 §4 "error": a 5xx or no answer at all). */
    failure?: OriginFailure;
  }

  interface OriginFailure {
    /** The origin's 5xx status; absent when it gave no answer (network error, timeout). */
    status?: number;
  }

  interface OriginResult {
    response: Response;
    stored: boolean;
    /** Why the answer was not stored. */
    detail?: string;
    /** Set when the origin failed. */
    failure?: OriginFailure;
  }

  /** Asks the origin once for everyone waiting on `key`, and stores the answer when it may. */
  async function fetchAndStore(
    store: CacheStore,
    fetcher: Fetcher,
    request: Request,
    key: CacheKey,
    path: string,
    requestHeaders: Headers,
    context: RequestContext,
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
    const notShared = (result: OriginResult) => {
      share({ failure: result.failure });
      release();
      return result;
    };

    let response: Response;
    try {
      response = mutable(await withTimeout(fetcher, request, o.originTimeoutMs));
    } catch (error) {
      o.onError(error, "origin");
      const timedOut = error instanceof OriginTimeout;
      const answer = timedOut
        ? problem(504, "the origin did not answer in time")
        : problem(502, "the origin could not be reached");
      return notShared({
        response: answer,
        stored: false,
        detail: timedOut ? "origin-timeout" : "origin-error",
        failure: {},
      });
    }
    if (response.status >= 500)
      return notShared({ response, stored: false, detail: "status", failure: { status: response.status } });
    const why = whyNotStorable(response, o);
    if (why) return notShared({ response, stored: false, detail: why });
    const now = o.now();
    const rule = ruleFor(o, path);
    const fresh = freshness(response, o, rule, now);
    const ttl = storeTtl(fresh, now);
    if (ttl <= 0) return notShared({ response, stored: false, detail: "expired" });

    const headers = storableHeaders(response.headers);
    const vary = varyOf(response.headers, requestHeaders, o.keyedHeaders);
    const tags = tagsOf(response.headers, rule?.tags);
    const [toClient, toCache] = response.body ? response.body.tee() : [null, null];
    const collected = readAll(toCache, o.maxResponseBytes);
    // A protocol answer (GraphQL `errors`, a JSON-RPC `error`) is read in full before the client is told
    // whether it is stored; one that is not is not shared, and waiters ask for themselves.
    const rejected =
      protocol?.rejectAnswer &&
      (await protocol.rejectAnswer(
        response,
        collected.catch(() => undefined),
      ));
    if (rejected) return notShared({ response: new Response(toClient, response), stored: false, detail: rejected });
    const storing = collected
      .then(async (body) => {
        if (!body) return share({});
        // A validator for If-None-Match on later hits (RFC 9110 §8.8.3), unless the origin gave one.
        if (!response.headers.has("etag")) headers.push(["etag", await etagFor(body, o.sha256)]);
        const entry: CacheEntry = { status: response.status, headers, body, ...fresh, tags };
        if (vary.length > 0) entry.vary = vary;
        share({ entry });
        await storeSet(store, key.url, entry, ttl);
      })
      .catch((error) => {
        o.onError(error, "response-body");
        share({});
      })
      .finally(release);
    context.waitUntil?.(storing);
    const body = context.storeBeforeResponseEnds && toClient ? toClient.pipeThrough(holdUntil(storing)) : toClient;
    return { response: new Response(body, response), stored: true };
  }

  async function storeGet(store: CacheStore, key: string): Promise<CacheEntry | undefined> {
    try {
      const entry = await bounded(store.get(key), o.storeTimeoutMs, `${store.name}.get`);
      if (entry === undefined || isEntry(entry)) return entry;
      throw new TypeError(`[postcache] [${store.name}] get returned something that is not a cache entry`);
    } catch (error) {
      o.onError(error, "store.get");
      return undefined;
    }
  }

  async function storeSet(store: CacheStore, key: string, entry: CacheEntry, ttl: number): Promise<void> {
    try {
      await bounded(store.set(key, entry, ttl), o.storeTimeoutMs, `${store.name}.set`);
    } catch (error) {
      o.onError(error, "store.set");
    }
  }

  /** Seconds since the entry was generated, on our clock (RFC 9111 §4.2.3, simplified: no transit delay). */
  function ageOf(entry: CacheEntry): number {
    return Math.max(0, (o.now() - entry.storedAt) / 1000);
  }

  /** A response from a stored entry, with `Age` (RFC 9111 §5.1) and, when stale, `Warning: 110`; a 304
   * when the request's If-None-Match matches it (RFC 9110 §13.1.2, §15.4.5). A protocol may rewrite the
   * body for this request (JSON-RPC's `id`). */
  function replay(entry: CacheEntry, age: number, requestHeaders: Headers, protocol?: BodyClass, isStale = false): Response {
    const headers = new Headers(entry.headers);
    headers.set("age", String(Math.floor(age)));
    const body = protocol?.replayBody ? protocol.replayBody(entry.body) : entry.body;
    // Rewritten bytes are not the representation the stored validator names (RFC 9110 §8.8.3).
    if (body !== entry.body) headers.delete("etag");
    if (isStale && o.staleWarning) headers.append("warning", '110 - "Response is Stale"');
    if (entry.status === 200 && noneMatch(requestHeaders.get("if-none-match"), headers.get("etag") ?? undefined)) {
      const notModified = new Headers();
      for (const name of NOT_MODIFIED_HEADERS) {
        const value = headers.get(name);
        if (value !== null) notModified.set(name, value);
      }
      return new Response(null, { status: 304, headers: notModified });
    }
    return new Response(NULL_BODY_STATUSES.has(entry.status) ? null : (body as Uint8Array<ArrayBuffer>), {
      status: entry.status,
      headers,
    });
  }

  async function hook<T>(call: () => T | Promise<T>, where: string): Promise<T | typeof HOOK_FAILED> {
    try {
      return await call();
    } catch (error) {
      o.onError(error, where);
      return HOOK_FAILED;
    }
  }

  return { handle, options: o, stats: () => stats.snapshot() };
}

const HOOK_FAILED = Symbol("hook failed");

/** A monotonic clock for elapsed times where the runtime has one (High Resolution Time), else Date. */
const elapsedClock: () => number =
  typeof performance !== "undefined" && typeof performance.now === "function" ? () => performance.now() : Date.now;

const engines = new WeakMap<PostcacheOptions, Postcache>();

/**
 * Answers one request. `options` may be plain options (validated once per options object, which
 * keeps its own coalescing map) or an engine from `createPostcache`.
 *
 * @example
 * export default { fetch: (req, env, ctx) => handlePost(req, store, fetch, { defaultTtl: 60 }, ctx) };
 */
export function handlePost(
  request: Request,
  store: CacheStore,
  fetcher: Fetcher,
  options: PostcacheOptions | Postcache = {},
  context?: RequestContext,
): Promise<Response> {
  let engine = isEngine(options) ? options : engines.get(options);
  if (!engine) {
    engine = createPostcache(options as PostcacheOptions);
    engines.set(options as PostcacheOptions, engine);
  }
  return engine.handle(request, store, fetcher, context);
}

function isEngine(value: PostcacheOptions | Postcache): value is Postcache {
  return typeof (value as Postcache).handle === "function";
}

/** The request the origin gets: the client's, with the body we already read (or rebuilt). */
function originRequest(request: Request, headers: Headers, body: Uint8Array): Request {
  return new Request(request.url, {
    method: request.method,
    headers,
    body: body.byteLength > 0 ? (body as Uint8Array<ArrayBuffer>) : null,
    redirect: request.redirect,
  });
}

function withBody(request: Request, body: ReadableStream<Uint8Array>): Request {
  // `duplex: "half"` is required by the Fetch standard for a streaming request body.
  return new Request(request.url, {
    method: request.method,
    headers: request.headers,
    body,
    redirect: request.redirect,
    signal: request.signal,
    duplex: "half",
  } as RequestInit);
}

/** Forwards a request the cache stays out of; an unreachable origin becomes a clear 502. */
async function forward(fetcher: Fetcher, request: Request): Promise<Response> {
  try {
    return await fetcher(request);
  } catch {
    return problem(502, "the origin could not be reached");
  }
}

/** A copy whose headers we may change (fetch responses' headers can be immutable). */
function mutable(response: Response): Response {
  return new Response(response.body, response);
}

const problem = problemText;

/** `Server-Timing` (W3C Server Timing): cache lookup, origin, total, in ms; absent phases left out. */
function serverTiming(timing: { lookup: number; origin: number }, total: number): string {
  const parts: string[] = [];
  if (timing.lookup >= 0) parts.push(`cache;desc="lookup";dur=${timing.lookup.toFixed(2)}`);
  if (timing.origin >= 0) parts.push(`origin;dur=${timing.origin.toFixed(2)}`);
  parts.push(`total;dur=${total.toFixed(2)}`);
  return parts.join(", ");
}

class OriginTimeout extends Error {
  constructor(ms: number) {
    super(`[postcache] the origin did not answer within ${ms} ms`);
    this.name = "OriginTimeout";
  }
}

/** Calls the origin; past `ms` without response headers, aborts it and rejects with OriginTimeout. */
async function withTimeout(fetcher: Fetcher, request: Request, ms: number): Promise<Response> {
  if (ms === 0) return fetcher(request);
  const controller = new AbortController();
  const timed = new Request(request, { signal: controller.signal });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new OriginTimeout(ms));
    }, ms);
  });
  try {
    return await Promise.race([fetcher(timed), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const PENDING = Symbol("pending");

/** Settles like `promise`, or rejects after `ms`. */
async function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  // An in-process store has settled already: racing a settled marker tells (Promise.race settles with
  // the first argument that has settled), and saves arming and clearing a timer per call.
  const first = await Promise.race([promise, PENDING]);
  if (first !== PENDING) return first as T;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`[postcache] ${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Passes chunks through unchanged, and ends only once `settled` has settled. */
function holdUntil(settled: Promise<unknown>): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream({ flush: () => settled.then(noop, noop) });
}

function noop(): void {}

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

function varyMatches(entry: CacheEntry, headers: Headers): boolean {
  return !entry.vary || entry.vary.every(([name, value]) => headers.get(name) === value);
}

function isEntry(value: unknown): value is CacheEntry {
  const e = value as CacheEntry;
  return (
    typeof e === "object" &&
    e !== null &&
    Number.isInteger(e.status) &&
    Array.isArray(e.headers) &&
    // Not `instanceof`: a store or runtime may hand back bytes made in another realm.
    ArrayBuffer.isView(e.body) &&
    Number.isFinite(e.storedAt) &&
    Number.isFinite(e.ttl) &&
    Number.isFinite(e.staleWhileRevalidate) &&
    Number.isFinite(e.staleIfError)
  );
}
