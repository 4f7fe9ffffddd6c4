/**
 * Prometheus metrics for the servers (`postcache/metrics`), on prom-client, the Node ecosystem's client:
 * it writes the text exposition format and keeps the histograms. Server-side only: no edge bundle imports
 * this entry, so it adds nothing to them.
 *
 *   const metrics = prometheusMetrics();
 *   createPostcache({ onResult: metrics.onResult, onError: metrics.onError });
 *   // GET /.postcache/metrics → await metrics.respond()
 *
 * Metrics (all prefixed `postcache_`):
 * - requests_total{outcome,detail}: POST/QUERY requests by outcome (HIT, MISS, STALE, BYPASS) and detail
 * - origin_requests_total: requests that called the origin themselves (not hits, not collapsed waiters)
 * - collapsed_total: misses answered by an identical request in flight
 * - stored_total: answers stored
 * - cache_bytes_total: body bytes served from the cache
 * - store_errors_total{operation}, store_timeouts_total{operation}: failed and timed-out store calls
 * - in_flight_requests: requests being answered (set by the server)
 * - lookup_seconds, origin_seconds, request_seconds: histograms of the store lookup, the origin's
 *   response headers, and the whole answer up to its headers
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { ResultInfo } from "../core/types.ts";

export interface MetricsOptions {
  /** Where to register. Default: a registry of its own. */
  registry?: Registry | undefined;
  /** Also export the process's CPU, memory, event loop and GC metrics (prom-client's defaults). Default true. */
  processMetrics?: boolean | undefined;
}

export interface PostcacheMetrics {
  readonly registry: Registry;
  /** Pass as (or call from) the engine's `onResult`. */
  onResult(info: ResultInfo): void;
  /** Pass as (or call from) the engine's `onError`. */
  onError(error: unknown, where: string): void;
  /** Sets the in-flight gauge. */
  inFlight(count: number): void;
  /** The exposition, as an answer to `GET /.postcache/metrics`. */
  /** Sets the in-memory store's gauges (the `postcache` command does before each scrape). */
  storeSize(bytes: number, entries: number, maxBytes: number): void;
  respond(): Promise<Response>;
}

/** Seconds: from a sub-millisecond memory hit to a slow origin. */
const BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function prometheusMetrics(options: MetricsOptions = {}): PostcacheMetrics {
  const registry = options.registry ?? new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: "postcache_process_" });
  const registers = [registry];
  const requests = new Counter({
    name: "postcache_requests_total",
    help: "POST and QUERY requests by outcome (HIT, MISS, STALE, BYPASS) and detail",
    labelNames: ["outcome", "detail"] as const,
    registers,
  });
  const originRequests = new Counter({
    name: "postcache_origin_requests_total",
    help: "Requests that called the origin",
    registers,
  });
  const collapsed = new Counter({
    name: "postcache_collapsed_total",
    help: "Misses answered by an identical request in flight",
    registers,
  });
  const stored = new Counter({ name: "postcache_stored_total", help: "Answers stored", registers });
  const bytes = new Counter({ name: "postcache_cache_bytes_total", help: "Body bytes served from the cache", registers });
  const storeErrors = new Counter({
    name: "postcache_store_errors_total",
    help: "Store calls that failed (the request went on without the store)",
    labelNames: ["operation"] as const,
    registers,
  });
  const storeTimeouts = new Counter({
    name: "postcache_store_timeouts_total",
    help: "Store calls that did not settle within storeTimeoutMs",
    labelNames: ["operation"] as const,
    registers,
  });
  const inFlight = new Gauge({ name: "postcache_in_flight_requests", help: "Requests being answered", registers });
  const storeBytes = new Gauge({ name: "postcache_store_bytes", help: "Bytes held by the in-memory store", registers });
  const storeEntries = new Gauge({ name: "postcache_store_entries", help: "Entries held by the in-memory store", registers });
  const storeMax = new Gauge({ name: "postcache_store_max_bytes", help: "The in-memory store's cap", registers });
  const histogram = (name: string, help: string) => new Histogram({ name, help, buckets: BUCKETS, registers });
  const lookup = histogram("postcache_lookup_seconds", "Store lookup time");
  const origin = histogram("postcache_origin_seconds", "Time to the origin's response headers");
  const total = histogram("postcache_request_seconds", "Time to the answer's headers");

  return {
    registry,
    onResult(info) {
      requests.inc({ outcome: info.outcome, detail: info.detail ?? "" });
      if (info.originMs !== undefined) {
        originRequests.inc();
        origin.observe(info.originMs / 1000);
      }
      if (info.lookupMs !== undefined) lookup.observe(info.lookupMs / 1000);
      if (info.collapsed) collapsed.inc();
      if (info.stored) stored.inc();
      if (info.bytesFromCache > 0) bytes.inc(info.bytesFromCache);
      total.observe(info.elapsedMs / 1000);
    },
    onError(error, where) {
      if (!where.startsWith("store.")) return;
      const operation = where.slice("store.".length);
      if ((error as Error)?.name === "StoreTimeout") storeTimeouts.inc({ operation });
      else storeErrors.inc({ operation });
    },
    inFlight(count) {
      inFlight.set(count);
    },
    storeSize(bytes, entries, maxBytes) {
      storeBytes.set(bytes);
      storeEntries.set(entries);
      storeMax.set(maxBytes);
    },
    async respond() {
      return new Response(await registry.metrics(), {
        headers: { "content-type": registry.contentType, "cache-control": "no-store" },
      });
    },
  };
}
