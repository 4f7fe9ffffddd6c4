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
  /** Fields appended after the stored ones (postcache's own Cache-Status and Server-Timing). */
  extra: [string, string][] = [],
): Response {
  const body = protocol?.replayBody ? protocol.replayBody(entry.body) : entry.body;
  // Rewritten bytes are not the representation the stored validator names (RFC 9110 §8.8.3).
  const dropEtag = body !== entry.body;
  const ageValue = String(Math.floor(age));
  if (entry.status === 200 && requestHeaders.has("if-none-match")) {
    const headers = new Headers(entry.headers);
    headers.set("age", ageValue);
    if (dropEtag) headers.delete("etag");
    if (warn) headers.append("warning", STALE_WARNING);
    const response = matchesClient(entry.status, headers, requestHeaders)
      ? notModified(headers)
      : new Response(body as Uint8Array<ArrayBuffer>, { status: entry.status, headers });
    for (const field of extra) response.headers.append(field[0], field[1]);
    return response;
  }
  // The usual answer: the stored fields handed to the Response as a list, so its headers are built
  // once (a Headers object passed as init is copied again). A list combines like `new Headers(list)`.
  const fields: [string, string][] = [];
  for (const field of entry.headers) {
    const name = field[0];
    if (name.length === 3 && name.toLowerCase() === "age") continue;
    if (dropEtag && name.length === 4 && name.toLowerCase() === "etag") continue;
    fields.push(field);
  }
  fields.push(["age", ageValue]);
  if (warn) fields.push(["warning", STALE_WARNING]);
  for (const field of extra) fields.push(field);
  return new Response(NULL_BODY_STATUSES.has(entry.status) ? null : (body as Uint8Array<ArrayBuffer>), {
    status: entry.status,
    headers: fields,
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
