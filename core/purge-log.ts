/**
 * Edge-wide invalidation (issue 13), `postcache/purge-log`, an entry of its own so bundles without it
 * carry none of its code. On Cache-API platforms a purge reaches only the data centre that received it;
 * with `withPurgeLog(store, log)` every purge is also written to one shared purge log, and every isolate
 * checks its hits against a local memo of that log, refreshed at most once per `purgeCheckMs`: one log
 * read per isolate per interval, however many hits it serves. An entry generated before a matching purge
 * (its `storedAt`, which already counts the origin's `Age`) is a miss, and is deleted locally.
 *
 * The log is a "latest purge time per target" map, targets `key:<key>` and `tag:<tag>` (a URI purge is
 * a purge of its URI tag, "purge all" of ALL_TAG, which every entry carries: core/tags.ts), plus a
 * `floor`: entries generated at or before it count as purged. A log bounds itself by dropping targets
 * older than `retentionMs` (past it no entry stored before them can still be served) and, past
 * `maxTargets`, the oldest ones, raising the floor to the newest time dropped so that dropping never
 * lets a purged entry back.
 */
import { ALL_TAG } from "./tags.ts";
import { bounded } from "./timeouts.ts";
import type { CacheEntry, CacheStore } from "./types.ts";

/** What the log knows: the latest purge time (ms since the epoch) per target, and a floor. */
export interface PurgeState {
  /** Entries generated at or before this time count as purged (raised when targets are dropped for room). */
  floor: number;
  /** `key:<key>` or `tag:<tag>` → the latest purge time of that target, in ms since the epoch. */
  purges: Record<string, number>;
}

/** One shared purge log. Both calls may throw or reject; `read` is one store read. */
export interface PurgeLog {
  /** A short name used in error messages, e.g. `memory`, `redis`, `deno-kv`. */
  readonly name: string;
  /** Record that `target` was purged at `at`; keeps the later time when it already holds one. */
  record(target: string, at: number): Promise<void>;
  /** Everything the log holds, in one read. */
  read(): Promise<PurgeState>;
}

/** How long a log keeps a target by default: a day. Entries may live longer (ttl + stale windows); say so. */
export const DEFAULT_PURGE_RETENTION_MS = 24 * 60 * 60 * 1000;
/** How many targets a log keeps by default before dropping the oldest (and raising the floor). */
export const DEFAULT_PURGE_MAX_TARGETS = 10_000;

export const keyTarget = (key: string): string => `key:${key}`;
export const tagTarget = (tag: string): string => `tag:${tag}`;

export interface PurgeLogOptions {
  /**
   * How often, at most, an isolate reads the log, in ms. Default 1000: a read costs one store round
   * trip (0.1-0.5 ms for Redis on the LAN, a few ms for edge KV; bench/pops.ts), so one a second is
   * noise next to the hits it guards, and a purge reaches every isolate within about a second plus
   * the log's own propagation (docs/purge.md).
   */
  purgeCheckMs?: number;
  /**
   * How long after its last good read an isolate keeps serving from its memo while the log cannot be
   * read, in ms; past it, every hit is a miss until a read succeeds. Default 2 × purgeCheckMs.
   */
  graceMs?: number;
  /** The clock, in ms since the epoch. Default `Date.now`. */
  now?: () => number;
  /** Called when the log fails (read or record); the store call itself carries on. */
  onError?: (error: unknown, during: "purge-log.read" | "purge-log.record") => void;
}

export const DEFAULT_PURGE_CHECK_MS = 1000;

/** A purge-log-checking CacheStore, with the state of its memo for tests and stats. */
export interface PurgeLogStore extends CacheStore {
  deleteTag(tag: string, hint?: { origin: string }): Promise<number>;
  clear(): Promise<void>;
  /** When the memo was last read successfully (ms since the epoch), 0 before the first read. */
  readonly lastReadAt: number;
}

/**
 * `store`, with purges recorded in `log` (and still applied to `store`) and hits checked against the
 * log. Every store gains purge by tag and "purge all" this way: an entry whose tag was purged is a miss.
 *
 * @example
 * import { withPurgeLog } from "postcache/purge-log";
 * createPostcache({ store: withPurgeLog(cacheApiStore(), durableObjectPurgeLog(env.PURGES)) });
 */
export function withPurgeLog(store: CacheStore, log: PurgeLog, options: PurgeLogOptions = {}): PurgeLogStore {
  const purgeCheckMs = options.purgeCheckMs ?? DEFAULT_PURGE_CHECK_MS;
  const graceMs = options.graceMs ?? 2 * purgeCheckMs;
  for (const [name, value] of [
    ["purgeCheckMs", purgeCheckMs],
    ["graceMs", graceMs],
  ] as const) {
    if (!Number.isFinite(value) || value < 0) {
      throw new TypeError(`[postcache] [purge-log] option "${name}" must be a number of ms, 0 or more (got ${value})`);
    }
  }
  const now = options.now ?? Date.now;
  const onError = options.onError ?? (() => {});
  const memo = isolateMemo(log, purgeCheckMs, graceMs, now, onError);

  /** Records `targets` and runs the local purge side by side: the local one happens even when the log
   * fails, and then the caller hears the purge did not reach everywhere (admin → 503), and may retry. */
  async function purge<T>(targets: string[], local: () => Promise<T>): Promise<T> {
    const at = now();
    const [logged, done] = await Promise.allSettled([Promise.all(targets.map((t) => log.record(t, at))), local()]);
    if (done.status === "rejected") throw done.reason;
    if (logged.status === "rejected") {
      onError(logged.reason, "purge-log.record");
      throw logged.reason;
    }
    memo.learn(targets, at);
    return done.value;
  }

  return {
    name: `${store.name}+${log.name}`,
    get lastReadAt() {
      return memo.lastReadAt;
    },
    async get(key) {
      const entry = await store.get(key);
      if (!entry) return undefined;
      // The common case, a memo read within purgeCheckMs, costs no await.
      const state = memo.fresh() ?? (await memo.current());
      // Generated after the newest purge the memo knows of: nothing can cover it, no lookups needed.
      if (state && (entry.storedAt > memo.newest || !purged(state, key, entry))) return entry;
      // Purged elsewhere (or the log unreadable past its grace): drop the local copy, answer a miss.
      if (state) store.delete(key).catch(() => {});
      return undefined;
    },
    set: (key, entry, ttlSeconds) => store.set(key, entry, ttlSeconds),
    delete: (key) => purge([keyTarget(key)], () => store.delete(key)),
    deleteTag: (tag, hint) =>
      purge([tagTarget(tag)], async () => {
        if (tag === ALL_TAG && store.clear) return store.clear().then(() => -1);
        return store.deleteTag ? store.deleteTag(tag, hint) : -1;
      }),
    clear: () => purge([tagTarget(ALL_TAG)], async () => store.clear?.()),
  };
}

/** Whether `entry` under `key` was generated at or before a purge of its key, one of its tags, or the floor. */
export function purged(state: PurgeState, key: string, entry: CacheEntry): boolean {
  let latest = state.floor;
  latest = Math.max(latest, state.purges[keyTarget(key)] ?? 0);
  for (const tag of entry.tags ?? []) latest = Math.max(latest, state.purges[tagTarget(tag)] ?? 0);
  // A purge of everything also covers entries written before tags existed (no ALL_TAG among them).
  latest = Math.max(latest, state.purges[tagTarget(ALL_TAG)] ?? 0);
  return entry.storedAt <= latest;
}

interface Memo {
  readonly lastReadAt: number;
  /** The latest purge time the memo holds (its floor included): entries generated after it are not purged. */
  readonly newest: number;
  /** The memo, when it was read within purgeCheckMs (no read due). */
  fresh(): PurgeState | undefined;
  /** The state to check against, or undefined when the log has been unreadable past the grace. */
  current(): Promise<PurgeState | undefined>;
  /** Fold in this isolate's own purges at once, without waiting for the next read. */
  learn(targets: string[], at: number): void;
}

/** The isolate-local copy of the log: at most one read in flight, at most one started per purgeCheckMs. */
function isolateMemo(
  log: PurgeLog,
  purgeCheckMs: number,
  graceMs: number,
  now: () => number,
  onError: NonNullable<PurgeLogOptions["onError"]>,
): Memo {
  let state: PurgeState | undefined;
  const readTimeoutMs = Math.max(purgeCheckMs, 1000);
  let lastReadAt = 0;
  let newest = 0;
  let lastTryAt = Number.NEGATIVE_INFINITY;
  let reading: Promise<void> | undefined;
  /** Own purges not yet seen in a read (a log may be eventually consistent); dropped once a read has them. */
  const learned: Record<string, number> = {};

  function refresh(): Promise<void> {
    lastTryAt = now();
    // Bounded: a read that hangs would otherwise hold every later check (the grace then runs out).
    reading ??= bounded(log.read(), readTimeoutMs, `${log.name}.read`)
      .then((read) => {
        state = { floor: read.floor, purges: { ...read.purges } };
        for (const [target, at] of Object.entries(learned)) {
          if (Math.max(state.floor, state.purges[target] ?? 0) < at) state.purges[target] = at;
          else delete learned[target];
        }
        newest = state.floor;
        for (const at of Object.values(state.purges)) if (at > newest) newest = at;
        lastReadAt = now();
      })
      .catch((error) => onError(error, "purge-log.read"))
      .finally(() => {
        reading = undefined;
      });
    return reading;
  }
  return {
    get lastReadAt() {
      return lastReadAt;
    },
    get newest() {
      return newest;
    },
    fresh() {
      return state && !reading && now() - lastTryAt < purgeCheckMs && lastReadAt >= lastTryAt ? state : undefined;
    },
    async current() {
      if (now() - lastTryAt >= purgeCheckMs) await refresh();
      else if (reading) await reading;
      if (!state || now() - lastReadAt > purgeCheckMs + graceMs) return undefined;
      return state;
    },
    learn(targets, at) {
      for (const target of targets) {
        learned[target] = Math.max(learned[target] ?? 0, at);
        newest = Math.max(newest, at);
        if (state) state.purges[target] = Math.max(state.purges[target] ?? 0, at);
      }
    },
  };
}
