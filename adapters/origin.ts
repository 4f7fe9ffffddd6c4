/**
 * Reaching an origin at another address: the way the self-hosted servers (Bun, Deno, Node) and
 * Vercel's middleware forward a request. Web standards only.
 */
import type { Fetcher } from "../core/types.ts";

/** Rewrites each request onto `origin` (scheme, host, port, and an optional base path) and fetches it.
 * The upstream URL is the origin and the request's path and query joined as strings, never the path
 * resolved as a URL reference against the origin: resolving `//127.0.0.1:9999/x` (a path a client can
 * send) would make it a host, and postcache an open proxy. The client's `Host` travels as
 * `X-Forwarded-Host` (RFC 7239 §5.3's de-facto form); redirects are passed back to the client, never
 * followed (a proxy must not turn a POST into a GET). */
export function originFetcher(
  origin: string,
  init: RequestInit = {},
  fetchImpl: (request: Request, init: RequestInit) => Promise<Response> = (r, i) => fetch(r, i),
): Fetcher {
  const base = originBase(origin);
  return (request) => {
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    headers.delete("host");
    if (!headers.has("x-forwarded-host")) headers.set("x-forwarded-host", url.host);
    return fetchImpl(retarget(request, base + url.pathname + url.search, headers), init);
  };
}

/** `origin` as `scheme://host[:port][/base]` without a trailing slash; throws for anything else. */
function originBase(origin: string): string {
  let url: URL | undefined;
  try {
    url = new URL(origin);
  } catch {
    // reported below
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || url.search || url.hash || origin.includes("#")) {
    throw new TypeError(
      `[postcache] origin must be an absolute http(s) URL without query or fragment, e.g. "https://api.example.com" (got ${JSON.stringify(origin)})`,
    );
  }
  return url.origin + url.pathname.replace(/\/$/, "");
}

/** `request` sent to `target` with `headers`: its body streamed on, its redirects handed back, not followed. */
export function retarget(request: Request, target: URL | string, headers: Headers): Request {
  // `duplex: "half"` is required by the Fetch standard for a streaming request body.
  return new Request(target, {
    method: request.method,
    headers,
    body: request.body,
    redirect: "manual",
    signal: request.signal,
    duplex: "half",
  } as RequestInit);
}
