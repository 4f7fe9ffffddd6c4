/**
 * Deno KV purge log: one key per target, `[...prefix, target]` → its latest purge time (ms), written
 * with `expireIn: retentionMs` so KV drops it itself (https://docs.deno.com/deploy/kv/manual/key_expiration/;
 * expiry is lazy, so reads also skip targets past the cutoff). `read` is one `list` over the prefix.
 * On Deno Deploy KV is strongly consistent by default for reads in the primary region; `list` here asks
 * for `consistency: "strong"`. KV has no cheap count, so `maxTargets` is not enforced: retention bounds it.
 * The KV handle is injected (`await Deno.openKv()`), so core names no Deno global.
 */
import type { PurgeLog, PurgeState } from "../purge-log.ts";
import { bounds, type PurgeLogBounds } from "./memory.ts";

type KvKey = readonly (string | number)[];
/** The part of `Deno.Kv` this log uses. */
export interface KvLike {
  get(key: KvKey): Promise<{ value: unknown; versionstamp: string | null }>;
  list(
    selector: { prefix: KvKey },
    options?: { consistency?: "strong" | "eventual" },
  ): AsyncIterable<{ key: KvKey; value: unknown }>;
  atomic(): {
    check(...checks: { key: KvKey; versionstamp: string | null }[]): unknown;
    set(key: KvKey, value: unknown, options?: { expireIn?: number }): unknown;
    commit(): Promise<{ ok: boolean }>;
  };
}

export interface DenoKvPurgeLogOptions extends Omit<PurgeLogBounds, "maxTargets"> {
  kv: KvLike;
  /** The key prefix. Default `["postcache", "purges"]`. */
  prefix?: KvKey;
}

export function denoKvPurgeLog(options: DenoKvPurgeLogOptions): PurgeLog {
  if (typeof options?.kv?.list !== "function")
    throw new TypeError('[postcache] [deno-kv-purge-log] option "kv" must be a KV handle (openKv())');
  const { retentionMs, now } = bounds("deno-kv-purge-log", options);
  const { kv } = options;
  const prefix = options.prefix ?? ["postcache", "purges"];
  return {
    name: "deno-kv",
    async record(target, at) {
      const key = [...prefix, target];
      // Keep the later time under concurrent purges of one target: check-and-set, retried (bounded).
      for (let attempt = 0; attempt < 5; attempt++) {
        const current = await kv.get(key);
        if (typeof current.value === "number" && current.value >= at) return;
        const op = kv.atomic();
        op.check({ key, versionstamp: current.versionstamp });
        op.set(key, at, { expireIn: retentionMs });
        if ((await op.commit()).ok) return;
      }
      throw new Error("[postcache] [deno-kv-purge-log] record lost five races in a row");
    },
    async read(): Promise<PurgeState> {
      const cutoff = now() - retentionMs;
      const purges: Record<string, number> = {};
      for await (const { key, value } of kv.list({ prefix }, { consistency: "strong" })) {
        if (typeof value === "number" && value > cutoff) purges[String(key[key.length - 1])] = value;
      }
      return { floor: 0, purges };
    },
  };
}
