/**
 * The digest handshake (eBay's "cache handshake", shared/seeds/002), edge side. A client that knows
 * the edge may already hold a body sends only its digest:
 *
 *   POST /search
 *   Content-Digest: sha-256=:<base64>:        (RFC 9530 §2)
 *   Postcache-Body: omitted
 *   (empty body)
 *
 * If the edge holds a body with that digest (kept by an earlier full request), it rebuilds the request
 * and answers as usual, from cache or from the origin. If not, it answers 412 with a problem+json body
 * of type `urn:postcache:problem:body-required`, and the client sends the full request once.
 *
 * Every full request that carries `Content-Digest` and whose body postcache reads is verified
 * (RFC 9530 §2): a mismatch is a 400 and nothing is stored.
 */
import { KEY_PATH, toHex } from "./key.ts";

const encoder = new TextEncoder();

import type { Sha256 } from "./types.ts";

/** The request header saying the body was left out on purpose. */
export const BODY_OMITTED_HEADER = "postcache-body";
export const BODY_OMITTED_VALUE = "omitted";
/** Whether the request says its body was left out on purpose (`Postcache-Body: omitted`). */
export function isBodyOmitted(headers: Headers): boolean {
  return headers.get(BODY_OMITTED_HEADER)?.trim().toLowerCase() === BODY_OMITTED_VALUE;
}

/** The 412 problem type that asks for the full request. */
export const BODY_REQUIRED_PROBLEM = "urn:postcache:problem:body-required";

/** The SHA-256 from a `Content-Digest` field (an RFC 8941 dictionary of byte sequences), if any. */
export function sha256FromContentDigest(value: string | null): Uint8Array | undefined {
  if (!value) return undefined;
  for (const member of value.split(",")) {
    const match = member.trim().match(/^sha-256=:([A-Za-z0-9+/]+={0,2}):$/);
    if (!match) continue;
    try {
      const bytes = Uint8Array.from(atob(match[1]), (c) => c.charCodeAt(0));
      if (bytes.length === 32) return bytes;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The `Content-Digest` value for `bytes` (RFC 9530 §2, sha-256). */
export async function contentDigest(bytes: Uint8Array, sha256: Sha256): Promise<string> {
  const digest = new Uint8Array(await sha256([bytes]));
  return `sha-256=:${btoa(String.fromCharCode(...digest))}:`;
}

export async function sha256Of(bytes: Uint8Array, sha256: Sha256): Promise<Uint8Array> {
  return new Uint8Array(await sha256([bytes]));
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** Where a request body with this digest is kept, beside the answers, on the request's origin; per user
 * when a scope is set, so one user's 200 or 412 never tells whether another user sent that body. */
export async function bodyKey(origin: string, digest: Uint8Array, scope: string | undefined, sha256: Sha256): Promise<string> {
  const key = `${origin}${KEY_PATH}body/${toHex(digest)}`;
  return scope === undefined ? key : `${key}/${toHex(await sha256Of(encoder.encode(scope), sha256))}`;
}

/** Why a digest-only request gets the 412: the problem's `reason` member, for clients to act on. */
export type BodyRequiredReason = "not-cached" | "handshake-off" | "digest-required" | "unknown-body";

/** A strong validator for a stored answer (RFC 9110 §8.8.3): its body's digest, shortened. */
export async function etagFor(body: Uint8Array, sha256: Sha256): Promise<string> {
  const digest = await sha256Of(body, sha256);
  const b64 = btoa(String.fromCharCode(...digest.subarray(0, 16)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
  return `"pc-${b64}"`;
}

/** RFC 9110 §13.1.2: If-None-Match with the weak comparison; true when the stored answer matches. */
export function noneMatch(ifNoneMatch: string | null, etag: string | undefined): boolean {
  if (!ifNoneMatch || !etag) return false;
  if (ifNoneMatch.trim() === "*") return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  return ifNoneMatch.split(",").some((tag) => opaque(tag) === opaque(etag));
}
