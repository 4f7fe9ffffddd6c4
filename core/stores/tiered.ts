/**
 * A shared tier behind a per-PoP store: `tieredStore({ local, shared })`. `local` is the PoP's own cache
 * (the Cache API, memory), `shared` a global one (Redis, a KV): a local miss looks in `shared` before the
 * origin, and a hit there fills `local` for the entry's remaining lifetime, so a body answered in one
 * region is a hit in the next. Writes and purges go to both.
 *
 * Failing open, like every store: a tier that throws is reported to `onError` and skipped; a call
 * rejects only when both tiers fail. The engine bounds each call (`storeTimeoutMs`), so a slow shared
 * tier costs a miss at most that long; keep the shared store's own timeouts below it.
 *
 * A shared hit waits for the local copy to be written (up to `fillWaitMs`) before it is answered: work a
 * request leaves running after its response, outside `waitUntil` (which a store cannot reach), may be
 * cut off. workerd cancels it, and the PoP would go back to the shared tier for every request
 * (test/e2e/tiered-cloudflare-kv.test.ts).
 */
import { storeTtl } from "../policy.ts";
import { withDeadline } from "../timeouts.ts";
import type { CacheStore } from "../types.ts";

export interface TieredStoreOptions {
  /** The PoP's (or process's) own store, asked first. */
  local: CacheStore;
  /** The global store behind it. */
  shared: CacheStore;
  /** Told when one tier fails and the other answered (`tiered.<tier>.<operation>`). */
  onError?: ((error: unknown, where: string) => void) | undefined;
  /**
   * How long a shared hit waits for its local copy to be written before it is answered, in ms. Past it
   * the answer goes and the write goes on (where the platform lets it). `0`: do not wait. Default 100,
   * well under the engine's `storeTimeoutMs` (500), which bounds the whole `get`.
   */
  fillWaitMs?: number | undefined;
  /** The clock (tests). Default `Date.now`. */
  now?: (() => number) | undefined;
}

export const DEFAULT_FILL_WAIT_MS = 100;

export function tieredStore({
  local,
  shared,
  onError = () => {},
  fillWaitMs = DEFAULT_FILL_WAIT_MS,
  now = Date.now,
}: TieredStoreOptions): CacheStore {
  if (!Number.isFinite(fillWaitMs) || fillWaitMs < 0) {
    throw new TypeError(`[postcache] [tiered] option "fillWaitMs" must be a number of ms, 0 or more (got ${fillWaitMs})`);
  }
  const store: CacheStore = {
    name: `${local.name}+${shared.name}`,
    async get(key) {
      const near = await local.get(key).catch((error) => report(error, "local.get"));
      if (near) return near;
      const far = await shared.get(key).catch((error) => report(error, "shared.get"));
      if (!far) return undefined;
      const ttl = storeTtl(far, now()); // what is left of its lifetime and stale windows
      if (!(ttl > 0)) return far;
      // A failed fill is only reported; a slow one is waited for up to fillWaitMs (see the top).
      const fill = local.set(key, far, ttl).catch((error) => report(error, "local.set"));
      if (fillWaitMs > 0) await withDeadline(fill, fillWaitMs);
      return far;
    },
    set: (key, entry, ttlSeconds) => both("set", (tier) => tier.set(key, entry, ttlSeconds)).then(() => {}),
    delete: (key) => both("delete", (tier) => tier.delete(key)).then((removed) => removed.some(Boolean)),
  };
  if (local.deleteTag && shared.deleteTag) {
    store.deleteTag = async (tag, hint) => {
      const counts = await both("deleteTag", (tier) => (tier.deleteTag as NonNullable<CacheStore["deleteTag"]>)(tag, hint));
      // The same entries live in both tiers: the larger count is how many answers went, -1 if a tier cannot tell.
      return counts.includes(-1) || counts.length < 2 ? -1 : Math.max(...counts);
    };
  }
  if (local.clear && shared.clear) {
    store.clear = () => both("clear", (tier) => (tier.clear as () => Promise<void>)()).then(() => {});
  }
  return store;

  function report(error: unknown, where: string): undefined {
    onError(error, `tiered.${where}`);
    return undefined;
  }

  /** `call` on both tiers at once: the values of those that succeeded; rejects only if both failed. */
  async function both<T>(operation: string, call: (tier: CacheStore) => Promise<T>): Promise<T[]> {
    const [near, far] = await Promise.allSettled([call(local), call(shared)]);
    if (near.status === "rejected" && far.status === "rejected") throw far.reason;
    const values: T[] = [];
    for (const [result, tier] of [
      [near, "local"],
      [far, "shared"],
    ] as const) {
      if (result.status === "fulfilled") values.push(result.value);
      else report(result.reason, `${tier}.${operation}`);
    }
    return values;
  }
}
