/**
 * Edge-wide invalidation, measured (issue 13; docs/purge.md):
 *  1. Propagation: three PoPs share a purge log; N times, fill every PoP, purge a tag at one, and time
 *     until each PoP answers from the origin. Reports median, p95 and max over every (purge, PoP) pair.
 *     Twice: postcache command processes (Bun, each its own memory store) on a Redis log, and `deno
 *     serve` processes of the Deno adapter (each its own Cache API) on one Deno KV file.
 *  2. CPU per hit, with vs without the purge check: one engine in this process answering hits from a
 *     memory store, bare and wrapped by withPurgeLog over the same Redis log, in alternating rounds
 *     (side by side), CPU time (process.cpuUsage) per hit, medians of the rounds, and their ratio.
 *  3. Hit ratio across PoPs, with and without a shared tier (tieredStore over the same Redis): 200
 *     distinct bodies, each asked 3 times, every request at a random PoP, in a shuffled order.
 *
 * Usage: bun bench/pops.ts [purges=20] [purgeCheckMs=1000] [parts=cpu,propagation,tier]
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { RedisClient } from "bun";
import { bunRedis } from "../adapters/bun-redis.ts";
import { createPostcache, memoryStore } from "../core/index.ts";
import { redisPurgeLog, withPurgeLog } from "../core/purge-log-entry.ts";
import type { CacheStore } from "../core/types.ts";
import { type Pops, startDenoPops, startPops, timeToMiss } from "../test/e2e/pops.ts";
import { startRedis } from "../test/stores/redis-server.ts";
import { median } from "./stats.ts";

const PURGES = Number(process.argv[2] ?? 20);
const PURGE_CHECK_MS = Number(process.argv[3] ?? 1000);
const PARTS = new Set((process.argv[4] ?? "cpu,propagation,tier").split(","));

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function propagation(label: string, start: typeof startPops): Promise<void> {
  mkdirSync(".scratch", { recursive: true });
  const scratch = mkdtempSync(join(resolve(".scratch"), "bench-pops-"));
  const pops: Pops = await start(3, PURGE_CHECK_MS, scratch);
  const times: number[] = [];
  const local: number[] = [];
  try {
    for (let n = 0; n < PURGES; n++) {
      // Fill (bounded): a Cache API write ends a little after its answer.
      for (let i = 0; i < 3; i++)
        for (let k = 0; k < 40 && !/;\s*hit/.test((await pops.ask(i)).status); k++) await Bun.sleep(k && 10);
      // Purge at a random phase of the PoPs' check intervals.
      await Bun.sleep(Math.random() * PURGE_CHECK_MS);
      const since = performance.now();
      if ((await pops.purgeTag(n % 3, "catalog")) !== 200) throw new Error("purge failed");
      const at = n % 3;
      const each = await Promise.all([0, 1, 2].map((i) => timeToMiss(pops, i, since, PURGE_CHECK_MS * 5)));
      for (const [i, ms] of each.entries()) (i === at ? local : times).push(ms);
    }
  } finally {
    await pops.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
  const f = (ms: number) => `${ms.toFixed(0)} ms`;
  console.log(
    `propagation, ${label}, over ${PURGES} purges (purgeCheckMs ${PURGE_CHECK_MS}, 10 ms polling), to the 2 other PoPs:`,
  );
  console.log(`  median ${f(median(times))}, p95 ${f(percentile(times, 95))}, max ${f(Math.max(...times))}`);
  console.log(`  at the PoP that took the purge: median ${f(median(local))}, max ${f(Math.max(...local))}`);
}

async function cpuPerHit(): Promise<void> {
  const redis = await startRedis();
  const client = new RedisClient(redis.url, { enableOfflineQueue: false });
  await client.connect();
  try {
    const engine = createPostcache({});
    const fetcher = async () =>
      new Response('{"ok":true}', { headers: { "cache-control": "public, max-age=600", "content-type": "application/json" } });
    const bare = memoryStore();
    const checked = withPurgeLog(memoryStore(), redisPurgeLog({ client: bunRedis(client) }), { purgeCheckMs: PURGE_CHECK_MS });
    const request = () =>
      new Request("https://api.example.test/search", {
        method: "POST",
        body: '{"q":"bench"}',
        headers: { "content-type": "application/json" },
      });
    async function round(store: CacheStore, hits: number): Promise<number> {
      const start = process.cpuUsage();
      for (let i = 0; i < hits; i++) await (await engine.handle(request(), store, fetcher)).arrayBuffer();
      const used = process.cpuUsage(start);
      return ((used.user + used.system) * 1000) / hits; // ns per hit
    }
    for (const store of [bare, checked]) await round(store, 2000); // fill and warm up
    const a: number[] = [];
    const b: number[] = [];
    // The checked store reads the log at most once per purgeCheckMs of wall clock, as in production.
    // The order alternates per round (ABBA), so neither side always runs on a warmer or quieter machine.
    for (let r = 0; r < 20; r++) {
      if (r % 2) b.push(await round(checked, 5000));
      a.push(await round(bare, 5000));
      if (!(r % 2)) b.push(await round(checked, 5000));
    }
    const [ma, mb] = [median(a), median(b)];
    console.log("CPU per hit (in process, memory store, 20 alternating rounds of 5000 hits, medians):");
    console.log(
      `  without purge check ${(ma / 1000).toFixed(2)} µs, with ${(mb / 1000).toFixed(2)} µs, ratio ${(mb / ma).toFixed(3)}`,
    );
  } finally {
    client.close();
    await redis.stop();
  }
}

async function hitRatio(sharedTier: boolean): Promise<number> {
  mkdirSync(".scratch", { recursive: true });
  const scratch = mkdtempSync(join(resolve(".scratch"), "bench-tier-"));
  const pops = await startPops(3, PURGE_CHECK_MS, scratch, true, sharedTier);
  try {
    const asks = Array.from({ length: 200 * 3 }, (_, n) => ({
      body: JSON.stringify({ q: n % 200 }),
      pop: Math.floor(Math.random() * 3),
    }));
    for (let i = asks.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [asks[i], asks[j]] = [asks[j], asks[i]];
    }
    let hits = 0;
    for (const { body, pop } of asks) if (/;\s*hit/.test((await pops.ask(pop, "/products/1", body)).status)) hits++;
    return hits / asks.length;
  } finally {
    await pops.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (PARTS.has("cpu")) await cpuPerHit();
if (PARTS.has("propagation")) {
  await propagation("3 Bun command processes, Redis log", startPops);
  await propagation("3 deno serve processes of the Deno adapter, Deno KV log", startDenoPops);
}
if (PARTS.has("tier")) {
  const [without, withTier] = [await hitRatio(false), await hitRatio(true)];
  console.log("hit ratio across 3 PoPs, 200 bodies asked 3 times each at random PoPs (best possible 66.7%):");
  console.log(`  without a shared tier ${(without * 100).toFixed(1)}%, with one ${(withTier * 100).toFixed(1)}%`);
}
