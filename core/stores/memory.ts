/**
 * In-memory store: least-recently-used, bounded by total bytes, expiring entries by TTL. Used by the
 * Bun and Node servers and by tests. Per process: instances behind a load balancer do not share it
 * (use the Redis store for that).
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
/** What an entry costs beyond its body, key and header text: the Map slot, the entry object, its header
 * arrays and strings, and the tag index. Measured (bench/findings.md §7): 43,436 stored answers grew the
 * live heap by up to ~590 B each more than a 256 B allowance counted, so 850 B keeps the cap a bound. */
const ENTRY_OVERHEAD_BYTES = 850;

interface Slot {
  entry: CacheEntry;
  expiresAt: number;
  size: number;
  /** When it was last (re)inserted, counted in insertions. */
  seq: number;
}

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

export function memoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const maxBytes = options.maxBytes ?? DEFAULT_MEMORY_MAX_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw new TypeError(`[postcache] [memory] option "maxBytes" must be a positive integer (got ${maxBytes})`);
  }
  const now = options.now ?? Date.now;
  const slots = new Map<string, Slot>();
  /** tag → keys of the entries carrying it (every entry carries ALL_TAG; `clear` covers that one). */
  const tagged = new Map<string, Set<string>>();
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

  function remove(key: string): boolean {
    const slot = slots.get(key);
    if (!slot) return false;
    slots.delete(key);
    bytes -= slot.size;
    for (const tag of slot.entry.tags ?? []) {
      const keys = tagged.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) tagged.delete(tag);
    }
    return true;
  }

  function clear(): number {
    const removed = slots.size;
    slots.clear();
    cursor = slots.keys();
    tagged.clear();
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
      if (!slot) return undefined;
      if (slot.expiresAt <= now()) {
        remove(key);
        return undefined;
      }
      // Map keeps insertion order: re-inserting marks the slot most recently used. Only a slot in the
      // older half moves (the newer half is not next in line for eviction): deleting and re-adding the
      // same key on every hit piles its deleted copies up in one hash chain until the next rehash, so a
      // hot key's hit cost grew with the store (JSC and V8 alike: 1.6 µs at 1k entries, 23 µs at 45k).
      if (insertions - slot.seq > slots.size >> 1) {
        slots.delete(key);
        slot.seq = ++insertions;
        slots.set(key, slot);
      }
      return slot.entry;
    },
    async set(key, entry, ttlSeconds) {
      remove(key);
      const size = sizeOf(key, entry);
      if (ttlSeconds <= 0 || size > maxBytes) return;
      slots.set(key, { entry, expiresAt: now() + ttlSeconds * 1000, size, seq: ++insertions });
      bytes += size;
      for (const tag of entry.tags ?? []) {
        if (tag === ALL_TAG) continue;
        const keys = tagged.get(tag) ?? new Set<string>();
        keys.add(key);
        tagged.set(tag, keys);
      }
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

function sizeOf(key: string, entry: CacheEntry): number {
  let size = ENTRY_OVERHEAD_BYTES + key.length + entry.body.byteLength;
  for (const [name, value] of entry.headers) size += name.length + value.length;
  return size;
}
