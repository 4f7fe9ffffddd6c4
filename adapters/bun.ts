/**
 * Bun server: `Bun.serve({ fetch: postcacheBun({ origin }) })`. Entries live in memory by default
 * (per process); pass the Redis store when several instances must share one cache.
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { Readable } from "node:stream";
import { createPostcache, memoryStore, type PostcacheOptions } from "../core/index.ts";
import type { CacheStore, Sha256 } from "../core/types.ts";
import { lastResort } from "./last-resort.ts";
import { originFetcher } from "./origin.ts";

export interface BunOptions extends PostcacheOptions {
  /** Where requests go: an absolute URL such as `http://127.0.0.1:3000`. */
  origin: string;
  /** Where entries live. Default: an in-memory LRU of 64 MiB. */
  store?: CacheStore | undefined;
}

/**
 * `Bun.serve` settings for production: Bun's development mode (the default unless NODE_ENV=production)
 * answers a thrown error with a page of source lines and paths; this answers a plain 500 and logs one line.
 *
 * @example
 * Bun.serve({ ...productionServe, port: 8787, fetch: postcacheBun({ origin: "http://127.0.0.1:3000" }) });
 */
export const productionServe: { development: false; error: (error: unknown) => Response } = {
  development: false,
  error: lastResort(),
};

/** Bun's native SHA-256: synchronous, no per-call promise (about 10x cheaper than crypto.subtle for small bodies). */
export const bunSha256: Sha256 = (parts) => {
  const hasher = new Bun.CryptoHasher("sha256");
  for (const part of parts) hasher.update(part);
  return hasher.digest() as Uint8Array;
};

/**
 * @example
 * Bun.serve({ port: 8787, fetch: postcacheBun({ origin: "http://127.0.0.1:3000" }) });
 */
export function postcacheBun({ origin, store = memoryStore(), ...options }: BunOptions): (request: Request) => Promise<Response> {
  const postcache = createPostcache({ sha256: bunSha256, ...options });
  // `decompress: false` keeps compressed bodies byte for byte, with their Content-Encoding.
  const fetcher = originFetcher(origin, { decompress: false } as RequestInit, bunOriginFetch);
  return (request) => postcache.handle(request, store, fetcher);
}

/**
 * Bun's fetch (1.4.5) sends a path that starts with `//` as `/`: `fetch("http://o//a/b")` asks the
 * origin for `/a/b`, another resource. Node, Deno and browsers send `//a/b`. Those few requests go
 * through `node:http`, which sends the path as it is; every other one takes Bun's fetch.
 */
export function bunOriginFetch(request: Request, init: RequestInit): Promise<Response> {
  const url = new URL(request.url);
  return url.pathname.startsWith("//") ? nodeHttpFetch(request, url) : fetch(request, init);
}

/** RFC 9110 §15.3.5, §15.4.5: statuses whose responses have no body. */
const NULL_BODY_STATUSES = new Set([204, 205, 304]);

function nodeHttpFetch(request: Request, url: URL): Promise<Response> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      headers[name] = value;
    });
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const outgoing = send(url, { method: request.method, headers, signal: request.signal }, (incoming) => {
      const answer = new Headers();
      for (let i = 0; i < incoming.rawHeaders.length; i += 2) answer.append(incoming.rawHeaders[i], incoming.rawHeaders[i + 1]);
      const status = incoming.statusCode ?? 502;
      const empty = NULL_BODY_STATUSES.has(status) || request.method === "HEAD";
      if (empty) incoming.resume();
      const body = empty ? null : (Readable.toWeb(incoming) as unknown as ReadableStream<Uint8Array>);
      resolve(new Response(body, { status, statusText: incoming.statusMessage, headers: answer }));
    });
    outgoing.on("error", reject);
    if (request.body) Readable.fromWeb(request.body as unknown as import("node:stream/web").ReadableStream).pipe(outgoing);
    else outgoing.end();
  });
}
