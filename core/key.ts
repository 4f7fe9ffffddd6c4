/**
 * The cache key: one SHA-256 over the request's method, URL, the values of the headers that change
 * the answer, the user scope, and the body bytes (or their canonical JSON form).
 *
 * The preimage is `JSON([version, method, url, headerValues, scope, bodyLength]) "\n" body`: every
 * field is length-delimited by JSON or by the declared body length, so no two different requests
 * share a preimage. Hashing bytes, never `text()`, keeps binary bodies that decode alike apart. A
 * `bodyKey` (canonical JSON) may stand in for the bytes.
 */
import type { ResolvedOptions } from "./options.ts";

/** The path under which keys live, so any Cache API (GET-only, URL-keyed) can hold them. */
export const KEY_PATH = "/.postcache/v1/";
const KEY_VERSION = "postcache/1";

const encoder = new TextEncoder();

export interface CacheKey {
  /** An absolute GET URL on the request's own origin: `https://host/.postcache/v1/<sha256 hex>`. */
  url: string;
  /** The digest in hex. */
  hex: string;
}

export async function cacheKey(
  method: string,
  url: URL,
  headers: Headers,
  body: Uint8Array,
  scope: string | undefined,
  options: ResolvedOptions,
): Promise<CacheKey> {
  const keyed = options.bodyKey?.(body, headers) ?? body;
  const origin = url.origin;
  const fields = [
    KEY_VERSION,
    method,
    origin + url.pathname + url.search,
    options.keyedHeaders.map((name) => headers.get(name)),
    scope ?? null,
    keyed.byteLength,
  ];
  const prefix = encoder.encode(`${JSON.stringify(fields)}\n`);
  const hashed = options.sha256([prefix, keyed]);
  // A synchronous hasher (Bun's) answers at once: no extra turn of the microtask queue. Tested as a
  // thenable, never with `instanceof Promise`: a runtime's own promise may come from another realm (the
  // Edge Runtime runs code in a VM context), and mistaking it for the digest would key every request alike.
  const digest = isThenable(hashed) ? await hashed : hashed;
  const hex = toHex(digest instanceof Uint8Array ? digest : new Uint8Array(digest));
  return { url: origin + KEY_PATH + hex, hex };
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as PromiseLike<T>)?.then === "function";
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export function toHex(bytes: Uint8Array): string {
  // Uint8Array.prototype.toHex (TC39 "Uint8Array to/from base64", ES2026) where the runtime has it.
  const native = (bytes as { toHex?: () => string }).toHex;
  if (native) return native.call(bytes);
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]];
  return out;
}
