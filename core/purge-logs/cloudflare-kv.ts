/**
 * Cloudflare Workers KV purge log: one key per target, `<prefix><target>`, its time in the key's
 * metadata, so `read` is one `list({ prefix })` (metadata comes with the listing; pages of 1000, followed
 * by cursor), and written with `expirationTtl` (seconds, at least 60) so KV drops it after `retentionMs`
 * (https://developers.cloudflare.com/kv/api/write-key-value-pairs/). KV is eventually consistent: a
 * write can take 60 s or more to be visible in other locations, which adds to how fast a purge reaches
 * them (https://developers.cloudflare.com/kv/concepts/how-kv-works/). Use the Durable Object log where that
 * bound is too slow. No cheap count: bounded by retention alone.
 */
import type { PurgeLog, PurgeState } from "../purge-log.ts";
import { bounds, type PurgeLogBounds } from "./memory.ts";

type Meta = { at?: unknown } | null;
/** The part of a KV namespace binding this log uses. */
export interface KvNamespaceLike {
  getWithMetadata(key: string): Promise<{ value: unknown; metadata: unknown }>;
  put(key: string, value: string, options: { expirationTtl: number; metadata: { at: number } }): Promise<void>;
  list(options: { prefix: string; cursor?: string }): Promise<{
    keys: { name: string; metadata?: unknown }[];
    list_complete: boolean;
    cursor?: string;
  }>;
}

export interface CloudflareKvPurgeLogOptions extends Omit<PurgeLogBounds, "maxTargets"> {
  kv: KvNamespaceLike;
  /** Prepended to every key. Default `postcache:purge:`. */
  prefix?: string;
}

export function cloudflareKvPurgeLog(options: CloudflareKvPurgeLogOptions): PurgeLog {
  if (typeof options?.kv?.list !== "function") {
    throw new TypeError('[postcache] [cloudflare-kv-purge-log] option "kv" must be a KV namespace binding');
  }
  const { retentionMs, now } = bounds("cloudflare-kv-purge-log", options);
  const { kv } = options;
  const prefix = options.prefix ?? "postcache:purge:";
  const expirationTtl = Math.max(60, Math.ceil(retentionMs / 1000));
  return {
    name: "cloudflare-kv",
    async record(target, at) {
      const key = prefix + target;
      const current = ((await kv.getWithMetadata(key)).metadata as Meta)?.at;
      if (typeof current === "number" && current >= at) return;
      await kv.put(key, "", { expirationTtl, metadata: { at } });
    },
    async read(): Promise<PurgeState> {
      const cutoff = now() - retentionMs;
      const purges: Record<string, number> = {};
      let cursor: string | undefined;
      // Bounded: a page per 1000 targets, and a log bounded by retention.
      for (let page = 0; page < 1000; page++) {
        const listed = await kv.list(cursor ? { prefix, cursor } : { prefix });
        for (const { name, metadata } of listed.keys) {
          const at = (metadata as Meta)?.at;
          if (typeof at === "number" && at > cutoff) purges[name.slice(prefix.length)] = at;
        }
        if (listed.list_complete || !listed.cursor) break;
        cursor = listed.cursor;
      }
      return { floor: 0, purges };
    },
  };
}
