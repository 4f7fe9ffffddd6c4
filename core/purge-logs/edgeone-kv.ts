/**
 * EdgeOne Pages KV purge log: `edgeoneKvPurgeLog({ kv: PURGES })`, `PURGES` being the namespace's
 * variable bound to the Pages project. Pages KV is centrally stored and cached at each edge node for up
 * to 60 s: a write is read at once on the node that made it and within 60 s elsewhere
 * (https://pages.edgeone.ai/document/kv-storage, "How It Works"), so a purge reaches every node within
 * 60 s plus `purgeCheckMs`. KV offers put/get/delete/list by prefix: each purge is a key of its own
 * (listed-keys.ts), keys of letters, digits and `_` only, at most 512 bytes. There is no offline
 * EdgeOne runtime (docs/platforms.md), so the tests run this log against a stand-in of that API.
 * Bounded by retention alone: records past it are deleted by the next purge and skipped by reads.
 */
import type { PurgeLog } from "../purge-log.ts";
import { listedKeysPurgeLog } from "./listed-keys.ts";
import type { PurgeLogBounds } from "./memory.ts";

/** The part of a Pages KV namespace binding this log uses. */
export interface EdgeOneKvLike {
  put(key: string, value: string): Promise<unknown>;
  get(key: string, options: { type: "text" }): Promise<string | null | undefined>;
  delete(key: string): Promise<unknown>;
  list(options: { prefix: string; cursor?: string }): Promise<{
    keys: { key: string }[];
    complete: boolean;
    cursor?: string;
  }>;
}

export interface EdgeOneKvPurgeLogOptions extends Omit<PurgeLogBounds, "maxTargets"> {
  kv: EdgeOneKvLike;
  /** Prepended to every key; letters, digits and `_`. Default `postcache_purge_`. */
  prefix?: string;
}

const NAME = "edgeone-kv-purge-log";
/** Pages of a listing followed at most; a log bounded by retention stays far below it. */
const MAX_PAGES = 1000;

export function edgeoneKvPurgeLog(options: EdgeOneKvPurgeLogOptions): PurgeLog {
  const kv = options?.kv;
  if (typeof kv?.list !== "function" || typeof kv.put !== "function") {
    throw new TypeError(`[postcache] [${NAME}] option "kv" must be an EdgeOne Pages KV namespace binding`);
  }
  return listedKeysPurgeLog(
    "edgeone-kv",
    {
      put: (key, value) => kv.put(key, value),
      get: (key) => kv.get(key, { type: "text" }),
      delete: (key) => kv.delete(key),
      async list(prefix) {
        const keys: string[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < MAX_PAGES; page++) {
          const listed = await kv.list(cursor ? { prefix, cursor } : { prefix });
          for (const { key } of listed.keys) keys.push(key);
          if (listed.complete || !listed.cursor) break;
          cursor = listed.cursor;
        }
        return keys;
      },
    },
    { ...options, prefix: options.prefix ?? "postcache_purge_", maxKeyBytes: 512 },
  );
}
