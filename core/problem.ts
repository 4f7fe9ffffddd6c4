/** Answers postcache itself gives, as RFC 9457 problem details: never cached, always explained. */
export function problemJson(
  status: number,
  type: string,
  title: string,
  detail?: string,
  headers: Record<string, string> = {},
  members: Record<string, string> = {},
): Response {
  const problem = { type: `urn:postcache:problem:${type}`, title, status, ...(detail ? { detail } : {}), ...members };
  return new Response(JSON.stringify(problem), {
    status,
    headers: { "content-type": "application/problem+json", "cache-control": "no-store", ...headers },
  });
}

/** A plain-text error for clients that just want to see what went wrong (origin failures). */
export function problemText(status: number, message: string): Response {
  return new Response(`postcache: ${message}\n`, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

/**
 * CORS for the answers postcache makes itself to the handshake's requests (412, digest 400), so a
 * cross-origin page can read them. Safe to echo: such requests carry non-safelisted headers
 * (`Postcache-Body`, `Content-Digest`), so a browser only sent them after the origin's own preflight
 * approved this origin (Fetch standard, CORS-preflight fetch).
 */
export function corsEcho(request: Request): Record<string, string> {
  const origin = request.headers.get("origin");
  if (!origin) return {};
  return { "access-control-allow-origin": origin, "access-control-allow-credentials": "true", vary: "Origin" };
}

/** A request whose URL, or whose Host, cannot make a URL (RFC 9112 §3.2): for the core and the servers. */
export function badRequestUrl(): Response {
  return problemJson(400, "bad-request-url", "Bad request", "the request's URL (or its Host) is not valid");
}
