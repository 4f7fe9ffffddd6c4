/**
 * A purge log for stores that can only put, get, delete and list keys by prefix, with no metadata in
 * the listing and no conditional write that every engine honours (Netlify Blobs, EdgeOne Pages KV).
 *
 * Append-only: a record is one new key, `<prefix><target>_z<time>`, so two isolates purging at once
 * write two keys and neither can overwrite the other (a read-modify-write of one shared value would
 * lose one of them). `read` is one listing of the prefix; the latest time per target wins. A record
 * also tidies up: it deletes keys past `retentionMs` and keys a later record of the same target
 * supersedes (never the latest one, so a racing tidy-up cannot drop a purge).
 *
 * Keys use only `[A-Za-z0-9_]`, the narrowest set these engines accept: other bytes of the target are
 * written `_` and two hex digits, so `_z` (z is no hex digit) can only be the time separator. A target
 * whose key would pass `maxKeyBytes` is written `_h<sha-256 hex>_z<time>` with the target as the value,
 * read back with one `get` (tags are at most 256 characters, so that is rare: a long key URL).
 */
import type { PurgeLog, PurgeState } from "../purge-log.ts";
import { bounds, type PurgeLogBounds } from "./memory.ts";

/** What the engine must offer: every key under a prefix (all pages), and plain string values. */
export interface ListedKeys {
  put(key: string, value: string): Promise<unknown>;
  get(key: string): Promise<string | null | undefined>;
  delete(key: string): Promise<unknown>;
  /** Every key that starts with `prefix`. */
  list(prefix: string): Promise<string[]>;
}

export interface ListedKeysLogOptions extends Omit<PurgeLogBounds, "maxTargets"> {
  /** Prepended to every key; letters, digits and `_` only. */
  prefix: string;
  /** The engine's longest key, in bytes. */
  maxKeyBytes: number;
}

const PREFIX = /^[A-Za-z0-9_]{1,64}$/;
const encoder = new TextEncoder();
const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/** The target in `[A-Za-z0-9_]`: every other byte of its UTF-8 as `_` + two hex digits. */
export function encodeTarget(target: string): string {
  let out = "";
  for (const byte of encoder.encode(target)) {
    const safe = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a);
    out += safe ? String.fromCharCode(byte) : `_${byte.toString(16).padStart(2, "0")}`;
  }
  return out;
}

export function decodeTarget(encoded: string): string {
  return decodeURIComponent(encoded.replace(/_([0-9a-f]{2})/g, "%$1"));
}

export function listedKeysPurgeLog(name: string, keys: ListedKeys, options: ListedKeysLogOptions): PurgeLog {
  const { retentionMs, now } = bounds(name, options);
  const { prefix, maxKeyBytes } = options;
  if (typeof prefix !== "string" || !PREFIX.test(prefix)) {
    throw new TypeError(`[postcache] [${name}] option "prefix" must be 1-64 letters, digits or "_" (got ${prefix})`);
  }

  /** The key for `target` purged `at`, and the value to store (the target itself when it is hashed). */
  async function keyFor(target: string, at: number): Promise<[key: string, value: string]> {
    const plain = `${prefix}${encodeTarget(target)}_z${at}`;
    if (encoder.encode(plain).length <= maxKeyBytes) return [plain, ""];
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(target)));
    return [`${prefix}_h${hex(digest)}_z${at}`, target];
  }

  /** Every record under the prefix: its key, encoded target (or `_h…`), and time. */
  async function records(): Promise<{ key: string; id: string; at: number }[]> {
    const out: { key: string; id: string; at: number }[] = [];
    for (const key of await keys.list(prefix)) {
      const split = key.lastIndexOf("_z");
      const at = Number(key.slice(split + 2));
      if (split <= prefix.length || !Number.isSafeInteger(at)) continue; // not ours
      out.push({ key, id: key.slice(prefix.length, split), at });
    }
    return out;
  }

  return {
    name,
    async record(target, at) {
      const [key, value] = await keyFor(target, at);
      await keys.put(key, value);
      // Tidy-up: past retention, or superseded by a later record of the same target. Failures here
      // leave only extra keys, which reads skip or fold in: not worth failing the purge for.
      const cutoff = now() - retentionMs;
      const all = await records();
      const latest = new Map<string, number>();
      for (const r of all) latest.set(r.id, Math.max(latest.get(r.id) ?? 0, r.at));
      const stale = all.filter((r) => r.at <= cutoff || r.at < (latest.get(r.id) ?? 0));
      await Promise.allSettled(stale.map((r) => keys.delete(r.key)));
    },
    async read(): Promise<PurgeState> {
      const cutoff = now() - retentionMs;
      const purges: Record<string, number> = {};
      const live = (await records()).filter((r) => r.at > cutoff);
      const hashed = live.filter((r) => r.id.startsWith("_h"));
      const names = await Promise.all(hashed.map((r) => keys.get(r.key)));
      const hashedTarget = new Map(hashed.map((r, i) => [r.key, names[i]]));
      for (const r of live) {
        const target = r.id.startsWith("_h") ? hashedTarget.get(r.key) : decodeTarget(r.id);
        if (typeof target !== "string" || target === "") continue; // a hashed record whose value is gone
        purges[target] = Math.max(purges[target] ?? 0, r.at);
      }
      return { floor: 0, purges };
    },
  };
}
