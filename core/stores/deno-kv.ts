/**
 * Deno KV store: a shared tier for Deno (Deno Deploy's global KV, or one SQLite file that several
 * `deno serve` processes on a host open), behind the process's own cache in
 * `tieredStore({ local: cacheApiStore(), shared: denoKvStore({ kv: await Deno.openKv() }) })`. The KV
 * handle is passed in, so core names no Deno global.
 *
 * Limits (denokv's, https://docs.rs/crate/denokv_proto/0.8.4/source/limits.rs): a value is at most
 * 65,536 bytes, a key 2,048, an atomic commit at most 1,000 mutations and 819,200 bytes, a `getMany` 10
 * keys. So the encoded entry (core/stores/codec.ts) is cut into parts of `PART_BYTES`:
 * - `[...prefix, "entry", <SHA-256 hex of the key>]` holds the head, `{ v, id, parts, bytes, expiresAt }`,
 *   and the entry itself when it fits in one part (the common case: one read, one write);
 * - `[...prefix, "part", <hex>, <id>, <i>]` holds part `i` of a larger one; `id` is random per write.
 * Parts are written first (in commits under the size limit), then the head in one atomic commit. A head
 * names only its own write's parts, so a reader never mixes two writes: it finds all of them, or a part
 * gone (an overwrite or a delete meanwhile cleaned it up), which is a miss. Parts of an overwritten
 * entry are deleted after the new head lands; any a race leaves behind expire with it (`expireIn`).
 * Entries over `maxEntryBytes` are not stored.
 *
 * Expiry: every key is set with `expireIn`, but that is only "the earliest time after which the key can
 * be deleted ... If you need to strictly enforce an expiration time ... add it as a field of your value
 * and do a check after read" (https://docs.deno.com/deploy/kv/key_expiration/): the head carries
 * `expiresAt`, checked against `now()` on every `get`.
 *
 * Consistency: reads are strong (the default) on Deno Deploy
 * (https://docs.deno.com/kv/manual/on_deploy); a local file is consistent at once. Tags: no
 * `deleteTag`, like the Workers KV store; purge by tag goes through `withPurgeLog` (docs/purge.md).
 */
import { toHex } from "../key.ts";
import type { CacheStore } from "../types.ts";
import { decodeEntry, encodeEntry } from "./codec.ts";

type KvKey = readonly (string | number)[];
/** The part of `Deno.Kv` this store uses. */
export interface DenoKvLike {
  get(key: KvKey): Promise<{ value: unknown; versionstamp: string | null }>;
  getMany(keys: KvKey[]): Promise<{ value: unknown; versionstamp: string | null }[]>;
  atomic(): {
    set(key: KvKey, value: unknown, options?: { expireIn?: number }): unknown;
    delete(key: KvKey): unknown;
    commit(): Promise<{ ok: boolean }>;
  };
}

export interface DenoKvStoreOptions {
  /** The KV handle: `await Deno.openKv()` (on Deno Deploy, or a file path locally). */
  kv: DenoKvLike;
  /** The key prefix. Default `["postcache", "store"]`. */
  prefix?: KvKey;
  /** Largest encoded entry in bytes (body, headers, metadata); larger entries are not stored.
   * Default 8 MiB (134 parts). */
  maxEntryBytes?: number;
  /** The clock, in ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

interface Head {
  v: number;
  /** The write this head belongs to; its parts carry it. */
  id: string;
  parts: number;
  bytes: number;
  expiresAt: number;
  /** The encoded entry, when it fits in the head. */
  data?: Uint8Array;
}

const NAME = "deno-kv";
const FORMAT = 1;
export const DEFAULT_DENO_KV_MAX_ENTRY_BYTES = 8 * 1024 * 1024;
/** Under the 65,536-byte value limit, with room for the head's other fields and the serialisation. */
export const DENO_KV_PART_BYTES = 60 * 1024;
const PART_BYTES = DENO_KV_PART_BYTES;
/** Parts per commit: 12 × 60 KiB = 720 KiB, under the 819,200-byte commit limit. */
const PARTS_PER_COMMIT = 12;
/** Keys per `getMany`. */
const KEYS_PER_READ = 10;

/**
 * @example
 * // main.ts, on Deno Deploy or with `deno serve --unstable-kv`:
 * const kv = await Deno.openKv();
 * const store = tieredStore({ local: cacheApiStore({ cache: () => caches.open("postcache") }), shared: denoKvStore({ kv }) });
 */
export function denoKvStore(options: DenoKvStoreOptions): CacheStore {
  const { kv, prefix = ["postcache", "store"], maxEntryBytes = DEFAULT_DENO_KV_MAX_ENTRY_BYTES } = options ?? {};
  if (!kv || typeof kv.get !== "function" || typeof kv.getMany !== "function" || typeof kv.atomic !== "function") {
    throw new TypeError(`[postcache] [${NAME}] option "kv" must be a KV handle (what openKv() resolves to)`);
  }
  if (!Array.isArray(prefix) || !prefix.every((part) => typeof part === "string" || typeof part === "number")) {
    throw new TypeError(`[postcache] [${NAME}] option "prefix" must be an array of strings and numbers (a KV key)`);
  }
  if (!Number.isSafeInteger(maxEntryBytes) || maxEntryBytes < 1) {
    throw new TypeError(`[postcache] [${NAME}] option "maxEntryBytes" must be a positive integer (got ${maxEntryBytes})`);
  }
  const now = options.now ?? Date.now;
  const hash = async (key: string): Promise<string> =>
    toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key))));
  const headKey = (hex: string): KvKey => [...prefix, "entry", hex];
  const partKeys = (hex: string, head: Head): KvKey[] =>
    Array.from({ length: head.data ? 0 : head.parts }, (_, i) => [...prefix, "part", hex, head.id, i]);

  /** Deletes `keys` in commits of up to 1,000 mutations; best effort, their `expireIn` bounds them anyway. */
  async function deleteAll(keys: KvKey[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const op = kv.atomic();
      for (const key of keys.slice(i, i + 1000)) op.delete(key);
      await op.commit();
    }
  }

  async function readHead(hex: string): Promise<Head | undefined> {
    const { value } = await kv.get(headKey(hex));
    if (value === null || value === undefined) return undefined;
    const head = value as Head;
    const ok =
      typeof head === "object" &&
      head.v === FORMAT &&
      typeof head.id === "string" &&
      Number.isSafeInteger(head.parts) &&
      Number.isSafeInteger(head.bytes) &&
      Number.isFinite(head.expiresAt) &&
      (head.data === undefined || head.data instanceof Uint8Array);
    if (!ok) throw new TypeError(`[postcache] [${NAME}] stored value is not a postcache entry`);
    return head;
  }

  const store: CacheStore = {
    name: NAME,
    async get(key) {
      const hex = await hash(key);
      const head = await readHead(hex);
      if (!head || !(head.expiresAt > now())) return undefined;
      if (head.data) return decodeEntry(head.data, NAME);
      const keys = partKeys(hex, head);
      const bytes = new Uint8Array(head.bytes);
      let offset = 0;
      for (let i = 0; i < keys.length; i += KEYS_PER_READ) {
        for (const { value } of await kv.getMany(keys.slice(i, i + KEYS_PER_READ))) {
          // A part gone: the entry was overwritten or deleted since the head was read. A miss.
          if (!(value instanceof Uint8Array) || offset + value.byteLength > bytes.byteLength) return undefined;
          bytes.set(value, offset);
          offset += value.byteLength;
        }
      }
      if (offset !== bytes.byteLength) return undefined;
      return decodeEntry(bytes, NAME);
    },
    async set(key, entry, ttlSeconds) {
      const hex = await hash(key);
      const encoded = ttlSeconds > 0 ? encodeEntry(entry) : undefined;
      // A TTL of zero, or an entry over the limit, stores nothing; the old entry goes, as `set` overwrites.
      if (!encoded || encoded.byteLength > maxEntryBytes) {
        await store.delete(key);
        return;
      }
      const expireIn = Math.ceil(ttlSeconds * 1000);
      const old = await readHead(hex).catch(() => undefined);
      const head: Head = {
        v: FORMAT,
        id: crypto.randomUUID(),
        parts: Math.ceil(encoded.byteLength / PART_BYTES),
        bytes: encoded.byteLength,
        expiresAt: now() + expireIn,
      };
      if (encoded.byteLength <= PART_BYTES) head.data = encoded;
      const keys = partKeys(hex, head);
      for (let i = 0; i < keys.length; i += PARTS_PER_COMMIT) {
        const op = kv.atomic();
        keys.slice(i, i + PARTS_PER_COMMIT).forEach((partKey, j) => {
          const at = (i + j) * PART_BYTES;
          // A copy, not a view: a view could be serialised with the whole buffer behind it.
          op.set(partKey, encoded.slice(at, at + PART_BYTES), { expireIn });
        });
        if (!(await op.commit()).ok) throw new Error(`[postcache] [${NAME}] writing an entry's parts failed`);
      }
      const op = kv.atomic();
      op.set(headKey(hex), head, { expireIn });
      if (!(await op.commit()).ok) throw new Error(`[postcache] [${NAME}] writing an entry failed`);
      if (old && old.id !== head.id) await deleteAll(partKeys(hex, old));
    },
    async delete(key) {
      const hex = await hash(key);
      const head = await readHead(hex).catch(() => undefined);
      const op = kv.atomic();
      op.delete(headKey(hex));
      await op.commit();
      if (!head) return false;
      await deleteAll(partKeys(hex, head));
      return true;
    },
  };
  return store;
}
