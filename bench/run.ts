/**
 * `npm run bench`: postcache's Bun server against nginx's POST cache, the seeds' naive worker, plain
 * nginx pass-through and the origin itself, side by side in one run of interleaved rounds, then the
 * keying micro-benchmark in Bun, Deno and Node; writes bench/results.md (docs/benchmarks.md says why).
 *
 *   bun bench/run.ts            full run (under 10 minutes on 2 cores), writes bench/results.md
 *   bun bench/run.ts --quick    1 s slices, 3 rounds, c16 only (about 1.5 minutes), writes bench/.work/quick/
 *   --variant <adapters/bun.ts copy>   also runs a patched postcache (see postcache-server.ts)
 *   --rounds N  --seconds S  --no-keying  --out <dir>  --cells <regex on cell ids, e.g. hit-1024>
 *   --report-only               rewrite results.md from results/raw.json (after editing findings.md)
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ensureTools, type Tools } from "./install.ts";
import { runKeying } from "./keying-runner.ts";
import { loadSeconds, makePlan, systemsOf } from "./plan.ts";
import { cpuMicros, family, pin, recordPidsIn, statusKiB, stopAll, stopLeftovers, stopOnExit } from "./processes.ts";
import { type Meta, machine, type Run, type Slice, writeReport } from "./report.ts";
import { rotate } from "./stats.ts";
import {
  coresOf,
  nginxWorker,
  type System,
  type SystemId,
  startBunSystems,
  startNginx,
  startOrigin,
  startWorkerdSystems,
  systemOf,
  workerdOf,
} from "./systems.ts";
import { fixedBody, runWrk } from "./wrk.ts";

const BENCH = import.meta.dir;
const WORK = join(BENCH, ".work");

interface Args {
  quick: boolean;
  variant?: string;
  rounds?: number;
  seconds?: number;
  keying: boolean;
  out?: string;
  /** Only the cells whose id matches (e.g. `hit-1024`), for quick A/B work. */
  cells?: RegExp;
  /** Rewrite results.md from the results/raw.json of an earlier run, measuring nothing. */
  reportOnly: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, keying: true, reportOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--quick") args.quick = true;
    else if (a === "--no-keying") args.keying = false;
    else if (a === "--variant") args.variant = argv[++i];
    else if (a === "--rounds") args.rounds = Number(argv[++i]);
    else if (a === "--seconds") args.seconds = Number(argv[++i]);
    else if (a === "--out") args.out = argv[++i];
    else if (a === "--cells") args.cells = new RegExp(argv[++i]);
    else if (a === "--report-only") args.reportOnly = true;
    else throw new Error(`[bench] unknown argument ${a} (see the header of bench/run.ts)`);
  }
  return args;
}

/** A tmpfs for nginx's cache when there is one (so it is not a disk benchmark), else the scratch folder. */
function cacheDirOf(): string {
  const mounts = existsSync("/proc/mounts") ? readFileSync("/proc/mounts", "utf8") : "";
  if (!/^\S+ \/dev\/shm tmpfs /m.test(mounts)) return join(WORK, "nginx-cache");
  // A run killed outright leaves its cache folder behind: remove those whose driver is gone.
  for (const name of readdirSync("/dev/shm")) {
    const pid = name.match(/^postcache-bench-(\d+)$/)?.[1];
    if (pid && !existsSync(`/proc/${pid}`)) rmSync(`/dev/shm/${name}`, { recursive: true, force: true });
  }
  return `/dev/shm/postcache-bench-${process.pid}`;
}

/** The Bun servers answer `GET /__memory` with their live heap after a full collection. */
const HEAP_REPORTING: SystemId[] = ["postcache", "postcache-full", "variant", "naive", "floor"];

async function heapOf(system: System): Promise<{ heapBytes: number; rssBytes: number }> {
  return (await fetch(`${system.url}/__memory`)).json();
}

async function originCount(origin: string): Promise<number> {
  return Number(await (await fetch(`${origin}/__count`)).text());
}

/** Busy time of one core so far, in microseconds, from /proc/stat (to see other load on the server core). */
function coreBusyMicros(core: number | undefined): number {
  if (core === undefined) return 0;
  const line = readFileSync("/proc/stat", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`cpu${core} `));
  if (!line) return 0;
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return ((user + nice + system + irq + softirq + steal) * 1e6) / 100;
}

/** Where each cache says an answer came from it (the naive Bun proxy says nothing: its origin count does). */
function hitStatus(id: SystemId, response: Response, calls: number): string | null {
  if (id === "nginx") return response.headers.get("x-cache-status");
  if (id === "naive") return calls === 1 ? "HIT (one origin call)" : null;
  // workerd's Cache API marks what cache.match returns (Cloudflare's CF-Cache-Status).
  if (id === "workerd-naive") return response.headers.get("cf-cache-status");
  return response.headers.get("cache-status");
}

/**
 * Sends the same probe body until an answer says it came from the cache (a Worker stores in
 * `waitUntil`, after answering: at most 20 tries, 50 ms apart), and checks the origin was called once.
 */
async function checkCaches(systems: Map<SystemId, System>, origin: string): Promise<string[]> {
  const notes: string[] = [];
  const caches: SystemId[] = ["nginx", "postcache", "postcache-full", "variant", "naive", "workerd-postcache", "workerd-naive"];
  for (const bytes of [1024, 16 * 1024]) {
    const body = fixedBody(bytes, `probe-${process.pid}`);
    for (const id of caches) {
      const system = systems.get(id);
      if (!system) continue;
      const before = await originCount(origin);
      let status: string | null = null;
      let calls = 0;
      for (let i = 0; i < 20; i++) {
        if (i > 1) await Bun.sleep(50);
        const response = await fetch(`${system.url}/api/search`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        });
        await response.arrayBuffer();
        calls = (await originCount(origin)) - before;
        status = i === 0 ? null : hitStatus(id, response, calls);
        if (status !== null && /hit/i.test(status)) break;
      }
      const hit = status !== null && /hit/i.test(status) && calls === 1;
      if (!hit)
        throw new Error(`[bench] ${id} did not cache a ${bytes} B POST (second answer: ${status}, origin calls: ${calls})`);
      notes.push(`${id} ${bytes} B: second POST answered "${status}", origin called once`);
    }
  }
  return notes;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const plan = makePlan(args);
  const outDir = args.out ?? (args.quick ? join(WORK, "quick") : BENCH);
  if (args.reportOnly) {
    const run = JSON.parse(readFileSync(join(outDir, "results", "raw.json"), "utf8")) as Run;
    writeReport(outDir, run);
    console.log(`[bench] rewrote ${join(outDir, "results.md")} from results/raw.json`);
    return;
  }
  mkdirSync(WORK, { recursive: true });
  const pidFile = join(WORK, "pids.json");
  stopLeftovers(pidFile, BENCH);
  recordPidsIn(pidFile);
  const cacheDir = cacheDirOf();
  const cleanupFiles = () => rmSync(cacheDir, { recursive: true, force: true });
  stopOnExit(cleanupFiles);

  const startedAt = new Date();
  const t0 = performance.now();
  const tools: Tools = ensureTools();
  const cores = coresOf();
  // The driver only waits on wrk: keep it off the server core.
  if (cores.load !== undefined) pin(process.pid, cores.load);
  const slicesPerRound = plan.cells.reduce((n, c) => n + c.systems.length, 0);
  console.log(
    `[bench] ${plan.cells.length} cells, ${slicesPerRound} slices a round, ${plan.rounds} rounds of ${plan.seconds} s slices: about ${(loadSeconds(plan) / 60).toFixed(1)} min of load`,
  );

  try {
    const origin = await startOrigin(cores);
    const wanted = systemsOf(plan);
    const [postcache, naive, floor, full, variant] = await startBunSystems(origin.url, cores, args.variant);
    const workerd =
      wanted.has("workerd-postcache") || wanted.has("workerd-naive") ? await startWorkerdSystems(origin.url, cores) : [];
    const nginx = await startNginx(tools.nginx, WORK, cacheDir, origin.url, cores);
    const nginxPids = () => family(nginx.proc.pid);
    const systems = new Map<SystemId, System>([
      [
        "origin",
        systemOf(
          "origin",
          origin.url,
          () => [origin.pid],
          () => origin.pid,
        ),
      ],
      [
        "postcache",
        systemOf(
          "postcache",
          postcache.url,
          () => [postcache.pid],
          () => postcache.pid,
        ),
      ],
      [
        "naive",
        systemOf(
          "naive",
          naive.url,
          () => [naive.pid],
          () => naive.pid,
        ),
      ],
      ["nginx", systemOf("nginx", `http://127.0.0.1:${nginx.cachePort}`, nginxPids, () => nginxWorker(nginx.proc.pid))],
      ["nginx-pass", systemOf("nginx-pass", `http://127.0.0.1:${nginx.passPort}`, nginxPids, () => nginxWorker(nginx.proc.pid))],
    ]);
    for (const [id, started] of [
      ["floor", floor],
      ["postcache-full", full],
    ] as const)
      systems.set(
        id,
        systemOf(
          id,
          started.url,
          () => [started.pid],
          () => started.pid,
        ),
      );
    // Miniflare's process only starts and stops workerd: the workerd child serves, and is charged.
    for (const [id, started] of workerd.map((w, i) => [i === 0 ? "workerd-postcache" : "workerd-naive", w] as const)) {
      const serving = workerdOf(started.pid);
      systems.set(
        id,
        systemOf(
          id,
          started.url,
          () => [serving],
          () => serving,
        ),
      );
    }
    if (variant)
      systems.set(
        "variant",
        systemOf(
          "variant",
          variant.url,
          () => [variant.pid],
          () => variant.pid,
        ),
      );

    // The live JS heap of the Bun servers before any load (after a full collection).
    const idleHeap = new Map<SystemId, number>();
    for (const id of HEAP_REPORTING) {
      const system = systems.get(id);
      if (system) idleHeap.set(id, (await heapOf(system)).heapBytes);
    }
    const checks = await checkCaches(systems, origin.url);
    for (const note of checks) console.log(`[bench] ${note}`);

    // Warm-up: fills every cache with the fixed bodies and lets the JITs settle (not measured).
    const salt = `${process.pid}-${Date.now()}`;
    for (const bytes of [1024, 16 * 1024]) {
      for (const [id, system] of systems) {
        if (id === "origin") continue;
        await runWrk(tools.wrk, {
          url: `${system.url}/api/search`,
          connections: 16,
          seconds: 1,
          bodyBytes: bytes,
          unique: false,
          salt,
          core: cores.load,
        });
      }
    }

    const slices: Slice[] = [];
    for (let round = 0; round < plan.rounds; round++) {
      for (const cell of plan.cells) {
        for (const id of rotate(cell.systems, round)) {
          const system = systems.get(id);
          if (!system) continue;
          // Served directly, the origin gets the server core; otherwise it sits with the load.
          const direct = id === "origin";
          if (direct && cores.server !== undefined) pin(origin.pid, cores.server);
          const path = cell.kind === "slow" ? "/slow/search" : "/api/search";
          const calls0 = await originCount(origin.url);
          const cpu0 = cpuMicros(system.pids());
          const core0 = coreBusyMicros(cores.server);
          const wall0 = performance.now();
          const result = await runWrk(tools.wrk, {
            url: `${system.url}${path}`,
            connections: cell.connections,
            seconds: plan.seconds,
            bodyBytes: cell.bytes,
            unique: cell.kind !== "hit",
            salt: `${salt}-${round}-${cell.id}-${id}`,
            core: cores.load,
          });
          const wallUs = (performance.now() - wall0) * 1000;
          const cpuUs = cpuMicros(system.pids()) - cpu0;
          const coreUs = coreBusyMicros(cores.server) - core0;
          if (direct && cores.load !== undefined) pin(origin.pid, cores.origin ?? cores.load);
          const originCalls = (await originCount(origin.url)) - calls0;
          const slice: Slice = {
            round,
            cell: cell.id,
            system: id,
            ...result,
            cpuUsPerRequest: result.requests > 0 ? cpuUs / result.requests : Number.NaN,
            serverCoreBusy: coreUs / wallUs,
            otherOnServerCore: Math.max(0, (coreUs - cpuUs) / wallUs),
            originCalls: direct ? 0 : originCalls,
            rssKiB: statusKiB(system.memoryPid(), "VmRSS"),
          };
          slices.push(slice);
          console.log(
            `[bench] r${round + 1}/${plan.rounds} ${cell.id.padEnd(14)} ${id.padEnd(10)} ${Math.round(slice.rps).toString().padStart(7)} req/s  p50 ${(slice.p50 / 1000).toFixed(2)} ms  p99 ${(slice.p99 / 1000).toFixed(2)} ms  ${slice.cpuUsPerRequest.toFixed(1)} µs CPU/req${slice.errors ? `  ERRORS ${slice.errors}` : ""}${cell.kind === "hit" && !direct && id !== "nginx-pass" && originCalls > 0 ? `  origin calls ${originCalls}` : ""}`,
          );
        }
      }
    }

    const memory: Run["memory"] = [];
    for (const s of systems.values()) {
      if (s.id === "nginx-pass") continue;
      const row: Run["memory"][number] = { system: s.id, idleKiB: s.idleKiB, peakKiB: statusKiB(s.memoryPid(), "VmHWM") };
      if (idleHeap.has(s.id)) {
        const after = await heapOf(s);
        row.heap = { idleBytes: idleHeap.get(s.id) ?? 0, afterBytes: after.heapBytes, rssAfterKiB: after.rssBytes / 1024 };
      }
      memory.push(row);
    }
    const store = await (await fetch(`${postcache.url}/__store`)).json();
    const fullStore = await (await fetch(`${full.url}/__store`)).json();
    const nginxCacheKiB = Number(Bun.spawnSync(["du", "-sk", cacheDir]).stdout.toString().split(/\s/)[0]) || 0;
    await stopAll();
    cleanupFiles();

    const keying = args.keying ? await runKeying(WORK, args.quick, cores.server) : [];
    const meta: Meta = {
      startedAt: startedAt.toISOString(),
      minutes: (performance.now() - t0) / 60_000,
      quick: args.quick,
      variant: args.variant,
      checks,
      store,
      fullStore,
      nginxCacheKiB,
      cores,
      cacheDir,
      machine: machine(),
    };
    writeReport(outDir, { plan, slices, memory, keying, meta, tools });
    console.log(`[bench] done in ${meta.minutes.toFixed(1)} min: ${join(outDir, "results.md")}`);
  } finally {
    await stopAll();
    cleanupFiles();
  }
}

await main();
