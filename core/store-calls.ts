/** Store calls as the engine makes them: bounded by `storeTimeoutMs`, failing open, errors reported. */
import type { ResolvedOptions } from "./options.ts";
import { bounded } from "./timeouts.ts";
import type { CacheEntry, CacheStore } from "./types.ts";

/** The entry under `key`, or undefined when there is none or the store failed or was slow. */
export async function storeGet(o: ResolvedOptions, store: CacheStore, key: string): Promise<CacheEntry | undefined> {
  try {
    const entry = await bounded(store.get(key), o.storeTimeoutMs, `${store.name}.get`);
    if (entry === undefined || isEntry(entry)) return entry;
    throw new TypeError(`[postcache] [${store.name}] get returned something that is not a cache entry`);
  } catch (error) {
    o.onError(error, "store.get");
    return undefined;
  }
}

/** Stores `entry`; resolves whether the store said it did, never rejects. */
export async function storeSet(
  o: ResolvedOptions,
  store: CacheStore,
  key: string,
  entry: CacheEntry,
  ttl: number,
): Promise<boolean> {
  try {
    await bounded(store.set(key, entry, ttl), o.storeTimeoutMs, `${store.name}.set`);
    return true;
  } catch (error) {
    o.onError(error, "store.set");
    return false;
  }
}

/** Purges the entries carrying `tag`; never rejects. */
export async function storeDeleteTag(o: ResolvedOptions, store: CacheStore, tag: string, origin: string): Promise<void> {
  if (!store.deleteTag) return;
  try {
    await bounded(store.deleteTag(tag, { origin }), o.storeTimeoutMs, `${store.name}.deleteTag`);
  } catch (error) {
    o.onError(error, "store.deleteTag");
  }
}

function isEntry(value: unknown): value is CacheEntry {
  const e = value as CacheEntry;
  return (
    typeof e === "object" &&
    e !== null &&
    Number.isInteger(e.status) &&
    Array.isArray(e.headers) &&
    // Not `instanceof`: a store or runtime may hand back bytes made in another realm.
    ArrayBuffer.isView(e.body) &&
    Number.isFinite(e.storedAt) &&
    Number.isFinite(e.ttl) &&
    Number.isFinite(e.staleWhileRevalidate) &&
    Number.isFinite(e.staleIfError)
  );
}
