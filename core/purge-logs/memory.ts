/**
 * In-process purge log: for tests, and for several stores in one process. Bounded like every log:
 * targets older than `retentionMs` go, and past `maxTargets` the oldest go with the floor raised to them.
 */
import { DEFAULT_PURGE_MAX_TARGETS, DEFAULT_PURGE_RETENTION_MS, type PurgeLog, type PurgeState } from "../purge-log.ts";

export interface PurgeLogBounds {
  /** How long a target is kept, in ms. Set it to at least the longest ttl + stale window stored. Default a day. */
  retentionMs?: number;
  /** Most targets kept; past it the oldest are dropped and the floor raised. Default 10,000. */
  maxTargets?: number;
  /** The clock, in ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

export interface MemoryPurgeLog extends PurgeLog {
  /** Targets currently held. */
  readonly size: number;
}

export function memoryPurgeLog(options: PurgeLogBounds = {}): MemoryPurgeLog {
  const { retentionMs, maxTargets, now } = bounds("memory", options);
  const purges = new Map<string, number>();
  let floor = 0;
  return {
    name: "memory",
    get size() {
      return purges.size;
    },
    async record(target, at) {
      const before = purges.get(target);
      if (before !== undefined && before >= at) return;
      purges.delete(target); // re-inserted last: the Map stays ordered oldest purge first
      purges.set(target, at);
      const cutoff = now() - retentionMs;
      for (const [t, when] of purges) {
        if (when > cutoff && purges.size <= maxTargets) break;
        purges.delete(t);
        if (when > cutoff) floor = Math.max(floor, when);
      }
    },
    async read(): Promise<PurgeState> {
      const cutoff = now() - retentionMs;
      const out: Record<string, number> = {};
      for (const [t, when] of purges) if (when > cutoff) out[t] = when;
      return { floor, purges: out };
    },
  };
}

/** The options every log shares, checked, with their defaults. */
export function bounds(name: string, options: PurgeLogBounds): Required<PurgeLogBounds> {
  const retentionMs = options.retentionMs ?? DEFAULT_PURGE_RETENTION_MS;
  const maxTargets = options.maxTargets ?? DEFAULT_PURGE_MAX_TARGETS;
  if (!Number.isSafeInteger(retentionMs) || retentionMs < 1) {
    throw new TypeError(`[postcache] [${name}] option "retentionMs" must be a positive integer (got ${retentionMs})`);
  }
  if (!Number.isSafeInteger(maxTargets) || maxTargets < 1) {
    throw new TypeError(`[postcache] [${name}] option "maxTargets" must be a positive integer (got ${maxTargets})`);
  }
  return { retentionMs, maxTargets, now: options.now ?? Date.now };
}
