/**
 * Reaching an origin at another address: the way the self-hosted servers (Bun, Deno, Node) and
 * Vercel's middleware forward a request. Web standards only.
 */
import type { Fetcher } from "../core/types.ts";

/** Rewrites each request onto `origin` (scheme, host, port, and an optional base path) and fetches it.
 * The client's `Host` travels as `X-Forwarded-Host` (RFC 7239 §5.3's de-facto form); redirects are
 * passed back to the client, never followed (a proxy must not turn a POST into a GET). */
export function originFetcher(
  origin: string,
  init: RequestInit = {},
  fetchImpl: (request: Request, init: RequestInit) => Promise<Response> = (r, i) => fetch(r, i),
): Fetcher {
  let base: URL;
  try {
    base = new URL(origin);
  } catch {
    throw new TypeError(`[postcache] origin must be an absolute URL (got ${JSON.stringify(origin)})`);
  }
  const basePath = base.pathname.replace(/\/$/, "");
  return (request) => {
    const url = new URL(request.url);
    const target = new URL(basePath + url.pathname + url.search, base);
    const headers = new Headers(request.headers);
    headers.delete("host");
    if (!headers.has("x-forwarded-host")) headers.set("x-forwarded-host", url.host);
    return fetchImpl(retarget(request, target, headers), init);
  };
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
