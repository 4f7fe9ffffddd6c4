/**
 * The digest handshake, client side (`postcache/client`): a `fetch` wrapper that sends a cacheable
 * POST or QUERY as its body's digest alone, and the body only when the edge asks for it.
 *
 *   → POST /search   Content-Digest: sha-256=:…:   Postcache-Body: omitted   (empty body)
 *   ← 200 (the edge knew the body: answered from cache, or it asked the origin itself)
 *   ← 412 application/problem+json, type urn:postcache:problem:body-required
 *   → POST /search   Content-Digest: sha-256=:…:   (the full body, which the edge verifies and keeps)
 *
 * The caller sees one answer. Web standards only (`fetch`, `Request`, `crypto.subtle`), so it runs in
 * browsers, Node, Deno, Bun and edge runtimes. Send it only to URLs served through postcache: anything
 * else would receive the digest-only request with its empty body.
 */
import { readAll } from "./body.ts";
import { BODY_OMITTED_HEADER, BODY_OMITTED_VALUE, BODY_REQUIRED_PROBLEM } from "./handshake.ts";

/** Below this, a body travels whole: a request that fits in one TCP segment (MSS ~1460 bytes) with its
 * headers gains nothing from leaving the body out, and a miss would cost a second round trip. */
export const DEFAULT_MIN_BODY_BYTES = 1024;
/** The edge's own default `maxBodyBytes`: larger bodies are never kept there, so a digest alone cannot work. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** How long an origin whose edge has the handshake switched off gets full requests only. */
export const DEFAULT_REMEMBER_OFF_MS = 10 * 60 * 1000;
export const DEFAULT_ANSWER_CACHE_ENTRIES = 100;
export const DEFAULT_ANSWER_CACHE_BYTES = 4 * 1024 * 1024;

/** The methods postcache caches, so the only ones a digest alone may be sent with: the edge passes
 * every other method to the origin as it is, and the origin must never get a request without its body. */
const METHODS = new Set(["POST", "QUERY"]);
/** RFC 9110 §13.1: a caller that asks conditionally handles the 304 itself. */
const CONDITIONAL_HEADERS = ["if-match", "if-none-match", "if-modified-since", "if-unmodified-since", "if-range"];
/** Headers that describe the bytes on the wire, not the decoded body that `fetch` hands over. */
const WIRE_HEADERS = new Set(["content-length", "content-encoding", "transfer-encoding"]);
/** A 304 updates the remembered headers (RFC 9111 §3.2), except those that describe the body. */
const NOT_UPDATED_BY_304 = new Set([...WIRE_HEADERS, "content-type"]);
/** A body-required problem is a few hundred bytes; anything far larger is not ours. */
const MAX_PROBLEM_BYTES = 16 * 1024;
const EMPTY = new Uint8Array(0);

/** How the client reaches the network: called with one `Request`, like `fetch(request)`. */
export type FetchLike = (request: Request) => Promise<Response>;
/** What `createPostcacheClient` returns: called like `fetch`. */
export type PostcacheFetch = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

export interface AnswerCacheOptions {
  /** How many answers to keep, least recently used dropped first. Default 100. */
  maxEntries?: number;
  /** Total body bytes kept; a larger answer is not kept. Default 4 MiB. */
  maxBytes?: number;
}

export interface PostcacheClientOptions {
  /** What sends requests. Default: the global `fetch`, looked up on each call (so polyfills and mocks apply). */
  fetch?: FetchLike;
  /** Bodies smaller than this travel whole (see DEFAULT_MIN_BODY_BYTES). Default 1024. */
  minBodyBytes?: number;
  /** Bodies larger than this are sent as given (a copy is read up to this size, then dropped). Default 1 MiB,
   * the edge's default `maxBodyBytes`. */
  maxBodyBytes?: number;
  /** Return false for requests to leave alone (say, URLs not served through postcache). Default: all. */
  filter?: (request: Request) => boolean;
  /**
   * Remember answers that carry an `ETag` and revalidate them with `If-None-Match`; a 304 from the edge
   * is turned back into the remembered answer (RFC 9110 §13.1.2, RFC 9111 §4.3.4). Default false: it
   * keeps answers in this process's memory, and the edge's hit already spares the origin.
   */
  answerCache?: boolean | AnswerCacheOptions;
  /**
   * After an edge says the handshake is switched off there, send full requests to that origin for this
   * long, in ms, without trying the digest first. 0 keeps trying. Default 10 minutes.
   */
  rememberOffMs?: number;
}

/** A remembered answer and its validator. */
interface Remembered {
  etag: string;
  status: number;
  statusText: string;
  headers: [string, string][];
  body: Uint8Array;
}

/**
 * A `fetch` that speaks the digest handshake with a postcache edge; other requests pass through.
 *
 * @example
 * import { createPostcacheClient } from "postcache/client";
 * const fetch = createPostcacheClient({ answerCache: true });
 * const res = await fetch("https://api.example.com/search", { method: "POST", body: JSON.stringify(query) });
 */
export function createPostcacheClient(options: PostcacheClientOptions = {}): PostcacheFetch {
  const minBodyBytes = count("minBodyBytes", options.minBodyBytes, DEFAULT_MIN_BODY_BYTES);
  const maxBodyBytes = count("maxBodyBytes", options.maxBodyBytes, DEFAULT_MAX_BODY_BYTES);
  const rememberOffMs = count("rememberOffMs", options.rememberOffMs, DEFAULT_REMEMBER_OFF_MS);
  const send: FetchLike = options.fetch ?? ((request) => globalThis.fetch(request));
  const answers = options.answerCache ? answerCache(options.answerCache === true ? {} : options.answerCache) : undefined;
  /** Origins whose edge said the handshake is off → until when (ms since the epoch). */
  const switchedOff = new Map<string, number>();

  return async function postcacheFetch(input, init) {
    // Bun's Request constructor takes a used Request as if it were empty; fetch must not send that.
    if (isRequest(input) && input.bodyUsed && init?.body == null) {
      throw new TypeError("[postcache] [client] the Request's body was already used");
    }
    const request = new Request(input, init);
    // crypto.subtle exists only in secure contexts in browsers (https, localhost): without it, plain fetch.
    if (!METHODS.has(request.method.toUpperCase()) || request.body === null || !globalThis.crypto?.subtle) {
      return send(request);
    }
    // A stream given by the caller is theirs to send as it comes; FormData gets a new multipart
    // boundary on every serialisation, so its digest never repeats.
    const given = init?.body;
    if (isStream(given) || (typeof FormData !== "undefined" && given instanceof FormData)) return send(request);
    if (options.filter && !options.filter(request)) return send(request);
    const origin = new URL(request.url).origin;
    const off = switchedOff.get(origin);
    if (off !== undefined && off <= Date.now()) switchedOff.delete(origin);
    const tryDigest = !switchedOff.has(origin);
    if (!tryDigest && !answers) return send(request);

    // Read a copy, so the caller's body is still there, unread, if it is too large to handle.
    const bytes = await readAll(request.clone().body, maxBodyBytes);
    if (!bytes || (bytes.byteLength < minBodyBytes && !answers)) return send(request);
    const digest = await contentDigest(bytes);
    const conditional = CONDITIONAL_HEADERS.some((h) => request.headers.has(h));
    const answerKey = `${request.method} ${request.url} ${digest}`;
    const remembered = answers && !conditional ? await answers.get(answerKey) : undefined;
    const headers = new Headers(request.headers);
    request.signal.throwIfAborted();
    if (remembered) {
      headers.set("if-none-match", remembered.etag);
      // The Fetch standard (HTTP-network-or-cache fetch, steps on conditional headers and cache mode)
      // turns a request with If-None-Match into `Cache-Control: no-cache` unless it already has a
      // Cache-Control, and no-cache would make the edge go to the origin (RFC 9111 §5.2.1.4). min-fresh=0
      // asks for nothing more than a fresh answer (§5.2.1.3), which is what a hit is.
      if (!headers.has("cache-control")) headers.set("cache-control", "min-fresh=0");
    }

    let response: Response;
    if (tryDigest && bytes.byteLength >= minBodyBytes) {
      headers.set("content-digest", digest);
      headers.set(BODY_OMITTED_HEADER, BODY_OMITTED_VALUE);
      response = await send(derive(request, headers, EMPTY));
      const problem = await bodyRequired(response);
      if (problem) {
        if (problem.off && rememberOffMs > 0) switchedOff.set(origin, Date.now() + rememberOffMs);
        // Once only: whatever the full request gets is the answer. Its Content-Digest lets the edge
        // verify the body and keep it for the next digest-only request (RFC 9530 §2).
        headers.delete(BODY_OMITTED_HEADER);
        request.signal.throwIfAborted();
        response = await send(derive(request, headers, bytes));
      }
    } else {
      response = await send(remembered ? derive(request, headers, bytes) : request);
    }

    if (remembered && response.status === 304) {
      await response.body?.cancel();
      return answers?.revive(answerKey, remembered, response.headers) as Response;
    }
    if (answers && !conditional) answers.offer(answerKey, response);
    return response;
  };
}

/** The same request with other headers and body; method, signal, credentials, mode and the rest carry over. */
function derive(request: Request, headers: Headers, body: Uint8Array): Request {
  return new Request(request, { headers, body: body as Uint8Array<ArrayBuffer> });
}

/** `sha-256=:<base64>:` (RFC 9530 §2, an RFC 8941 byte sequence). */
async function contentDigest(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return `sha-256=:${btoa(String.fromCharCode(...digest))}:`;
}

/** Whether `response` is the edge asking for the full request, and whether it says the handshake is off. */
async function bodyRequired(response: Response): Promise<{ off: boolean } | undefined> {
  if (response.status !== 412) return undefined;
  if (!/^application\/problem\+json\b/i.test(response.headers.get("content-type") ?? "")) return undefined;
  if (Number(response.headers.get("content-length") ?? 0) > MAX_PROBLEM_BYTES) return undefined;
  // A failed read (an abort, a reset) is the caller's error, as it would be with fetch; bad JSON is not ours.
  const text = new TextDecoder().decode(await readAll(response.clone().body, MAX_PROBLEM_BYTES));
  let problem: { type?: unknown; reason?: unknown };
  try {
    problem = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (problem?.type !== BODY_REQUIRED_PROBLEM) return undefined;
  await response.body?.cancel();
  return { off: problem.reason === "handshake-off" };
}

/** A small LRU of answers by method, URL and body digest. */
function answerCache(options: AnswerCacheOptions) {
  const maxEntries = count("answerCache.maxEntries", options.maxEntries, DEFAULT_ANSWER_CACHE_ENTRIES);
  const maxBytes = count("answerCache.maxBytes", options.maxBytes, DEFAULT_ANSWER_CACHE_BYTES);
  const entries = new Map<string, Remembered>();
  /** Answers still being read; a lookup waits for them, so a quick repeat finds its predecessor. */
  const reading = new Map<string, Promise<void>>();
  let bytes = 0;

  function remove(key: string) {
    const old = entries.get(key);
    if (old) bytes -= old.body.byteLength;
    entries.delete(key);
  }

  function put(key: string, entry: Remembered) {
    remove(key);
    entries.set(key, entry);
    bytes += entry.body.byteLength;
    for (const [oldest] of entries) {
      if (entries.size <= maxEntries && bytes <= maxBytes) break;
      remove(oldest);
    }
  }

  return {
    async get(key: string): Promise<Remembered | undefined> {
      await reading.get(key);
      const entry = entries.get(key);
      if (entry) {
        // Most recently used goes last.
        entries.delete(key);
        entries.set(key, entry);
      }
      return entry;
    },

    /** Keeps a 200 with an ETag, read from a copy while the caller reads the original. */
    offer(key: string, response: Response): void {
      const etag = response.headers.get("etag");
      const noStore = /(^|,)\s*no-store\b/i.test(response.headers.get("cache-control") ?? "");
      if (response.status !== 200 || !etag || noStore || Number(response.headers.get("content-length") ?? 0) > maxBytes) {
        remove(key);
        return;
      }
      const headers = [...response.headers].filter(([name]) => !WIRE_HEADERS.has(name));
      const read = readAll(response.clone().body, maxBytes)
        .then((body) => {
          if (body) put(key, { etag, status: response.status, statusText: response.statusText, headers, body });
          else remove(key);
        })
        .catch(() => remove(key))
        .finally(() => {
          if (reading.get(key) === read) reading.delete(key);
        });
      reading.set(key, read);
    },

    /** The remembered answer, its headers updated from the 304 (RFC 9111 §4.3.4). */
    revive(key: string, entry: Remembered, notModified: Headers): Response {
      const headers = new Headers(entry.headers);
      for (const [name, value] of notModified) if (!NOT_UPDATED_BY_304.has(name)) headers.set(name, value);
      put(key, { ...entry, headers: [...headers] });
      return new Response(entry.body.slice() as Uint8Array<ArrayBuffer>, {
        status: entry.status,
        statusText: entry.statusText,
        headers,
      });
    },
  };
}

function isRequest(value: unknown): value is Request {
  return typeof Request !== "undefined" && value instanceof Request;
}

function isStream(value: unknown): boolean {
  return typeof ReadableStream !== "undefined" && value instanceof ReadableStream;
}

function count(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`[postcache] [client] option "${name}" must be a whole number >= 0 (got ${String(value)})`);
  }
  return value;
}
