/**
 * Node.js server: a request listener for `node:http` / `node:https`, and so for Express, Connect and
 * Fastify's raw server.
 *
 *   http.createServer(postcacheNode({ origin: "http://127.0.0.1:3000" })).listen(8787, "127.0.0.1");
 *
 * Bodies stream both ways with back-pressure (node:stream pipeline); nothing past `maxBodyBytes` is
 * held; a client that goes away aborts what is still being forwarded for it (a request passed through,
 * or a body too large to cache). A miss's own origin call goes on for the identical requests waiting on
 * it. The origin is reached through keep-alive Agents (adapters/node-http.ts says why not fetch), keys are
 * hashed with node:crypto's synchronous SHA-256, and entries live in an in-memory LRU by default.
 */
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createPostcache, memoryStore, type Postcache, type PostcacheOptions } from "../core/index.ts";
import { badRequestUrl } from "../core/problem.ts";
import type { CacheStore, Sha256 } from "../core/types.ts";
import { lastResort } from "./last-resort.ts";
import { type NodeOriginOptions, nodeOriginFetch, sendResponse, toRequest } from "./node-http.ts";
import { originFetcher } from "./origin.ts";

export interface NodeOptions extends PostcacheOptions {
  /** Where requests go: an absolute URL such as `http://127.0.0.1:3000`. */
  origin: string;
  /** Where entries live. Default: an in-memory LRU of 64 MiB, per process. */
  store?: CacheStore | undefined;
  /** The origin client's connection pool. */
  connections?: NodeOriginOptions | undefined;
  /** `https` when this server is reached over TLS (it sets the scheme in the key). Default `http`. */
  scheme?: "http" | "https" | undefined;
  /** Told when a request fails past postcache (a bug): default, one line to stderr. */
  onInternalError?: ((error: unknown) => Response) | undefined;
}

/** A `node:http` request listener; `postcache` is the engine behind it (for its stats). */
export interface NodeListener {
  (req: IncomingMessage, res: ServerResponse): void;
  readonly postcache: Postcache;
  /** Requests being answered right now. */
  readonly inFlight: number;
}

/** node:crypto's SHA-256: synchronous, no promise per key (crypto.subtle costs ~9 µs a call). */
export const nodeSha256: Sha256 = (parts) => {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest();
};

/**
 * @example
 * import { createServer } from "node:http";
 * createServer(postcacheNode({ origin: "http://127.0.0.1:3000" })).listen(8787, "127.0.0.1");
 */
export function postcacheNode({
  origin,
  store = memoryStore(),
  connections,
  scheme = "http",
  onInternalError = lastResort(),
  ...options
}: NodeOptions): NodeListener {
  const postcache = createPostcache({ sha256: nodeSha256, ...options });
  const fetcher = originFetcher(origin, {}, nodeOriginFetch(connections));
  let inFlight = 0;
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    res.on("close", () => inFlight--);
    answer(req, res).catch((error) => {
      // Past handle(), which never rejects: the request could not be read or written.
      if (!res.headersSent) sendResponse(res, onInternalError(error)).catch(() => res.destroy());
      else res.destroy();
    });
  };
  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let request: Request;
    try {
      request = toRequest(req, res, scheme);
    } catch {
      // A Host no URL can hold (`a@b` makes one with credentials, which Request refuses).
      req.resume();
      return sendResponse(res, badRequestUrl());
    }
    await sendResponse(res, await postcache.handle(request, store, fetcher));
  }
  return Object.defineProperties(listener, {
    postcache: { value: postcache },
    inFlight: { get: () => inFlight },
  }) as NodeListener;
}
