/**
 * RFC 9111 §4.4: a cache must invalidate what it stored for a target URI when an unsafe request to it
 * succeeds, and may for the same-origin URIs in the answer's `Location` and `Content-Location`.
 * Entries carry a tag derived from their target URI, so a store that can purge by tag can find them.
 */
import { toHex } from "./key.ts";
import type { Sha256 } from "./types.ts";

/** Tags of the form `postcache:uri:<sha256 hex of the URI>`: fixed length, and valid as any store's tag. */
export const URI_TAG_PREFIX = "postcache:uri:";

const encoder = new TextEncoder();

/** The target URI postcache keys and invalidates by: origin, path and query (no fragment). */
export function targetUri(url: URL): string {
  return url.origin + url.pathname + url.search;
}

/** The tag every entry for `uri` carries. */
export async function uriTag(uri: string, sha256: Sha256): Promise<string> {
  const digest = await sha256([encoder.encode(uri)]);
  return URI_TAG_PREFIX + toHex(digest instanceof Uint8Array ? digest : new Uint8Array(digest));
}

/** RFC 9111 §4.4: a "non-error status code" is a 2xx or 3xx. */
export function succeeded(status: number): boolean {
  return status >= 200 && status < 400;
}

/**
 * The URIs a successful unsafe request to `url` invalidates: its own, and those in `Location` and
 * `Content-Location` when they are on the same origin (RFC 9111 §4.4: another host's URIs are left
 * alone, so a response cannot be used to purge someone else's entries).
 */
export function invalidatedUris(url: URL, headers: Headers): string[] {
  const uris = new Set([targetUri(url)]);
  for (const name of ["location", "content-location"]) {
    const value = headers.get(name);
    if (value === null) continue;
    try {
      const other = new URL(value, url);
      if (other.origin === url.origin) uris.add(targetUri(other));
    } catch {
      // Not a URI reference: nothing to invalidate.
    }
  }
  return [...uris];
}
