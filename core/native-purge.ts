/**
 * Edge-wide invalidation through the provider's own purge (issue 13), `postcache/native-purge`, an entry
 * of its own so bundles without it carry none of its code. On Cache-API platforms a store's purge
 * reaches one data centre; some providers' purge APIs reach Cache API entries in every one of them.
 * `withNativePurge(store, purger)` sends each purge to both: the store's own (this data centre, at once)
 * and the purger's (everywhere, as fast as the provider propagates it):
 *
 * - purge by tag → `purgeTags([tag])`; tags asked for in the same turn go out in one call (the engine
 *   purges an unsafe request's URI tags side by side), batched by the purger to its API's limit;
 * - purge by key → `purgeUrls([key])` when the purger can (a key is an absolute GET URL, core/key.ts);
 *   otherwise the key purge stays local;
 * - purge everything → a purge of `ALL_TAG`, which every entry carries, so only postcache's entries go
 *   (`everything: "zone"` makes it the provider's "purge everything" for the zone or site instead).
 *
 * A failing provider call is reported to `onError` and then rejects the purge, as the shared purge log
 * does (admin → 503, "did not reach everywhere": retry), once the local purge has happened. The engine's
 * invalidations after unsafe requests catch it (fail open: the response is unchanged). Each provider
 * request is bounded by the purger's `timeoutMs`; tokens never appear in errors.
 */
import { ALL_TAG } from "./tags.ts";
import type { CacheStore } from "./types.ts";

/** A provider's purge API, as `withNativePurge` calls it. Every call may reject. */
export interface NativePurger {
  /** A short name used in error messages, e.g. `cloudflare`, `netlify`, `edgeone`. */
  readonly name: string;
  /** Purge every cached object carrying one of `tags`, everywhere the provider caches. */
  purgeTags(tags: string[]): Promise<void>;
  /** Optional: purge these absolute URLs. Without it, purges by key reach only the local store. */
  purgeUrls?(urls: string[]): Promise<void>;
  /** Purge everything the zone or site caches (not only postcache's entries). */
  purgeAll(): Promise<void>;
}

export type NativePurgeStage = "native-purge" | "native-purge.local";

export interface NativePurgeOptions {
  /**
   * Called when the provider's purge fails (`native-purge`; the purge then rejects), or when the local
   * store's fails while the provider's succeeded (`native-purge.local`; the purge then resolves, since
   * the provider's purge reached this data centre too). Default: nothing.
   */
  onError?: (error: unknown, during: NativePurgeStage) => void;
  /**
   * What "purge everything" asks of the provider: `"tag"` (default) purges `ALL_TAG`, the tag every
   * postcache entry carries, so nothing else cached in the zone is touched; `"zone"` calls the
   * provider's purge everything for the whole zone or site.
   */
  everything?: "tag" | "zone";
}

/** A provider purge failed: the provider's answer (status and its error text), never the credentials. */
export class NativePurgeError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "NativePurgeError";
  }
}

/**
 * `store`, with every purge also sent to the provider through `purger`.
 *
 * @example
 * import { cloudflarePurger, withNativePurge } from "postcache/native-purge";
 * const purger = cloudflarePurger({ token: env.CF_PURGE_TOKEN, zoneId: env.CF_ZONE_ID });
 * createPostcache({ store: withNativePurge(cacheApiStore({ cache: () => caches.default }), purger) });
 */
export function withNativePurge(store: CacheStore, purger: NativePurger, options: NativePurgeOptions = {}): CacheStore {
  if (!purger || typeof purger.purgeTags !== "function" || typeof purger.purgeAll !== "function") {
    throw new TypeError("[postcache] [native-purge] the purger must have purgeTags and purgeAll (cloudflarePurger(), ...)");
  }
  const everything = options.everything ?? "tag";
  if (everything !== "tag" && everything !== "zone") {
    throw new TypeError(`[postcache] [native-purge] option "everything" must be "tag" or "zone" (got ${String(everything)})`);
  }
  const onError = options.onError ?? (() => {});
  const purgeTags = coalesced((tags) => purger.purgeTags(tags));
  const purgeEverything = () => (everything === "zone" ? purger.purgeAll() : purgeTags(ALL_TAG));

  /** Runs the local and the provider purge side by side; see the file comment for who wins. */
  async function both<T>(remote: Promise<void>, local: () => Promise<T>, fallback: T): Promise<T> {
    const [sent, done] = await Promise.allSettled([remote, Promise.resolve().then(local)]);
    if (sent.status === "rejected") {
      onError(sent.reason, "native-purge");
      throw sent.reason;
    }
    if (done.status === "rejected") {
      onError(done.reason, "native-purge.local");
      return fallback;
    }
    return done.value;
  }

  return {
    name: `${store.name}+${purger.name}`,
    get: (key) => store.get(key),
    set: (key, entry, ttlSeconds) => store.set(key, entry, ttlSeconds),
    delete: (key) => (purger.purgeUrls ? both(purger.purgeUrls([key]), () => store.delete(key), false) : store.delete(key)),
    deleteTag: (tag, hint) => {
      const remote = tag === ALL_TAG ? purgeEverything() : purgeTags(tag);
      return both(remote, async () => (store.deleteTag ? store.deleteTag(tag, hint) : -1), -1);
    },
    clear: () => both(purgeEverything(), async () => store.clear?.(), undefined),
  };
}

/** Tag purges asked for in the same turn of the event loop share one `send` (one provider call). */
function coalesced(send: (tags: string[]) => Promise<void>): (tag: string) => Promise<void> {
  let batch: { tags: Set<string>; done: Promise<void> } | undefined;
  return (tag) => {
    if (!batch) {
      const tags = new Set<string>();
      // A macrotask, not a microtask: the engine's side-by-side purges each await a hash first.
      const done = new Promise<void>((resolve) => setTimeout(resolve, 0)).then(() => {
        batch = undefined;
        return send([...tags]);
      });
      batch = { tags, done };
    }
    batch.tags.add(tag);
    return batch.done;
  };
}

// ---- shared by the purgers in core/native-purges/ ----

/** Default bound on one provider request, headers and body: a purge API answers within a second or two. */
export const DEFAULT_PURGE_TIMEOUT_MS = 5000;

/** What each purger factory takes besides its credentials. */
export interface PurgerRequestOptions {
  /** Replaces `fetch` (tests, or a runtime's own client). Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Bound on each provider request, in ms, headers and body alike. Default 5000. */
  timeoutMs?: number;
}

/** Splits `items` into runs of at most `size`. */
export function batches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Checks the options every purger shares; throws `[postcache] [<name>] ...` at factory time. */
export function requestOptions(name: string, options: PurgerRequestOptions): Required<PurgerRequestOptions> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_PURGE_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new TypeError(`[postcache] [${name}] option "timeoutMs" must be a number of ms above 0 (got ${timeoutMs})`);
  }
  const fetcher = options.fetch ?? globalThis.fetch;
  if (typeof fetcher !== "function") throw new TypeError(`[postcache] [${name}] option "fetch" must be a function`);
  return { timeoutMs, fetch: fetcher };
}

/** A required non-empty string option, checked at factory time (its value is never echoed: it may be a secret). */
export function requiredString(name: string, option: string, value: unknown): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new TypeError(`[postcache] [${name}] option "${option}" must be a non-empty string`);
  }
  return value;
}

/** An http(s) base URL option without a trailing slash. */
export function baseUrl(name: string, option: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`[postcache] [${name}] option "${option}" must be an http(s) URL (got ${value})`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new TypeError(`[postcache] [${name}] option "${option}" must be an http(s) URL (got ${value})`);
  }
  return url.href.replace(/\/+$/, "");
}

/**
 * One provider request, bounded by `timeoutMs` (headers and body), answered as its parsed JSON body
 * (or undefined when it has none). Rejects with a NativePurgeError on a network error, a timeout or a
 * non-2xx status; every message has `secrets` replaced, so a provider echoing a credential leaks nothing.
 */
export async function purgeRequest(
  name: string,
  what: string,
  o: Required<PurgerRequestOptions>,
  url: string,
  init: RequestInit,
  secrets: readonly string[],
): Promise<{ status: number; body: unknown }> {
  const redact = (text: string) => secrets.reduce((t, s) => (s ? t.split(s).join("[redacted]") : t), text);
  const fail = (detail: string, status?: number, cause?: unknown): never => {
    throw new NativePurgeError(redact(`[postcache] [${name}] ${what} failed: ${detail}`), status, cause ? { cause } : undefined);
  };
  // Bounded even if a `fetch` ignores the signal: the wait itself is raced against the timer.
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const TIMED_OUT = Symbol("timeout");
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve(TIMED_OUT);
    }, o.timeoutMs);
  });
  let response: Response;
  let text: string;
  try {
    const answered = await Promise.race([o.fetch(url, { ...init, signal: controller.signal }), timeout]);
    if (answered === TIMED_OUT) return fail(`no answer within ${o.timeoutMs} ms`);
    response = answered;
    const read = await Promise.race([response.text(), timeout]);
    if (read === TIMED_OUT) return fail(`no answer within ${o.timeoutMs} ms`);
    text = read;
  } catch (error) {
    if (error instanceof NativePurgeError) throw error;
    // The cause is dropped on purpose: a runtime's error may carry the request, headers and all.
    return fail(controller.signal.aborted ? `no answer within ${o.timeoutMs} ms` : `network error (${errorName(error)})`);
  } finally {
    clearTimeout(timer);
  }
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!response.ok) fail(`HTTP ${response.status}${excerpt(text, redact)}`, response.status);
  return { status: response.status, body };
}

function errorName(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** At most 300 characters of a provider's answer, for the error message. */
function excerpt(text: string, redact: (t: string) => string): string {
  const t = text.trim();
  return t ? `: ${redact(t.length > 300 ? `${t.slice(0, 300)}…` : t)}` : "";
}
