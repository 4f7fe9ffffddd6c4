/** Answers postcache itself gives, as RFC 9457 problem details: never cached, always explained. */
export function problemJson(
  status: number,
  type: string,
  title: string,
  detail?: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify({ type: `urn:postcache:problem:${type}`, title, status, ...(detail ? { detail } : {}) }), {
    status,
    headers: { "content-type": "application/problem+json", "cache-control": "no-store", ...headers },
  });
}

/** A plain-text error for clients that just want to see what went wrong (origin failures). */
export function problemText(status: number, message: string): Response {
  return new Response(`postcache: ${message}\n`, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}
