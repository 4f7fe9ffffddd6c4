/**
 * A bounded Cache API store for caches that never evict: Deno's (`caches.open`, kept in SQLite under the
 * temp directory and across restarts, never expiring anything; an expired entry is deleted only when it
 * is read). Without a bound such a cache grows for as long as new requests come.
 *
 * Entries go to the current generation, a cache named `<name>#<n>`; reads look in it, then in the one
 * before. When the current generation holds half of `maxEntries` or `maxBytes`, or is older than
 * `maxAgeMs`, the generation before it is deleted whole (`caches.delete`) and a new one begins. So at
 * most two generations exist: the store holds at most `maxEntries` entries and about `maxBytes` bytes,
 * and every entry, expired or not, is gone at most two `maxAgeMs` after it was written (the sweep). The
 * cost: an entry can be dropped before it expires, which the store contract allows; keep `maxAgeMs`
 * above the TTLs that matter. The generation number and counts are kept in `<name>#meta`, so a restart
 * goes on where the last process was (counts written every `PERSIST_EVERY` writes: a crash undercounts
 * by at most that many). Several isolates on one cache storage (`deno serve --parallel`) each count
 * their own writes, so the bound holds per isolate. Web standards only: the Cache API store does the rest.
 */
import type { CacheEntry, CacheStore } from "../types.ts";
import { type CacheApiStore, type CacheApiStoreOptions, type CacheLike, cacheApiStore } from "./cache-api.ts";

/** The part of `CacheStorage` this store uses. */
export interface CacheStorageLike {
  open(name: string): Promise<CacheLike>;
  delete(name: string): Promise<boolean>;
}

export interface GenerationalCacheOptions extends Omit<CacheApiStoreOptions, "cache"> {
  /** The cache storage, or a function returning it, called on first use: `() => caches`. Required. */
  caches: CacheStorageLike | (() => CacheStorageLike);
  /** The caches' base name. Default `postcache`. */
  name?: string | undefined;
  /** Most entries held. Default 10,000. */
  maxEntries?: number | undefined;
  /** About the most bytes held (bodies and headers). Default 256 MiB. */
  maxBytes?: number | undefined;
  /** A generation older than this is retired: the sweep. Default 24 hours. */
  maxAgeMs?: number | undefined;
}

export const DEFAULT_GENERATION_MAX_ENTRIES = 10_000;
export const DEFAULT_GENERATION_MAX_BYTES = 256 * 1024 * 1024;
export const DEFAULT_GENERATION_MAX_AGE_MS = 24 * 60 * 60 * 1000;
/** Counts are written to the meta cache every this many writes, and at every rotation. */
export const PERSIST_EVERY = 32;
const META_KEY = "https://postcache.invalid/.postcache/v1/generation";
const STORE = "cache-generations";

interface Meta {
  generation: number;
  startedAt: number;
  entries: number;
  bytes: number;
}

interface State extends Meta {
  current: CacheApiStore;
  previous: CacheApiStore;
  unsaved: number;
}

/**
 * @example
 * // Deno: at most 10,000 entries, each gone within 48 h
 * const store = generationalCacheStore({ caches: () => caches, name: "postcache" });
 */
export function generationalCacheStore(options: GenerationalCacheOptions): CacheStore {
  const { caches: source, name = "postcache", maxEntries, maxBytes, maxAgeMs, ...storeOptions } = options;
  const limits = {
    entries: positive("maxEntries", maxEntries ?? DEFAULT_GENERATION_MAX_ENTRIES),
    bytes: positive("maxBytes", maxBytes ?? DEFAULT_GENERATION_MAX_BYTES),
    ageMs: positive("maxAgeMs", maxAgeMs ?? DEFAULT_GENERATION_MAX_AGE_MS),
  };
  const now = storeOptions.now ?? Date.now;
  const storage = () => (typeof source === "function" ? source() : source);
  const nameOf = (generation: number) => `${name}#${generation}`;
  const inner = (generation: number) => cacheApiStore({ ...storeOptions, cache: () => storage().open(nameOf(generation)) });
  /** Origins of the keys seen here, for purges: a generation's own tag indexes live per origin. */
  const origins = new Set<string>();
  const learn = (key: string) => {
    let origin: string;
    try {
      origin = new URL(key).origin;
    } catch {
      return;
    }
    if (origin !== "null" && origins.size < 100) origins.add(origin);
  };
  let loading: Promise<State> | undefined;
  let rotating: Promise<void> | undefined;

  async function load(): Promise<State> {
    const meta = await readMeta();
    const base = meta ?? { generation: 0, startedAt: now(), entries: 0, bytes: 0 };
    return { ...base, current: inner(base.generation), previous: inner(base.generation - 1), unsaved: meta ? 0 : 1 };
  }
  function state(): Promise<State> {
    loading ??= load().catch((error) => {
      loading = undefined;
      throw error;
    });
    return loading;
  }

  async function readMeta(): Promise<Meta | undefined> {
    const response = await (await storage().open(`${name}#meta`)).match(META_KEY).catch(() => undefined);
    if (!response) return undefined;
    const meta = (await response.json().catch(() => undefined)) as Meta | undefined;
    return meta && Number.isSafeInteger(meta.generation) ? meta : undefined;
  }
  async function saveMeta(s: State): Promise<void> {
    const { generation, startedAt, entries, bytes } = s;
    s.unsaved = 0;
    const body = JSON.stringify({ generation, startedAt, entries, bytes } satisfies Meta);
    await (await storage().open(`${name}#meta`)).put(
      META_KEY,
      new Response(body, { headers: { "cache-control": "max-age=31536000" } }),
    );
  }

  async function rotate(s: State): Promise<void> {
    await storage().delete(nameOf(s.generation - 1));
    s.generation += 1;
    s.previous = s.current;
    s.current = inner(s.generation);
    s.startedAt = now();
    s.entries = 0;
    s.bytes = 0;
    await saveMeta(s);
  }

  /**
   * The generation to write `size` bytes into, rotating first when the current one is full or old. The
   * entry is counted here, before the write is awaited: writes overlap (a server's finish in the
   * background), and each must see the ones before it, or all of them pass the check at once and
   * overfill the generation. After a rotation the check runs again, since waiters woken by it may
   * have filled the new generation already. A write that still finds no room after two rotations is
   * dropped (undefined; `set` then deletes the key), which a cache may do, rather than wait on
   * rotations without end or overfill.
   */
  async function forWrite(size: number): Promise<{ s: State; target: CacheApiStore } | undefined> {
    const s = await state();
    const due = () =>
      (s.entries > 0 && (s.entries + 1 > limits.entries / 2 || s.bytes + size > limits.bytes / 2)) ||
      now() - s.startedAt >= limits.ageMs;
    for (let rotations = 0; rotations < 2 && due(); rotations++) {
      rotating ??= rotate(s).finally(() => {
        rotating = undefined;
      });
      await rotating;
    }
    if (due()) return undefined;
    s.entries += 1;
    s.bytes += size;
    return { s, target: s.current };
  }

  const store: CacheStore = {
    name: STORE,
    async get(key) {
      learn(key);
      const s = await state();
      return (await s.current.get(key)) ?? (await s.previous.get(key));
    },
    async set(key, entry, ttlSeconds) {
      learn(key);
      const size = sizeOf(entry);
      const room = await forWrite(size);
      if (!room) {
        // Dropped: take out an older answer under the key too, as an overwrite would have.
        await store.delete(key);
        return;
      }
      const { s, target } = room;
      await target.set(key, entry, ttlSeconds);
      if (++s.unsaved >= PERSIST_EVERY) await saveMeta(s);
    },
    async delete(key) {
      learn(key);
      const s = await state();
      const [a, b] = await Promise.all([s.current.delete(key), s.previous.delete(key)]);
      return a || b;
    },
    async deleteTag(tag, hint) {
      if (hint?.origin) learn(`${hint.origin}/`);
      if (origins.size === 0) {
        throw new Error(`[postcache] [${STORE}] cannot purge tag "${tag}": no origin known in this isolate yet`);
      }
      const s = await state();
      let removed = 0;
      for (const generation of [s.current, s.previous]) {
        if (!generation.deleteTag) return -1;
        // Each origin's index, in each generation (the generations do not share indexes).
        for (const origin of origins) removed += await generation.deleteTag(tag, { origin });
      }
      return removed;
    },
    async clear() {
      const s = await state();
      await Promise.all([storage().delete(nameOf(s.generation)), storage().delete(nameOf(s.generation - 1))]);
      // Fresh handles on both: a Cache opened before its storage was deleted may still answer from it.
      s.generation += 1;
      s.current = inner(s.generation);
      s.previous = inner(s.generation - 1);
      s.startedAt = now();
      s.entries = 0;
      s.bytes = 0;
      await saveMeta(s);
    },
  };
  return store;
}

/** What an entry costs the cache: its body, its headers, and a little for the framing. */
function sizeOf(entry: CacheEntry): number {
  let bytes = entry.body.byteLength + 256;
  for (const [name, value] of entry.headers) bytes += name.length + value.length;
  return bytes;
}

function positive(option: string, value: number): number {
  if (!(typeof value === "number" && value > 0 && Number.isFinite(value))) {
    throw new TypeError(`[postcache] [${STORE}] option "${option}" must be a number > 0 (got ${value})`);
  }
  return value;
}
