/**
 * The contracts every part of postcache shares: what a cache store holds, how the origin is reached,
 * and what an adapter passes per request. Kept deliberately small: a new platform needs only these.
 */

/** A stored answer: everything needed to replay the origin's response byte for byte. */
export interface CacheEntry {
  /** The origin's status code. */
  status: number;
  /** The origin's headers, minus hop-by-hop fields and `Set-Cookie`, in the order received. */
  headers: [name: string, value: string][];
  /** The response body exactly as the fetcher returned it. */
  body: Uint8Array;
  /** When the response was generated, in ms since the epoch: our clock minus the origin's `Age`. */
  storedAt: number;
  /** Freshness lifetime in seconds (RFC 9111 §4.2.1). */
  ttl: number;
  /** Seconds past `ttl` during which the entry may be served while it is refreshed (RFC 5861 §3). */
  staleWhileRevalidate: number;
  /** Seconds past `ttl` during which the entry may be served if the origin fails (RFC 5861 §4). */
  staleIfError: number;
  /**
   * Request header values the response varies on (its `Vary` header) beyond those already in the key;
   * a later request must match them to be served this entry (RFC 9111 §4.1).
   */
  vary?: [name: string, value: string | null][];
  /** Tags for targeted purge (from `Cache-Tag` / `Surrogate-Key`). */
  tags?: string[];
}

/**
 * The one contract every cache store implements. Keys are strings shaped as absolute GET URLs under
 * a reserved path, so Cache API stores can use them as they are.
 *
 * A store may throw or reject: postcache bounds every call with a timeout and fails open to the origin.
 */
export interface CacheStore {
  /** A short name used in error messages, e.g. `memory`, `cache-api`, `redis`. */
  readonly name: string;
  /** The entry under `key`, or `undefined`. A store may drop entries early; it must not return a wrong one. */
  get(key: string): Promise<CacheEntry | undefined>;
  /** Store `entry` under `key`; it may be dropped after `ttlSeconds`. Overwrites an existing entry. */
  set(key: string, entry: CacheEntry, ttlSeconds: number): Promise<void>;
  /** Remove the entry under `key`; resolves `true` if something was removed (where the store can tell). */
  delete(key: string): Promise<boolean>;
  /** Optional: remove every entry carrying `tag`; resolves how many were removed, or -1 if the store
   * cannot tell. Without it, purge by tag answers 501. `hint.origin` is the origin the purge was made on
   * (stores whose tag index lives per origin, as the Cache API's does, purge there). */
  deleteTag?(tag: string, hint?: { origin: string }): Promise<number>;
  /** Optional: remove every entry. Without it, "purge all" is a purge of the tag every entry carries. */
  clear?(): Promise<void>;
}

/** Reaches the origin. Adapters pass `fetch`, `context.next()`, or a URL-rewriting wrapper. */
export type Fetcher = (request: Request) => Promise<Response>;

/** What an adapter can pass per request. */
export interface RequestContext {
  /** Keeps background work (cache writes, revalidation) alive after the response is sent. */
  waitUntil?(promise: Promise<unknown>): void;
  /**
   * Set where work may be cut off once the response ends (Netlify's edge runtime, whose `waitUntil`
   * keeps nothing alive): a miss's last chunk is then released only after its cache write settles,
   * bounded by `storeTimeoutMs`. Time to first byte is unchanged.
   */
  storeBeforeResponseEnds?: boolean;
}

/**
 * What the key is computed over instead of a body's bytes (`canonicalJsonKey()` from
 * `postcache/canonical-json`), or undefined to key the bytes. Bodies it maps alike share one answer:
 * it asserts the origin answers them alike.
 */
export type BodyKey = (body: Uint8Array, headers: Headers) => Uint8Array | undefined;

/** SHA-256 over the concatenation of `parts`. Synchronous implementations are welcome. */
export type Sha256 = (parts: readonly Uint8Array[]) => Uint8Array | ArrayBuffer | Promise<Uint8Array | ArrayBuffer>;

/** How a request was answered, as logged and counted. */
export type CacheOutcome = "HIT" | "MISS" | "STALE" | "BYPASS";

/** Reported to `onResult` once per POST/QUERY request: when its response headers are ready or, for a
 * miss whose answer is being stored, once storing has ended (so `stored` and `detail` are final). */
export interface ResultInfo {
  outcome: CacheOutcome;
  /** Why the cache was bypassed or the answer not stored, e.g. `credentials`, `no-store`, `too-large`. */
  detail?: string;
  method: string;
  url: string;
  status: number;
  /** The cache key's digest, first 12 hex digits (absent when no key was computed). */
  shortKey?: string;
  /** Whether this request waited on an identical in-flight origin request. */
  collapsed: boolean;
  /** Whether this request's answer was stored (a miss whose copy was read in full and written). */
  stored: boolean;
  /** Milliseconds from the start of handling until the response headers were ready. */
  elapsedMs: number;
  /** Milliseconds the store lookup took, when there was one. */
  lookupMs?: number | undefined;
  /** Milliseconds until the origin's response headers, when this request called the origin itself. */
  originMs?: number | undefined;
  /** Body bytes served from the cache (a hit, a stale answer, a collapsed miss), else 0. */
  bytesFromCache: number;
}
