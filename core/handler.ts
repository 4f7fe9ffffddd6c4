/**
 * The engine: decides for each POST/QUERY request whether to bypass, serve from cache, serve stale, or
 * go to the origin and store, and says which in `Cache-Status`. The cache never breaks a request:
 * every store call is bounded by a timeout and fails open to the origin, and `handle` never rejects.
 *
 * A request goes through these stages, each a function below: admission (exclusions), body, key,
 * lookup, coalescing, origin and store (core/miss.ts).
 */
import { type BodyRead, declaredLength, readBodyCapped } from "./body.ts";
import { type CacheStatusParams, cacheStatus } from "./cache-status.ts";
import { hasCredentials, headerBypassReason, pathBypassReason } from "./exclusions.ts";
import {
  BODY_OMITTED_HEADER,
  type BodyRequiredReason,
  bodyKey,
  isBodyOmitted,
  sameBytes,
  sha256FromContentDigest,
  sha256Of,
} from "./handshake.ts";
import { invalidatedUris, succeeded, uriTag } from "./invalidation.ts";
import { type CacheKey, cacheKey } from "./key.ts";
import {
  fetchAndStore,
  type Inflight,
  type MissContext,
  mutable,
  type OriginFailure,
  type Shared,
  varyMatches,
  waitForLeader,
} from "./miss.ts";
import { type PostcacheOptions, type ResolvedOptions, resolveOptions } from "./options.ts";
import { badRequestUrl, corsEcho, problemJson, problemText } from "./problem.ts";
import { type BodyClass, classifyBody } from "./protocols/protocol.ts";
import { matchesClient, notModified, replay } from "./replay.ts";
import { type RequestDirectives, requestDirectives, reuse } from "./reuse.ts";
import { createStats, type StatsSnapshot } from "./stats.ts";
import { storeDeleteTag, storeGet, storeSet } from "./store-calls.ts";
import type { CacheEntry, CacheOutcome, CacheStore, Fetcher, RequestContext } from "./types.ts";

/** Methods whose answers postcache caches: POST, and QUERY (the safe method with a body). */
const CACHED_METHODS = new Set(["POST", "QUERY"]);
/** RFC 9110 §9.2.1: methods that change nothing, so never trigger invalidation. */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);
/** Bypass reasons that mark a POST as a write, which invalidates its target URI (RFC 9111 §4.4). */
const WRITE_REASONS = new Set(["mutation", "method-override"]);

export interface Postcache {
  /** Answers `request`: from `store` when it can, else through `fetcher`. Never rejects. */
  handle(request: Request, store: CacheStore, fetcher: Fetcher, context?: RequestContext): Promise<Response>;
  /** The validated options. */
  readonly options: ResolvedOptions;
  /** Live counters for this engine (this process or isolate). */
  stats(): StatsSnapshot;
}

/** One request on its way through the engine. */
interface Exchange extends MissContext {
  request: Request;
  method: string;
  started: number;
  timing: { lookup: number; origin: number };
  key?: CacheKey;
  collapsed: boolean;
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
  const protocols = o.protocols.length > 0;
  const protocolContext = { sha256: o.sha256, mutationVerbs: o.mutationVerbs };
  /** A protocol's key body is canonical already: it is keyed as it is. */
  const protocolKeyOptions: ResolvedOptions = { ...o, bodyKey: undefined };
  const inflight: Inflight = new Map();
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
    // A server hands over `/x` as the URL when the Host header cannot make one (Bun, for `Host: a#b`), or
    // folds what it can into the URL (Deno makes `Host: a/b` the path `/b/...`): both are a 400.
    const url = requestUrl(request.url, request.headers.get("host"));
    if (!url) return badRequestUrl();
    const x: Exchange = {
      request,
      url,
      path: url.pathname + url.search,
      method: request.method.toUpperCase(),
      store,
      fetcher,
      context,
      started: elapsedClock(),
      timing: { lookup: -1, origin: -1 },
      collapsed: false,
    };
    try {
      return await answer(x);
    } catch (error) {
      // A bug of ours, never the client's or the origin's: say nothing about it but that it happened.
      o.onError(error, "internal");
      return problemText(500, "internal error");
    }
  }

  async function answer(x: Exchange): Promise<Response> {
    if (o.admin) {
      const admin = await o.admin.respond(x.request, x.url, x.store, stats, o);
      if (admin) return admin;
    }
    if (!CACHED_METHODS.has(x.method)) return passThrough(x);

    // 1. Admission: exclusion rules, from the URL, headers and hooks.
    const { reason, scope } = await admission(x);
    const omitted = isBodyOmitted(x.request.headers);
    if (reason)
      return omitted
        ? bodyRequired(x, "not-cached", `this request is not cached here (${reason})`)
        : bypass(x, x.request, reason);

    // 2. The body: kept from an earlier request (digest handshake), or read under the cap.
    const read = omitted ? await keptBody(x, scope) : await requestBody(x, scope);
    if (read instanceof Response) return read;
    const { bytes, headers } = read;
    const toOrigin = () => originRequest(x.request, headers, bytes);

    // 3. GraphQL, JSON-RPC, SOAP: the operation inside the body decides, and says what the key holds.
    const protocol = protocols ? await classifyBody(o.protocols, x.url, headers, bytes, protocolContext, o.onError) : undefined;
    if (protocol?.bypass) return bypass(x, toOrigin(), protocol.bypass);

    // 4. The key. A protocol's name joins the method (RFC 9110 §9.1: a method is a token, so no request
    // has `POST graphql` for one): its keys never meet raw-body keys.
    const key = protocol
      ? await cacheKey(`${x.method} ${protocol.protocol}`, x.url, headers, protocol.keyBody ?? bytes, scope, protocolKeyOptions)
      : await cacheKey(x.method, x.url, headers, bytes, scope, o);
    x.key = key;

    // 5. Lookup: what the cache holds under the key, and whether this request may have it.
    const directives = requestDirectives(headers);
    const found = await lookup(x, key, headers, directives, protocol, toOrigin);
    if (found instanceof Response) return found;
    const { fwd, stale } = found;
    if (directives.onlyIfCached) {
      return finish(x, problemText(504, "not in cache (only-if-cached)"), "MISS", { fwd, detail: "only-if-cached" });
    }

    // 6. Join an identical request already in flight, when its answer can be shared.
    const pending = o.coalesce && !directives.revalidate ? inflight.get(key.url) : undefined;
    if (pending) {
      const joined = await join(x, pending, headers, fwd, stale, protocol);
      if (joined) return joined;
    }

    // 7. The origin, and the store.
    return miss(x, toOrigin(), key, headers, fwd, stale, protocol);
  }

  /** Every other method passes through untouched (RFC 9110 §9.2.1: only safe methods are ours to reuse);
   * a successful unsafe one invalidates what is stored for its URI (RFC 9111 §4.4). */
  async function passThrough(x: Exchange): Promise<Response> {
    // The handshake is for POST and QUERY: any other request without its body must not reach the origin.
    if (isBodyOmitted(x.request.headers)) {
      const why = `the digest handshake is for POST and QUERY, not ${x.method}`;
      return problemJson(412, "body-required", "Send the full request", why, corsEcho(x.request), { reason: "not-cached" });
    }
    const response = await forward(x.fetcher, x.request);
    if (!SAFE_METHODS.has(x.method)) await invalidate(x, response, true);
    return response;
  }

  /** Why the request must bypass the cache, if it must; else the user scope its key is made for. */
  async function admission(x: Exchange): Promise<{ reason?: string; scope?: string }> {
    let reason = pathVerdict(x.path, x.url.pathname) ?? headerBypassReason(x.request.headers, o);
    let scope: string | undefined;
    if (!reason && o.bypass) {
      const verdict = await hook(() => o.bypass?.(x.request), "bypass");
      if (verdict === HOOK_FAILED) reason = "hook-error";
      else if (verdict) reason = typeof verdict === "string" ? verdict : "custom";
    }
    if (!reason && o.scope) {
      const value = await hook(() => o.scope?.(x.request), "scope");
      if (value === HOOK_FAILED) reason = "hook-error";
      else scope = value ?? undefined;
    }
    // RFC 9111 §3.5: a shared cache must not reuse answers to requests with credentials; per-user
    // caching is the operator's explicit choice through `scope`.
    if (!reason && scope === undefined && hasCredentials(x.request, o)) reason = "credentials";
    return { reason, scope };
  }

  /** The body of a digest-only request, from an earlier full request's kept copy; or the 412 asking for it. */
  async function keptBody(x: Exchange, scope: string | undefined): Promise<{ bytes: Uint8Array; headers: Headers } | Response> {
    const claimed = sha256FromContentDigest(x.request.headers.get("content-digest"));
    if (!o.handshake) return bodyRequired(x, "handshake-off", "the digest handshake is switched off here");
    if (!claimed)
      return bodyRequired(x, "digest-required", "Content-Digest with sha-256 is required with Postcache-Body: omitted");
    const kept = await storeGet(o, x.store, await bodyKey(x.url.origin, claimed, scope, o.sha256));
    if (!kept || !sameBytes(await sha256Of(kept.body, o.sha256), claimed)) {
      return bodyRequired(x, "unknown-body", "this body is not known here");
    }
    const headers = new Headers(x.request.headers);
    headers.delete(BODY_OMITTED_HEADER);
    headers.delete("content-length");
    return { bytes: kept.body, headers };
  }

  /** The request's body, read under `maxBodyBytes`; past the cap the request streams to the origin and
   * nothing is cached. A `Content-Digest` is checked (RFC 9530 §2) and, when it holds, the body kept. */
  async function requestBody(
    x: Exchange,
    scope: string | undefined,
  ): Promise<{ bytes: Uint8Array; headers: Headers } | Response> {
    const { request } = x;
    const declared = declaredLength(request.headers);
    if (declared !== undefined && declared > o.maxBodyBytes) return bypass(x, request, "body-too-large");
    let body: BodyRead;
    try {
      body = await readBodyCapped(request, o.maxBodyBytes, declared);
    } catch (error) {
      o.onError(error, "request-body");
      return finish(x, problemText(400, "could not read the request body"), "BYPASS", {
        fwd: "bypass",
        detail: "body-unreadable",
      });
    }
    if (body.kind === "overflow") return bypass(x, withBody(request, body.stream), "body-too-large");
    const claimed = sha256FromContentDigest(request.headers.get("content-digest"));
    if (claimed) {
      if (!sameBytes(await sha256Of(body.bytes, o.sha256), claimed)) {
        const mismatch = problemJson(
          400,
          "digest-mismatch",
          "Content-Digest does not match the body",
          undefined,
          corsEcho(request),
        );
        return finish(x, mismatch, "BYPASS", { fwd: "bypass", detail: "digest-mismatch" });
      }
      if (o.handshake) keepBody(x, await bodyKey(x.url.origin, claimed, scope, o.sha256), body.bytes);
    }
    return { bytes: body.bytes, headers: request.headers };
  }

  /** What the store holds for `key` and how it may be used: an answer from it, or where to go instead. */
  async function lookup(
    x: Exchange,
    key: CacheKey,
    headers: Headers,
    d: RequestDirectives,
    protocol: BodyClass | undefined,
    toOrigin: () => Request,
  ): Promise<Response | { fwd: CacheStatusParams["fwd"]; stale?: CacheEntry }> {
    if (d.revalidate) return { fwd: "request" };
    const lookupStarted = elapsedClock();
    const entry = await storeGet(o, x.store, key.url);
    x.timing.lookup = elapsedClock() - lookupStarted;
    if (!entry) return { fwd: "uri-miss" };
    if (!varyMatches(entry, headers)) return { fwd: "vary-miss" };
    const age = ageOf(entry);
    const verdict = reuse(entry, age, d);
    const ttl = entry.ttl - age;
    switch (verdict.use) {
      case "fresh":
        return finishReplay(x, entry, age, headers, protocol, false, "HIT", { hit: true, ttl });
      case "max-stale":
        return finishReplay(x, entry, age, headers, protocol, o.staleWarning, "STALE", { hit: true, ttl, detail: "max-stale" });
      case "stale-while-revalidate":
        if (!inflight.has(key.url)) {
          const refresh = fetchAndStore(o, inflight, x, toOrigin(), key, headers, protocol);
          x.context.waitUntil?.(refresh.then((r) => r.response.body?.cancel()).catch(() => {}));
        }
        return finishReplay(x, entry, age, headers, protocol, o.staleWarning, "STALE", {
          fwd: "stale",
          ttl,
          detail: "stale-while-revalidate",
        });
      default:
        return { fwd: verdict.fwd, stale: verdict.staleIfError ? entry : undefined };
    }
  }

  /** Waits on the identical request in flight: its answer, its stale cover, or undefined to go on alone. */
  async function join(
    x: Exchange,
    pending: Promise<Shared>,
    headers: Headers,
    fwd: CacheStatusParams["fwd"],
    stale: CacheEntry | undefined,
    protocol: BodyClass | undefined,
  ): Promise<Response | undefined> {
    const shared = await waitForLeader(o, pending);
    x.collapsed = true;
    if (shared?.entry && varyMatches(shared.entry, headers)) {
      return finishReplay(x, shared.entry, ageOf(shared.entry), headers, protocol, false, "MISS", { fwd, collapsed: true });
    }
    // The origin just failed for this very request, or is too slow to wait on: a usable stale copy
    // beats asking it again.
    if (stale && (shared === undefined || shared.failure))
      return serveStaleOnError(x, stale, shared?.failure ?? {}, headers, protocol);
    x.collapsed = false;
    return undefined;
  }

  /** Goes to the origin as the leader for `key`; answers what it says, or a stale copy if it failed. */
  async function miss(
    x: Exchange,
    request: Request,
    key: CacheKey,
    headers: Headers,
    fwd: CacheStatusParams["fwd"],
    stale: CacheEntry | undefined,
    protocol: BodyClass | undefined,
  ): Promise<Response> {
    const originStarted = elapsedClock();
    const result = await fetchAndStore(o, inflight, x, request, key, headers, protocol);
    x.timing.origin = elapsedClock() - originStarted;
    if (result.failure && stale) {
      result.response.body?.cancel();
      return serveStaleOnError(x, stale, result.failure, headers, protocol);
    }
    const params: CacheStatusParams = { fwd, fwdStatus: result.response.status, stored: result.storing };
    if (result.detail) params.detail = result.detail;
    const response = await conditional(result.response, result.shared, headers);
    return finish(x, response, "MISS", params, undefined, result.storing ? result.outcome : undefined);
  }

  /**
   * A 304 instead of the fresh answer when the client already holds it (RFC 9110 §13.1.2). Fetch clients
   * send `Cache-Control: no-cache` with every If-None-Match (Fetch standard, HTTP-network-or-cache
   * fetch), so their revalidations come here, through the origin, rather than to a hit. Without the
   * origin's ETag the validator is the body's digest: the answer is read in full first.
   */
  async function conditional(response: Response, shared: Promise<Shared>, requestHeaders: Headers): Promise<Response> {
    if (!requestHeaders.has("if-none-match") || response.status !== 200) return response;
    let headers: Headers | undefined = response.headers;
    if (!headers.has("etag")) {
      const { entry } = await shared;
      headers = entry && new Headers(entry.headers);
    }
    if (!headers || !matchesClient(200, headers, requestHeaders)) return response;
    response.body?.cancel().catch(() => {});
    return notModified(headers);
  }

  function serveStaleOnError(
    x: Exchange,
    entry: CacheEntry,
    failure: OriginFailure,
    headers: Headers,
    protocol: BodyClass | undefined,
  ): Response {
    const age = ageOf(entry);
    return finishReplay(x, entry, age, headers, protocol, o.staleWarning, "STALE", {
      fwd: "stale",
      fwdStatus: failure.status,
      ttl: entry.ttl - age,
      detail: "stale-if-error",
      collapsed: x.collapsed || undefined,
    });
  }

  /** Forwards a request the cache stays out of; a successful write invalidates what it changed. */
  async function bypass(x: Exchange, forwarded: Request, detail: string): Promise<Response> {
    const originStarted = elapsedClock();
    const response = mutable(await forward(x.fetcher, forwarded));
    x.timing.origin = elapsedClock() - originStarted;
    await invalidate(x, response, WRITE_REASONS.has(detail));
    return finish(x, response, "BYPASS", { fwd: "bypass", detail });
  }

  /** A digest-only request postcache cannot complete from what it holds: ask for the full request. */
  function bodyRequired(x: Exchange, reason: BodyRequiredReason, why: string): Response {
    const problem = problemJson(412, "body-required", "Send the full request", why, corsEcho(x.request), { reason });
    return finish(x, problem, "BYPASS", { fwd: "bypass", detail: "body-required" });
  }

  /**
   * After a successful write (RFC 9111 §4.4: a non-error status to an unsafe request), purges what is
   * stored for its URI and its same-origin Location / Content-Location (when `byUri`), and the tags its
   * rule names. The answer waits for the purge (each call bounded by storeTimeoutMs), so the client's
   * next read on this node sees the change.
   */
  async function invalidate(x: Exchange, response: Response, byUri: boolean): Promise<void> {
    if (!x.store.deleteTag || !succeeded(response.status)) return;
    const tags = new Set<string>();
    if (byUri && o.uriInvalidation) {
      for (const uri of invalidatedUris(x.url, response.headers)) tags.add(await uriTag(uri, o.sha256));
    }
    const rule = o.rules.find((r) => r.invalidates.length > 0 && r.match.some((re) => re.test(x.path)));
    for (const tag of rule?.invalidates ?? []) tags.add(tag);
    if (tags.size === 0) return;
    const purging = Promise.all([...tags].map((tag) => storeDeleteTag(o, x.store, tag, x.url.origin)));
    x.context.waitUntil?.(purging);
    await purging;
  }

  /** Keeps a request body under its digest, so later digest-only requests can be answered. */
  function keepBody(x: Exchange, key: string, body: Uint8Array) {
    const contentType = x.request.headers.get("content-type");
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
    const keeping = storeSet(o, x.store, key, entry, o.handshakeBodyTtl);
    x.context.waitUntil?.(keeping);
  }

  /**
   * Adds Cache-Status and Server-Timing, and reports the outcome (stats, onResult): at once, or, for a
   * miss whose copy is still being read, once storing has ended, so the report says whether it was.
   */
  function finish(
    x: Exchange,
    response: Response,
    outcome: CacheOutcome,
    params: CacheStatusParams,
    fromCache?: CacheEntry,
    storing?: Promise<{ stored: boolean; detail?: string }>,
    own?: OwnFields,
  ): Response {
    if (!own) {
      own = ownFields(x, params);
      for (const field of own.fields) response.headers.append(field[0], field[1]);
    }
    const { elapsedMs } = own;
    const status = response.status;
    const bytesFromCache = fromCache && status !== 304 ? fromCache.body.byteLength : 0;
    const report = (stored: boolean, detail: string | undefined) => {
      stats.record(outcome, detail, x.collapsed, bytesFromCache, stored);
      o.onResult?.({
        outcome,
        detail,
        method: x.method,
        url: x.request.url,
        status,
        shortKey: x.key?.hex.slice(0, 12),
        collapsed: x.collapsed,
        stored,
        elapsedMs,
        lookupMs: x.timing.lookup >= 0 ? x.timing.lookup : undefined,
        originMs: x.timing.origin >= 0 ? x.timing.origin : undefined,
        bytesFromCache,
      });
    };
    if (storing) storing.then((s) => report(s.stored, s.detail ?? params.detail));
    else report(false, params.detail);
    return response;
  }

  /** Cache-Status, and Server-Timing when on, for this answer; `elapsedMs` is the total it states. */
  function ownFields(x: Exchange, params: CacheStatusParams): OwnFields {
    if (o.debug && x.key) params.key = x.key.url;
    const fields: [string, string][] = [["cache-status", cacheStatus(o.cacheName, params)]];
    const elapsedMs = elapsedClock() - x.started;
    if (o.serverTiming) fields.push(["server-timing", serverTiming(x.timing, elapsedMs)]);
    return { fields, elapsedMs };
  }

  /** `finish` for an answer from a stored entry: our fields go into the replayed response as it is
   * built, so its headers are built once rather than built and then appended to. */
  function finishReplay(
    x: Exchange,
    entry: CacheEntry,
    age: number,
    headers: Headers,
    protocol: BodyClass | undefined,
    warn: boolean,
    outcome: CacheOutcome,
    params: CacheStatusParams,
  ): Response {
    const own = ownFields(x, params);
    return finish(x, replay(entry, age, headers, protocol, warn, own.fields), outcome, params, entry, undefined, own);
  }

  async function hook<T>(call: () => T | Promise<T>, where: string): Promise<T | typeof HOOK_FAILED> {
    try {
      return await call();
    } catch (error) {
      o.onError(error, where);
      return HOOK_FAILED;
    }
  }

  /** Seconds since the entry was generated, on our clock (RFC 9111 §4.2.3, simplified: no transit delay). */
  function ageOf(entry: CacheEntry): number {
    return Math.max(0, (o.now() - entry.storedAt) / 1000);
  }

  return { handle, options: o, stats: () => stats.snapshot() };
}

const HOOK_FAILED = Symbol("hook failed");

/** The fields postcache adds to an answer, and the elapsed time its Server-Timing states. */
interface OwnFields {
  fields: [string, string][];
  elapsedMs: number;
}

/** A monotonic clock for elapsed times where the runtime has one (High Resolution Time), else Date. */
const elapsedClock: () => number =
  typeof performance !== "undefined" && typeof performance.now === "function" ? () => performance.now() : Date.now;

/**
 * RFC 9110 §7.2 and RFC 3986 §3.2.2: `Host` is `uri-host [":" port]`, a reg-name (unreserved, pct-encoded
 * and sub-delims characters) or a bracketed IP literal; RFC 9112 §3.2 makes anything else a 400.
 */
const HOST = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+(?::\d{0,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{0,5})?$/;

/** Verdicts on `Host` values seen, pure functions of the string: a server hears few hosts, and the
 * regex runs on every request otherwise. Bounded like the path verdicts (cleared when full). */
const hostVerdicts = new Map<string, boolean>();

function validHost(host: string): boolean {
  let valid = hostVerdicts.get(host);
  if (valid === undefined) {
    valid = HOST.test(host) && Number(host.match(/:(\d+)$/)?.[1] ?? 0) <= 65535;
    if (hostVerdicts.size >= 1024) hostVerdicts.clear();
    hostVerdicts.set(host, valid);
  }
  return valid;
}

/** The request's URL when it is an http(s) URL and any `Host` it came with is valid, else undefined. */
function requestUrl(value: string, host: string | null): URL | undefined {
  if (host !== null && !validHost(host)) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url : undefined;
  } catch {
    return undefined;
  }
}

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
    return problemText(502, "the origin could not be reached");
  }
}

/** `Server-Timing` (W3C Server Timing): cache lookup, origin, total, in ms; absent phases left out. */
function serverTiming(timing: { lookup: number; origin: number }, total: number): string {
  const parts: string[] = [];
  if (timing.lookup >= 0) parts.push(`cache;desc="lookup";dur=${timing.lookup.toFixed(2)}`);
  if (timing.origin >= 0) parts.push(`origin;dur=${timing.origin.toFixed(2)}`);
  parts.push(`total;dur=${total.toFixed(2)}`);
  return parts.join(", ");
}
