/**
 * Serialising entries for stores that hold bytes or JSON (Redis, Vercel's Runtime Cache, Cache API
 * metadata). Web standards only. Decoding validates shape: a corrupted value is an error, never an
 * entry with the wrong body.
 */
import type { CacheEntry } from "../types.ts";

/** Everything but the body, as stored beside it. */
export type EntryMeta = Omit<CacheEntry, "body">;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const FORMAT = 1;

export function entryMeta(entry: CacheEntry): EntryMeta {
  const { body: _body, ...meta } = entry;
  return meta;
}

/** Checks a decoded meta object; throws a TypeError naming the store if it is not one of ours. */
export function checkMeta(value: unknown, store: string): EntryMeta {
  const m = value as EntryMeta;
  const ok =
    typeof m === "object" &&
    m !== null &&
    Number.isInteger(m.status) &&
    Array.isArray(m.headers) &&
    m.headers.every((h) => Array.isArray(h) && h.length === 2 && typeof h[0] === "string" && typeof h[1] === "string") &&
    [m.storedAt, m.ttl, m.staleWhileRevalidate, m.staleIfError].every(Number.isFinite) &&
    (m.vary === undefined || Array.isArray(m.vary)) &&
    (m.tags === undefined || Array.isArray(m.tags));
  if (!ok) throw new TypeError(`[postcache] [${store}] stored value is not a postcache entry`);
  return m;
}

/** `u32 length of meta JSON | meta JSON (UTF-8) | body`, big-endian length, version in the meta. */
export function encodeEntry(entry: CacheEntry): Uint8Array {
  const meta = encoder.encode(JSON.stringify({ v: FORMAT, ...entryMeta(entry) }));
  const out = new Uint8Array(4 + meta.byteLength + entry.body.byteLength);
  new DataView(out.buffer).setUint32(0, meta.byteLength);
  out.set(meta, 4);
  out.set(entry.body, 4 + meta.byteLength);
  return out;
}

export function decodeEntry(bytes: Uint8Array, store: string): CacheEntry {
  if (bytes.byteLength < 4) throw new TypeError(`[postcache] [${store}] stored value is truncated`);
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
  if (4 + length > bytes.byteLength) throw new TypeError(`[postcache] [${store}] stored value is truncated`);
  const { v, ...meta } = JSON.parse(decoder.decode(bytes.subarray(4, 4 + length)));
  if (v !== FORMAT) throw new TypeError(`[postcache] [${store}] stored value has unknown format ${v}`);
  return { ...checkMeta(meta, store), body: bytes.slice(4 + length) };
}

/** JSON-safe form with a base64 body, for stores whose values must be JSON. */
export interface JsonEntry extends EntryMeta {
  v: number;
  body64: string;
}

export function entryToJson(entry: CacheEntry): JsonEntry {
  return { v: FORMAT, ...entryMeta(entry), body64: toBase64(entry.body) };
}

export function entryFromJson(value: unknown, store: string): CacheEntry {
  const { v, body64, ...meta } = (value ?? {}) as JsonEntry;
  if (v !== FORMAT || typeof body64 !== "string")
    throw new TypeError(`[postcache] [${store}] stored value is not a postcache entry`);
  return { ...checkMeta(meta, store), body: fromBase64(body64) };
}

export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  // Chunks keep String.fromCharCode's argument list well under engine limits.
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
