/**
 * Durable Object store: a strongly consistent shared tier for Cloudflare Workers. Every request to one
 * object runs on that one instance, in order, over its own SQLite database
 * (https://developers.cloudflare.com/durable-objects/), so a write is seen by the next read from any
 * PoP, and purges by tag are exact: the object keeps a tag index in the same database, updated in the
 * same transaction as the entry (`transactionSync`,
 * https://developers.cloudflare.com/durable-objects/api/storage-api/). The price is distance: each call
 * is a subrequest to wherever the object lives (tens of ms from far PoPs), where Workers KV answers from
 * a nearby cache but is eventually consistent (core/stores/cloudflare-kv.ts).
 *
 * Keys are spread over `shards` objects (`<name>:<n>`, by a hash of the key), since one object has a
 * soft limit of 1,000 requests per second (https://developers.cloudflare.com/durable-objects/platform/limits/);
 * a purge by tag, or `clear`, asks every shard. Same limits page: a SQLite string, BLOB or row is at
 * most 2 MB, so an entry whose key and encoded value exceed `maxEntryBytes` is not stored.
 *
 * Export the class from the Worker and bind it with a SQLite migration:
 * `export const CacheStoreObject = cacheStoreObject();`, wrangler.toml
 * `[[durable_objects.bindings]] name = "STORE", class_name = "CacheStoreObject"` and
 * `[[migrations]] tag = "v1", new_sqlite_classes = ["CacheStoreObject"]`.
 */
import { ALL_TAG } from "../tags.ts";
import type { CacheStore } from "../types.ts";
import { decodeEntry, encodeEntry } from "./codec.ts";

/** The part of a Durable Object namespace binding this store uses. */
export interface DurableObjectStoreNamespaceLike {
  idFromName(name: string): unknown;
  get(id: never): { fetch(input: string, init?: RequestInit): Promise<Response> };
}

/** What the object's SQL cursors give this store. */
interface SqlCursorLike {
  toArray(): Record<string, unknown>[];
}

/** The part of a SQLite-backed `DurableObjectState` the object uses. */
export interface SqlDurableObjectStateLike {
  storage: {
    sql: { exec(query: string, ...bindings: unknown[]): SqlCursorLike };
    transactionSync<T>(run: () => T): T;
  };
}

export interface DurableObjectStoreOptions {
  /** The binding of `cacheStoreObject()`'s class, e.g. `env.STORE`. */
  namespace: DurableObjectStoreNamespaceLike;
  /** Names the objects, `<name>:<shard>`. Default `postcache-store`. */
  name?: string;
  /** How many objects the keys are spread over. Every instance sharing the store must use the same
   * value (changing it is like changing `name`). Default 16. */
  shards?: number;
  /** Largest key plus encoded entry, in bytes; larger entries are not stored. Default and maximum
   * 2,000,000, the SQLite row limit read as decimal MB, less room for the row's other fields. */
  maxEntryBytes?: number;
  /** The clock, in ms since the epoch; sent with each call, so the object expires on the caller's. */
  now?: () => number;
}

const NAME = "durable-object";
const ORIGIN = "https://store.postcache.invalid";
const DEFAULT_SHARDS = 16;
const MAX_SHARDS = 1024;
/** "Maximum string, BLOB or table row size: 2 MB", with 1 KB kept for the expiry and the row itself. */
export const DURABLE_OBJECT_MAX_ENTRY_BYTES = 2_000_000 - 1000;
/** Expired entries a write removes, so the database stays near its live size. */
const PRUNE_BATCH = 16;

/**
 * @example
 * // worker.ts: export const CacheStoreObject = cacheStoreObject(); then, per isolate:
 * const store = tieredStore({ local: cacheApiStore(), shared: durableObjectStore({ namespace: env.STORE }) });
 */
export function durableObjectStore(options: DurableObjectStoreOptions): CacheStore {
  const {
    namespace,
    name = "postcache-store",
    shards = DEFAULT_SHARDS,
    maxEntryBytes = DURABLE_OBJECT_MAX_ENTRY_BYTES,
  } = options ?? {};
  if (typeof namespace?.idFromName !== "function" || typeof namespace.get !== "function") {
    throw new TypeError(`[postcache] [${NAME}] option "namespace" must be a Durable Object namespace binding`);
  }
  if (typeof name !== "string" || name === "")
    throw new TypeError(`[postcache] [${NAME}] option "name" must be a non-empty string`);
  if (!Number.isSafeInteger(shards) || shards < 1 || shards > MAX_SHARDS) {
    throw new TypeError(`[postcache] [${NAME}] option "shards" must be an integer from 1 to ${MAX_SHARDS} (got ${shards})`);
  }
  if (!Number.isSafeInteger(maxEntryBytes) || maxEntryBytes < 1 || maxEntryBytes > DURABLE_OBJECT_MAX_ENTRY_BYTES) {
    throw new TypeError(
      `[postcache] [${NAME}] option "maxEntryBytes" must be an integer up to ${DURABLE_OBJECT_MAX_ENTRY_BYTES}, the SQLite row limit (got ${maxEntryBytes})`,
    );
  }
  const now = options.now ?? Date.now;
  const encoder = new TextEncoder();
  const stub = (shard: number) => namespace.get(namespace.idFromName(`${name}:${shard}`) as never);
  const shardOf = async (key: string) =>
    new DataView(await crypto.subtle.digest("SHA-256", encoder.encode(key))).getUint32(0) % shards;

  async function call(shard: number, op: string, params: Record<string, string | string[]>, body?: Uint8Array) {
    const query = new URLSearchParams({ now: String(now()) });
    for (const [k, v] of Object.entries(params)) for (const value of [v].flat()) query.append(k, value);
    const res = await stub(shard).fetch(`${ORIGIN}/${op}?${query}`, { method: "POST", body: (body ?? null) as BodyInit | null });
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    if (!res.ok) throw new Error(`[postcache] [${NAME}] ${op} answered ${res.status}: ${await res.text()}`);
    return res;
  }
  const removed = async (res: Response | undefined) => Number(((await res?.json()) as { removed?: number })?.removed ?? 0);
  const everyShard = async (op: string, params: Record<string, string>) => {
    const counts = await Promise.all(Array.from({ length: shards }, (_, i) => call(i, op, params).then(removed)));
    return counts.reduce((a, b) => a + b, 0);
  };

  return {
    name: NAME,
    async get(key) {
      const res = await call(await shardOf(key), "get", { key });
      return res ? decodeEntry(new Uint8Array(await res.arrayBuffer()), NAME) : undefined;
    },
    async set(key, entry, ttlSeconds) {
      const encoded = ttlSeconds > 0 ? encodeEntry(entry) : undefined;
      const shard = await shardOf(key);
      // A TTL of zero, or an entry over the limit, stores nothing; the old entry goes, as `set` overwrites.
      if (!encoded || encoded.byteLength + encoder.encode(key).byteLength > maxEntryBytes) {
        await call(shard, "delete", { key });
        return;
      }
      const tags = [...new Set(entry.tags ?? [])].filter((tag) => tag !== ALL_TAG);
      await call(shard, "set", { key, ms: String(Math.ceil(ttlSeconds * 1000)), tag: tags }, encoded);
    },
    async delete(key) {
      return (await removed(await call(await shardOf(key), "delete", { key }))) > 0;
    },
    // ALL_TAG is not indexed (every entry carries it): a purge of it is a clear.
    deleteTag: (tag) => everyShard(tag === ALL_TAG ? "clear" : "deleteTag", { tag }),
    async clear() {
      await everyShard("clear", {});
    },
  };
}

const SCHEMA = [
  "CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, value BLOB NOT NULL, expires_at REAL NOT NULL)",
  "CREATE INDEX IF NOT EXISTS entries_by_expiry ON entries (expires_at)",
  "CREATE TABLE IF NOT EXISTS tags (tag TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (tag, key))",
  "CREATE INDEX IF NOT EXISTS tags_by_key ON tags (key)",
];

/** The Durable Object class that holds one shard of the store, in its SQLite database. */
export function cacheStoreObject() {
  return class CacheStoreObject {
    readonly sql: SqlDurableObjectStateLike["storage"]["sql"];
    constructor(readonly state: SqlDurableObjectStateLike) {
      this.sql = state.storage.sql;
      for (const statement of SCHEMA) this.sql.exec(statement);
    }

    /** Removes `key`'s entry and its tag rows; resolves 1 if there was an entry. */
    drop(key: string): number {
      const held = this.sql.exec("SELECT 1 FROM entries WHERE key = ?", key).toArray().length;
      this.sql.exec("DELETE FROM tags WHERE key = ?", key);
      this.sql.exec("DELETE FROM entries WHERE key = ?", key);
      return held;
    }

    async fetch(request: Request): Promise<Response> {
      const url = new URL(request.url);
      const op = url.pathname.slice(1);
      const q = url.searchParams;
      const now = Number(q.get("now"));
      const key = q.get("key") ?? "";
      if (request.method !== "POST" || !Number.isFinite(now)) return new Response("POST with now (ms) required", { status: 400 });
      const { storage } = this.state;
      if (op === "get") {
        const [row] = this.sql.exec("SELECT value, expires_at FROM entries WHERE key = ?", key).toArray();
        if (!row || !((row.expires_at as number) > now)) return new Response(null, { status: 404 });
        return new Response(row.value as ArrayBuffer);
      }
      if (op === "set") {
        const ms = Number(q.get("ms"));
        if (!(ms > 0)) return new Response("ms (> 0) required", { status: 400 });
        const value = await request.arrayBuffer();
        const tags = q.getAll("tag");
        storage.transactionSync(() => {
          this.drop(key);
          this.sql.exec("INSERT INTO entries (key, value, expires_at) VALUES (?, ?, ?)", key, value, now + ms);
          for (const tag of tags) this.sql.exec("INSERT OR IGNORE INTO tags (tag, key) VALUES (?, ?)", tag, key);
          const expired = this.sql.exec("SELECT key FROM entries WHERE expires_at <= ? LIMIT ?", now, PRUNE_BATCH).toArray();
          for (const row of expired) this.drop(row.key as string);
        });
        return Response.json({});
      }
      if (op === "delete") return Response.json({ removed: storage.transactionSync(() => this.drop(key)) });
      if (op === "deleteTag") {
        const tag = q.get("tag") ?? "";
        const removed = storage.transactionSync(() => {
          const keys = this.sql.exec("SELECT key FROM tags WHERE tag = ?", tag).toArray();
          return keys.reduce((n, row) => n + this.drop(row.key as string), 0);
        });
        return Response.json({ removed });
      }
      if (op === "clear") {
        const removed = storage.transactionSync(() => {
          const [count] = this.sql.exec("SELECT COUNT(*) AS n FROM entries").toArray();
          this.sql.exec("DELETE FROM tags");
          this.sql.exec("DELETE FROM entries");
          return Number(count?.n ?? 0);
        });
        return Response.json({ removed });
      }
      return new Response(null, { status: 400 });
    }
  };
}
