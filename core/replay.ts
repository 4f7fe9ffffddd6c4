/** Answers made from stored entries: the replayed response, or a 304 when the client already has it. */
import { noneMatch } from "./handshake.ts";
import type { BodyClass } from "./protocols/protocol.ts";
import type { CacheEntry } from "./types.ts";

/** RFC 9110 §15.4.5: what a 304 carries of the answer it stands for, plus our own Age. */
const NOT_MODIFIED_HEADERS = ["cache-control", "content-location", "date", "etag", "expires", "vary", "age"];
/** RFC 9110 §15.3.5, §15.3.6, §15.4.5: statuses whose responses have no body. */
export const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);
const STALE_WARNING = '110 - "Response is Stale"';

/**
 * A response from a stored entry, with `Age` (RFC 9111 §5.1) and, when stale and `warn`, `Warning: 110`;
 * a 304 when the request's If-None-Match matches it (RFC 9110 §13.1.2, §15.4.5). A protocol may rewrite
 * the body for this request (JSON-RPC's `id`).
 */
export function replay(
  entry: CacheEntry,
  age: number,
  requestHeaders: Headers,
  protocol: BodyClass | undefined,
  warn: boolean,
): Response {
  const headers = new Headers(entry.headers);
  headers.set("age", String(Math.floor(age)));
  const body = protocol?.replayBody ? protocol.replayBody(entry.body) : entry.body;
  // Rewritten bytes are not the representation the stored validator names (RFC 9110 §8.8.3).
  if (body !== entry.body) headers.delete("etag");
  if (warn) headers.append("warning", STALE_WARNING);
  if (matchesClient(entry.status, headers, requestHeaders)) return notModified(headers);
  return new Response(NULL_BODY_STATUSES.has(entry.status) ? null : (body as Uint8Array<ArrayBuffer>), {
    status: entry.status,
    headers,
  });
}

/** Whether the client's If-None-Match names the validator of this 200 answer (RFC 9110 §13.1.2). */
export function matchesClient(status: number, headers: Headers, requestHeaders: Headers): boolean {
  return status === 200 && noneMatch(requestHeaders.get("if-none-match"), headers.get("etag") ?? undefined);
}

/** The 304 that stands for an answer with `headers` (RFC 9110 §15.4.5). */
export function notModified(headers: Headers): Response {
  const kept = new Headers();
  for (const name of NOT_MODIFIED_HEADERS) {
    const value = headers.get(name);
    if (value !== null) kept.set(name, value);
  }
  return new Response(null, { status: 304, headers: kept });
}
