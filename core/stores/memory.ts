/**
 * In-memory store: least-recently-used, bounded by total bytes, expiring entries by TTL. Used by the
 * Bun and Node servers and by tests. Per process: instances behind a load balancer do not share it
 * (use the Redis store for that).
 *
 * Each entry is held as few objects as the collector can see: its key (the Map's), one packed
 * Uint8Array (headers, vary and tags as JSON, then the body) and its numbers in the columns of one
 * Float64Array shared by every entry. Held as a CacheEntry (a slot object, header tuples, their strings,
 * a tag array), a store of 31,714 1 KiB entries was 920,000 live objects and a full collection took
 * 22-27 ms; packed, 38,590 entries in the same 64 MiB are 77,000 objects and it takes 10-11 ms
 * (Bun 1.4.5). Entries are decoded on `get` (about 2 µs; the body a view of the stored bytes); the
 * DECODED_ENTRIES most recently read stay decoded and are shared by the gets that find them.
 */
import { ALL_TAG } from "../tags.ts";
import type { CacheEntry, CacheStore } from "../types.ts";

export interface MemoryStoreOptions {
  /** Most bytes held (bodies, headers and keys, plus a fixed per-entry overhead). Default 64 MiB. */
  maxBytes?: number;
  /** The clock, in ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

export const DEFAULT_MEMORY_MAX_BYTES = 64 * 1024 * 1024;
/** What an entry costs beyond its key and packed bytes: its Map slot, the key's string cell, the
 * Uint8Array's cell, its columns and its place in the tag index. Measured (bench/full-store.ts): 40,895
 * entries held at 256 B grew the live heap by 138 B each more than counted, so 400 B keeps the cap a bound. */
const ENTRY_OVERHEAD_BYTES = 400;

/** The columns of `columns`, FIELDS per slot. */
const EXPIRES_AT = 0;
/** When it was last (re)inserted, counted in insertions. */
const SEQ = 1;
/** Bytes accounted for it. */
const SIZE = 2;
const STATUS = 3;
const STORED_AT = 4;
const TTL = 5;
const STALE_WHILE_REVALIDATE = 6;
const STALE_IF_ERROR = 7;
/** Bytes of JSON text before the body in its packed bytes. */
const TEXT_BYTES = 8;
/** 1 when it carries a tag besides ALL_TAG (so removing it must update the tag index). */
const TAGGED = 9;
const FIELDS = 10;
const INITIAL_SLOTS = 1024;
/** Entries kept decoded, the ones most recently read: a hot key's hit then decodes nothing (decoding is
 * ~2 µs per get, against 0.3 µs for the lookup). Few enough objects that the collector does not notice. */
const DECODED_ENTRIES = 256;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface MemoryStore extends CacheStore {
  /** Bytes currently accounted for. */
  readonly bytes: number;
  /** The cap on `bytes` (`maxBytes`). */
  readonly maxBytes: number;
  /** Entries currently held (expired ones go lazily). */
  readonly size: number;
  deleteTag(tag: string): Promise<number>;
  clear(): Promise<void>;
}

/** What is held of an entry besides its numbers: `[headers, vary or 0, tags or 0]` as JSON. */
type Text = [CacheEntry["headers"], CacheEntry["vary"] | 0, CacheEntry["tags"] | 0];

export function memoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const maxBytes = options.maxBytes ?? DEFAULT_MEMORY_MAX_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw new TypeError(`[postcache] [memory] option "maxBytes" must be a positive integer (got ${maxBytes})`);
  }
  const now = options.now ?? Date.now;
  /** key → slot number. */
  const slots = new Map<string, number>();
  /** slot → packed bytes: JSON text, then the body. */
  let packed: (Uint8Array | undefined)[] = [];
  let columns = new Float64Array(INITIAL_SLOTS * FIELDS);
  /** Slot numbers free for reuse. */
  let free: number[] = [];
  /** How many slot numbers have ever been handed out (since the last clear). */
  let used = 0;
  /** tag → keys of the entries carrying it (every entry carries ALL_TAG; `clear` covers that one). */
  const tagged = new Map<string, Set<string>>();
  /** slot → its entry, decoded: the DECODED_ENTRIES most recently read (emptied when full). */
  const decoded = new Map<number, CacheEntry>();
  let bytes = 0;
  let insertions = 0;
  // One long-lived iterator walks the keys oldest first. A fresh `slots.keys()` per eviction restarts
  // at the head of the Map's table and steps over every entry deleted since its last rehash: 18-34 µs
  // per set once the store is full, 2-3.5 µs with the cursor. Everything before the cursor has been
  // evicted or re-inserted after it, so the next key it yields is the oldest.
  let cursor = slots.keys();
  function evictOldest(): boolean {
    let next = cursor.next();
    if (next.done) {
      cursor = slots.keys();
      next = cursor.next();
      if (next.done) return false;
    }
    remove(next.value);
    return true;
  }

  function newSlot(): number {
    const reused = free.pop();
    if (reused !== undefined) return reused;
    if ((used + 1) * FIELDS > columns.length) {
      const grown = new Float64Array(columns.length * 2);
      grown.set(columns);
      columns = grown;
    }
    return used++;
  }

  function text(slot: number): Text {
    const bytes = packed[slot] as Uint8Array;
    return JSON.parse(decoder.decode(bytes.subarray(0, columns[slot * FIELDS + TEXT_BYTES])));
  }

  function remove(key: string): boolean {
    const slot = slots.get(key);
    if (slot === undefined) return false;
    slots.delete(key);
    const at = slot * FIELDS;
    bytes -= columns[at + SIZE];
    if (columns[at + TAGGED]) {
      for (const tag of text(slot)[2] || []) {
        const keys = tagged.get(tag);
        keys?.delete(key);
        if (keys?.size === 0) tagged.delete(tag);
      }
    }
    packed[slot] = undefined;
    decoded.delete(slot);
    free.push(slot);
    return true;
  }

  function clear(): number {
    const removed = slots.size;
    slots.clear();
    cursor = slots.keys();
    tagged.clear();
    decoded.clear();
    packed = [];
    columns = new Float64Array(INITIAL_SLOTS * FIELDS);
    free = [];
    used = 0;
    bytes = 0;
    return removed;
  }

  return {
    name: "memory",
    maxBytes,
    get bytes() {
      return bytes;
    },
    get size() {
      return slots.size;
    },
    async get(key) {
      const slot = slots.get(key);
      if (slot === undefined) return undefined;
      const at = slot * FIELDS;
      if (columns[at + EXPIRES_AT] <= now()) {
        remove(key);
        return undefined;
      }
      // Map keeps insertion order: re-inserting marks the slot most recently used. Only a slot in the
      // older half moves (the newer half is not next in line for eviction): deleting and re-adding the
      // same key on every hit piles its deleted copies up in one hash chain until the next rehash, so a
      // hot key's hit cost grew with the store (JSC and V8 alike: 1.6 µs at 1k entries, 23 µs at 45k).
      if (insertions - columns[at + SEQ] > slots.size >> 1) {
        slots.delete(key);
        columns[at + SEQ] = ++insertions;
        slots.set(key, slot);
      }
      let entry = decoded.get(slot);
      if (entry) return entry;
      const [headers, vary, tags] = text(slot);
      entry = {
        status: columns[at + STATUS],
        headers,
        body: (packed[slot] as Uint8Array).subarray(columns[at + TEXT_BYTES]),
        storedAt: columns[at + STORED_AT],
        ttl: columns[at + TTL],
        staleWhileRevalidate: columns[at + STALE_WHILE_REVALIDATE],
        staleIfError: columns[at + STALE_IF_ERROR],
      };
      if (vary) entry.vary = vary;
      if (tags) entry.tags = tags;
      if (decoded.size >= DECODED_ENTRIES) decoded.clear();
      decoded.set(slot, entry);
      return entry;
    },
    async set(key, entry, ttlSeconds) {
      remove(key);
      if (ttlSeconds <= 0) return;
      const json: Text = [entry.headers, entry.vary ?? 0, entry.tags ?? 0];
      const head = encoder.encode(JSON.stringify(json));
      const size = ENTRY_OVERHEAD_BYTES + key.length + head.byteLength + entry.body.byteLength;
      if (size > maxBytes) return;
      const bytesOf = new Uint8Array(head.byteLength + entry.body.byteLength);
      bytesOf.set(head);
      bytesOf.set(entry.body, head.byteLength);
      const slot = newSlot();
      packed[slot] = bytesOf;
      const at = slot * FIELDS;
      columns[at + EXPIRES_AT] = now() + ttlSeconds * 1000;
      columns[at + SEQ] = ++insertions;
      columns[at + SIZE] = size;
      columns[at + STATUS] = entry.status;
      columns[at + STORED_AT] = entry.storedAt;
      columns[at + TTL] = entry.ttl;
      columns[at + STALE_WHILE_REVALIDATE] = entry.staleWhileRevalidate;
      columns[at + STALE_IF_ERROR] = entry.staleIfError;
      columns[at + TEXT_BYTES] = head.byteLength;
      let isTagged = 0;
      for (const tag of entry.tags ?? []) {
        if (tag === ALL_TAG) continue;
        isTagged = 1;
        const keys = tagged.get(tag) ?? new Set<string>();
        keys.add(key);
        tagged.set(tag, keys);
      }
      columns[at + TAGGED] = isTagged;
      slots.set(key, slot);
      bytes += size;
      while (bytes > maxBytes && evictOldest()) {}
    },
    async delete(key) {
      return remove(key);
    },
    async deleteTag(tag) {
      if (tag === ALL_TAG) return clear();
      let removed = 0;
      for (const key of [...(tagged.get(tag) ?? [])]) if (remove(key)) removed++;
      return removed;
    },
    async clear() {
      clear();
    },
  };
}
