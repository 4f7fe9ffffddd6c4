/**
 * Live numbers, per engine (per process or isolate: edge platforms give no shared memory). Read them
 * from the stats endpoint or `postcache.stats()`.
 */
import type { CacheOutcome } from "./types.ts";

export interface StatsSnapshot {
  /** ISO time the counters started. */
  since: string;
  requests: number;
  hits: number;
  misses: number;
  stale: number;
  bypasses: number;
  /** Bypasses by reason (`credentials`, `mutation`, ...). */
  bypassReasons: Record<string, number>;
  /** Answers stored (counted once storing has ended). */
  stored: number;
  /** Misses answered by waiting on an identical request in flight. */
  collapsed: number;
  /** Requests answered without their own origin call: hits, stale answers, collapsed misses. */
  originCallsSaved: number;
  /** Response body bytes served from the cache instead of the origin. */
  bytesSaved: number;
  /** hits / (hits + misses + stale), or 0. */
  hitRatio: number;
}

export interface Stats {
  record(outcome: CacheOutcome, detail: string | undefined, collapsed: boolean, bytesFromCache: number, stored: boolean): void;
  snapshot(): StatsSnapshot;
}

export function createStats(now: () => number): Stats {
  const since = new Date(now()).toISOString();
  const counts = { requests: 0, hits: 0, misses: 0, stale: 0, bypasses: 0, stored: 0, collapsed: 0, bytesSaved: 0 };
  const bypassReasons: Record<string, number> = {};
  return {
    record(outcome, detail, collapsed, bytesFromCache, stored) {
      counts.requests++;
      if (stored) counts.stored++;
      counts.bytesSaved += bytesFromCache;
      if (collapsed) counts.collapsed++;
      if (outcome === "HIT") counts.hits++;
      else if (outcome === "STALE") counts.stale++;
      else if (outcome === "MISS") counts.misses++;
      else {
        counts.bypasses++;
        const reason = detail ?? "unknown";
        bypassReasons[reason] = (bypassReasons[reason] ?? 0) + 1;
      }
    },
    snapshot() {
      const served = counts.hits + counts.misses + counts.stale;
      return {
        since,
        ...counts,
        bypassReasons: { ...bypassReasons },
        originCallsSaved: counts.hits + counts.stale + counts.collapsed,
        hitRatio: served === 0 ? 0 : Number((counts.hits / served).toFixed(4)),
      };
    },
  };
}
