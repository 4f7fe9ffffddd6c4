/** RFC 9110 §7.6.1: connection-specific fields, which a proxy must not forward or replay. */
export const HOP_BY_HOP_HEADERS = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "proxy-authenticate",
  "proxy-authorization",
]);

/** Response headers worth storing: hop-by-hop fields (and those `Connection` names) are dropped, as is
 * `Set-Cookie` (never replayed), `Age` (recomputed on every hit, RFC 9111 §5.1) and `Content-Length`
 * (recomputed from the stored bytes, which may have been decoded by the fetcher). */
export function storableHeaders(headers: Headers): [string, string][] {
  const named = new Set(
    (headers.get("connection") ?? "")
      .split(",")
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: [string, string][] = [];
  headers.forEach((value, name) => {
    if (HOP_BY_HOP_HEADERS.has(name) || named.has(name)) return;
    if (name === "set-cookie" || name === "age" || name === "content-length") return;
    out.push([name, value]);
  });
  return out;
}
