/**
 * Node's HTTP as Web standards, both ways: an `IncomingMessage` as a `Request`, a `Response` written to a
 * `ServerResponse`, and the origin reached through `node:http`/`node:https` with keep-alive Agents.
 *
 * Why node:http for the origin, not Node's `fetch` (undici): undici's fetch decodes gzip, br and deflate
 * bodies with no way to opt out, so a proxy on it could not keep an answer byte for byte with its
 * `Content-Encoding`; the `undici` package's own `request()` would, but as a runtime dependency of every
 * install. An `http.Agent` with `keepAlive` pools and reuses connections (a socket per concurrent
 * request, kept open between them), streams both ways with back-pressure, and passes bytes untouched.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { HOP_BY_HOP_HEADERS } from "../core/hop-by-hop.ts";

/** RFC 9110 §15.3.5, §15.3.6, §15.4.5: statuses whose responses have no body. */
const NULL_BODY_STATUSES = new Set([204, 205, 304]);
const NO_BODY_METHODS = new Set(["GET", "HEAD"]);

export interface NodeOriginOptions {
  /** Most sockets per origin host. Default 256. */
  maxSockets?: number | undefined;
  /** How long an idle kept-alive socket stays open, in ms. Default 15000 (below most servers' own idle timeouts). */
  keepAliveMsecs?: number | undefined;
}

/** A `fetch`-shaped client over node:http(s) with keep-alive Agents: bytes as the origin sent them. */
export function nodeOriginFetch(options: NodeOriginOptions = {}): (request: Request) => Promise<Response> {
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 256, timeout: options.keepAliveMsecs ?? 15_000 };
  const agents = { "http:": new HttpAgent(agentOptions), "https:": new HttpsAgent(agentOptions) };
  return (request) => {
    const url = new URL(request.url);
    const agent = url.protocol === "https:" ? agents["https:"] : agents["http:"];
    return nodeFetch(request, url, agent);
  };
}

/** One request over node:http(s); the answer's headers as received (repeated ones appended). */
export function nodeFetch(request: Request, url: URL, agent?: HttpAgent): Promise<Response> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      headers[name] = value;
    });
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const outgoing = send(url, { method: request.method, headers, agent, signal: request.signal }, (incoming) => {
      const answer = new Headers();
      for (let i = 0; i < incoming.rawHeaders.length; i += 2) answer.append(incoming.rawHeaders[i], incoming.rawHeaders[i + 1]);
      const status = incoming.statusCode ?? 502;
      const empty = NULL_BODY_STATUSES.has(status) || request.method === "HEAD";
      if (empty) incoming.resume();
      const body = empty ? null : (Readable.toWeb(incoming) as unknown as ReadableStream<Uint8Array>);
      resolve(new Response(body, { status, statusText: incoming.statusMessage, headers: answer }));
    });
    outgoing.on("error", reject);
    if (request.body) Readable.fromWeb(request.body as unknown as NodeReadableStream).pipe(outgoing);
    else outgoing.end();
  });
}

/**
 * The `Request` for an incoming message: its URL built from `Host` and the request target as strings
 * (an absolute-form target keeps only its path and query; the core answers a bad Host with a 400), its
 * body streamed, and a signal that aborts when the client goes away before the answer is complete.
 */
export function toRequest(req: IncomingMessage, res: ServerResponse, scheme = "http"): Request {
  const target = req.url ?? "/";
  const path = target.startsWith("/") ? target : pathOfAbsolute(target);
  // HTTP/1.0 may come without Host (Node refuses an HTTP/1.1 request without one): the address it
  // reached stands in. Never an empty authority: `http:///x` would make the path's first segment the host.
  const host = req.headers.host ?? localAuthority(req);
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    try {
      headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
    } catch {
      // A header the Fetch standard refuses: Node's parser already checked the syntax.
    }
  }
  const controller = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) controller.abort();
  });
  const method = (req.method ?? "GET").toUpperCase();
  return new Request(`${scheme}://${host}${path}`, {
    method,
    headers,
    body: NO_BODY_METHODS.has(method) ? null : (Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>),
    signal: controller.signal,
    duplex: "half",
  } as RequestInit);
}

function localAuthority(req: IncomingMessage): string {
  const { localAddress = "127.0.0.1", localPort } = req.socket;
  return `${localAddress.includes(":") ? `[${localAddress}]` : localAddress}:${localPort}`;
}

/** An absolute-form target's path and query; `/` for anything else (authority form). */
function pathOfAbsolute(target: string): string {
  try {
    const url = new URL(target);
    return url.pathname + url.search;
  } catch {
    return "/";
  }
}

/** Writes `response` to `res`, streaming its body with back-pressure; a client that leaves cancels it.
 * Hop-by-hop fields of the origin's connection (RFC 9110 §7.6.1) stay behind: Node frames its own. */
export async function sendResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: [string, string][] = [];
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie" && !HOP_BY_HOP_HEADERS.has(name)) headers.push([name, value]);
  });
  for (const cookie of response.headers.getSetCookie()) headers.push(["set-cookie", cookie]);
  res.writeHead(response.status, response.statusText || undefined, headers.flat());
  if (!response.body) {
    res.end();
    return;
  }
  try {
    await pipeline(Readable.fromWeb(response.body as unknown as NodeReadableStream), res);
  } catch {
    // The client went away, or the origin's body broke: the socket is closed either way.
    res.destroy();
  }
}
