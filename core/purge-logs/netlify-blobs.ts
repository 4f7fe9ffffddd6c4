/**
 * Netlify Blobs purge log: `netlifyBlobsPurgeLog({ store: getStore({ name: "postcache-purges",
 * consistency: "strong" }) })`. Edge access to Blobs is eventually consistent by default, "with a drift
 * of up to 60 seconds" (@netlify/blobs README); a store opened with `consistency: "strong"` reads and
 * lists past the edge caches, so a purge reaches every region within `purgeCheckMs` plus a round trip
 * (https://docs.netlify.com/blobs, consistency). When writes to one key race, "the last write wins"
 * (same page): so each purge is a key of its own (listed-keys.ts),
 * and `read` is one `list({ prefix })`. Netlify takes keys of up to 600 UTF-8 bytes (the client's own
 * check), but the local Blobs server of `netlify dev` keeps each key as one file name, which common file
 * systems cap at 255 bytes: past that a key is written hashed (listed-keys.ts), so both work.
 * Bounded by retention alone: records past it are deleted by the next purge and skipped by reads.
 */
import type { PurgeLog } from "../purge-log.ts";
import { listedKeysPurgeLog } from "./listed-keys.ts";
import type { PurgeLogBounds } from "./memory.ts";

/** The part of an `@netlify/blobs` Store (`getStore(...)`) this log uses. */
export interface BlobStoreLike {
  set(key: string, value: string): Promise<unknown>;
  get(key: string, options: { type: "text" }): Promise<string | null>;
  delete(key: string): Promise<unknown>;
  list(options: { prefix: string }): Promise<{ blobs: { key: string }[] }>;
}

export interface NetlifyBlobsPurgeLogOptions extends Omit<PurgeLogBounds, "maxTargets"> {
  /** A Blobs store, best opened with `consistency: "strong"` (see above). */
  store: BlobStoreLike;
  /** Prepended to every key; letters, digits and `_`. Default `postcache_purge_`. */
  prefix?: string;
}

const NAME = "netlify-blobs-purge-log";
/** A file name's limit on ext4 and most file systems, below Netlify's own 600 (see above). */
const MAX_KEY_BYTES = 255;

export function netlifyBlobsPurgeLog(options: NetlifyBlobsPurgeLogOptions): PurgeLog {
  const store = options?.store;
  if (typeof store?.list !== "function" || typeof store.set !== "function") {
    throw new TypeError(`[postcache] [${NAME}] option "store" must be a Netlify Blobs store (getStore from @netlify/blobs)`);
  }
  return listedKeysPurgeLog(
    "netlify-blobs",
    {
      put: (key, value) => store.set(key, value),
      get: (key) => store.get(key, { type: "text" }),
      delete: (key) => store.delete(key),
      // Without `paginate`, the client follows every page's cursor itself and resolves all of them.
      list: async (prefix) => (await store.list({ prefix })).blobs.map((blob) => blob.key),
    },
    { ...options, prefix: options.prefix ?? "postcache_purge_", maxKeyBytes: MAX_KEY_BYTES },
  );
}
