/**
 * A full store against an empty one (issue 11): does a 64 MiB memory store filled to its cap make
 * every hit dearer? Two child processes side by side, each one engine (`createPostcache` with Bun's
 * hasher) over its own `memoryStore()` of the default 64 MiB and an in-process origin answering the
 * benchmark origin's ~1 KiB document. "empty" holds only the hot entry; "full" is first sent
 * FILL × the cap's worth of distinct 1 KiB bodies (the store at its cap, evicting, as after the
 * benchmark's miss cells), then the same hot entry. Then ROUNDS interleaved rounds of HITS hits each
 * (CONCURRENCY at a time, as wrk's 16 connections): CPU per hit from process.cpuUsage (every thread,
 * so the collector's own threads count too), and, from JSC's GC log (BUN_JSC_logGC), how many eden
 * and full collections ran in the round and how long they took.
 *
 * Reports medians over the rounds and their ratio, resident memory (peak VmHWM and now, against the
 * child's resident size before its first request), and the live heap after a full collection.
 *
 * Usage: bun bench/full-store.ts [rounds=7] [hits=40000] [--smol]
 *        STORE=<path to a memory.ts> compares another copy of the store (a patched one) the same way.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { bunSha256 } from "../adapters/bun.ts";
import { createPostcache } from "../core/index.ts";
import type { memoryStore as MemoryStore } from "../core/stores/memory.ts";
import { median } from "./stats.ts";

const BODY_BYTES = 1024;
const CONCURRENCY = 16;
/** How many times the cap's worth of distinct bodies the full store is sent: past the cap, so it evicts. */
const FILL = 1.3;
const ORIGIN = "http://127.0.0.1:3000";
const MiB = 1024 * 1024;

/** The benchmark origin's document and headers (bench/origin.ts). */
const answer = JSON.stringify({
  ok: true,
  items: Array.from({ length: 18 }, (_, i) => ({ id: i, name: `item-${i}`, price: 10 + i, tags: ["a", "b", "c"] })),
});
const answerHeaders = { "content-type": "application/json", "cache-control": "public, max-age=3600" };

/** `{"q":"<head>","pad":"xxx..."}` of exactly BODY_BYTES bytes, as bench/wrk/post.lua builds them. */
function bodyOf(head: string): string {
  return `{"q":"${head}","pad":"${"x".repeat(BODY_BYTES - '{"q":"","pad":""}'.length - head.length)}"}`;
}

function statusKiB(field: "VmHWM" | "VmRSS"): number {
  const match = readFileSync("/proc/self/status", "utf8").match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
  return match ? Number(match[1]) : 0;
}

async function child(mode: "empty" | "full"): Promise<void> {
  const { heapSize } = await import("bun:jsc");
  const { memoryStore } = (await import(resolve(process.env.STORE ?? "core/stores/memory.ts"))) as {
    memoryStore: typeof MemoryStore;
  };
  const store = memoryStore();
  const postcache = createPostcache({ sha256: bunSha256 });
  const fetcher = async (_request: Request) => new Response(answer, { headers: answerHeaders });
  const pending: Promise<unknown>[] = [];
  const context = { waitUntil: (p: Promise<unknown>) => void pending.push(p) };
  const ask = async (body: string) => {
    const request = new Request(`${ORIGIN}/api/search`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    const response = await postcache.handle(request, store, fetcher, context);
    await response.arrayBuffer();
    return response;
  };
  const hot = bodyOf("fixed");
  Bun.gc(true);
  const idleKiB = statusKiB("VmRSS");
  const idleHeap = heapSize();
  if (mode === "full") {
    // Enough distinct bodies to pass the cap: an entry counts a little over 2 KiB with its overhead.
    await ask(bodyOf("probe-0"));
    await Promise.all(pending.splice(0));
    const perEntry = store.bytes / store.size;
    const count = Math.ceil((FILL * store.maxBytes) / perEntry);
    for (let i = 1; i < count; i += CONCURRENCY) {
      await Promise.all(Array.from({ length: CONCURRENCY }, (_, j) => ask(bodyOf(`fill-${i + j}`))));
      await Promise.all(pending.splice(0));
    }
  }
  await ask(hot);
  await Promise.all(pending.splice(0));
  const warm = await ask(hot);
  if (!/hit/.test(warm.headers.get("cache-status") ?? ""))
    throw new Error(`[bench] not a hit: ${warm.headers.get("cache-status")}`);
  Bun.gc(true);
  const ready = { entries: store.size, storeMiB: store.bytes / MiB, heapMiB: (heapSize() - idleHeap) / MiB };
  console.log(`ready ${JSON.stringify(ready)}`);

  for await (const line of console) {
    const [command, arg] = line.trim().split(" ");
    if (command === "round") {
      const hits = Number(arg);
      console.error("ROUND-START");
      const before = process.cpuUsage();
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          for (let i = 0; i < hits / CONCURRENCY; i++) await ask(hot);
        }),
      );
      const cpu = process.cpuUsage(before);
      const wall = performance.now() - t0;
      console.error("ROUND-END");
      const result = { cpuPerHit: (cpu.user + cpu.system) / hits, wallPerHit: (wall * 1000) / hits };
      console.log(`result ${JSON.stringify(result)}`);
    } else if (command === "memory") {
      const peakKiB = statusKiB("VmHWM");
      Bun.gc(true);
      const memory = {
        idleMiB: idleKiB / 1024,
        peakOverIdleMiB: (peakKiB - idleKiB) / 1024,
        nowOverIdleMiB: (statusKiB("VmRSS") - idleKiB) / 1024,
        liveHeapOverIdleMiB: (heapSize() - idleHeap) / MiB,
      };
      console.log(`result ${JSON.stringify(memory)}`);
    } else if (command === "exit") {
      process.exit(0);
    }
  }
}

/** Collections JSC logged (BUN_JSC_logGC) in `log`: a START line names the kind, the END line the cycle's length. */
function parseGc(log: string): Gc {
  const gc: Gc = { eden: 0, full: 0, edenMs: 0, fullMs: 0 };
  let kind: "eden" | "full" | undefined;
  for (const line of log.split("\n")) {
    if (line.includes("=> EdenCollection")) kind = "eden";
    if (line.includes("=> FullCollection")) kind = "full";
    const cycle = line.match(/cycle ([\d.]+)ms END/);
    if (cycle && kind) {
      gc[kind]++;
      gc[kind === "eden" ? "edenMs" : "fullMs"] += Number(cycle[1]);
      kind = undefined;
    }
  }
  return gc;
}

interface Gc {
  eden: number;
  full: number;
  edenMs: number;
  fullMs: number;
}

/** One child, driven by lines on its stdin; answers `result {json}` lines; its stderr is JSC's GC log. */
function spawnChild(mode: "empty" | "full", smol: boolean) {
  const proc = Bun.spawn([process.execPath, ...(smol ? ["--smol"] : []), import.meta.path, "--child", mode], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, BUN_JSC_logGC: "1" },
  });
  const lines: string[] = [];
  let err = "";
  const decoder = new TextDecoder();
  (async () => {
    let buffer = "";
    for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      const parts = buffer.split("\n");
      buffer = parts.pop() ?? "";
      lines.push(...parts);
    }
  })();
  (async () => {
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) err += decoder.decode(chunk, { stream: true });
  })();
  async function next(prefix: string, timeoutMs = 300_000): Promise<Record<string, number>> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const i = lines.findIndex((l) => l.startsWith(prefix));
      if (i >= 0) return JSON.parse(lines.splice(i, 1)[0].slice(prefix.length + 1));
      if (proc.exitCode !== null) break;
      await Bun.sleep(10);
    }
    throw new Error(`[bench] ${mode} child gave no "${prefix}" line:\n${err.slice(-3000)}`);
  }
  /** The collections JSC logged between the last ROUND-START and ROUND-END. */
  function lastRoundGc(): Gc {
    const start = err.lastIndexOf("ROUND-START");
    const end = err.lastIndexOf("ROUND-END");
    const gc = parseGc(err.slice(start, end));
    err = err.slice(end); // keep the log bounded
    return gc;
  }
  const send = (line: string) => {
    (proc.stdin as import("bun").FileSink).write(`${line}\n`);
    (proc.stdin as import("bun").FileSink).flush();
  };
  return { proc, next, send, lastRoundGc };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a) => !a.startsWith("--"));
  const smol = process.argv.includes("--smol");
  const rounds = Number(args[0] ?? 7);
  const hits = Number(args[1] ?? 40_000);
  const children = { empty: spawnChild("empty", smol), full: spawnChild("full", smol) };
  try {
    for (const [mode, c] of Object.entries(children)) console.log(`${mode}: ${JSON.stringify(await c.next("ready"))}`);
    const cpu: Record<string, number[]> = { empty: [], full: [] };
    const wall: Record<string, number[]> = { empty: [], full: [] };
    const gcs: Record<string, Gc[]> = { empty: [], full: [] };
    for (let r = 0; r < rounds; r++) {
      // Alternate which goes first, so neither always runs right after the other's collections.
      const order = r % 2 === 0 ? (["empty", "full"] as const) : (["full", "empty"] as const);
      for (const mode of order) {
        const c = children[mode];
        c.send(`round ${hits}`);
        const result = await c.next("result");
        cpu[mode].push(result.cpuPerHit);
        wall[mode].push(result.wallPerHit);
        gcs[mode].push(c.lastRoundGc());
      }
      const g = (m: string) => gcs[m][r];
      console.log(
        `round ${r + 1}: empty ${cpu.empty[r].toFixed(1)} µs CPU/hit (${g("empty").eden} eden ${g("empty").edenMs.toFixed(0)} ms, ${g("empty").full} full ${g("empty").fullMs.toFixed(0)} ms)` +
          `  full ${cpu.full[r].toFixed(1)} µs (${g("full").eden} eden ${g("full").edenMs.toFixed(0)} ms, ${g("full").full} full ${g("full").fullMs.toFixed(0)} ms)`,
      );
    }
    const m = (xs: number[]) => median(xs);
    const gcPerHit = (mode: string, key: "edenMs" | "fullMs") => (m(gcs[mode].map((g) => g[key])) * 1000) / hits;
    console.log(`\nmedians over ${rounds} rounds of ${hits} hits, ${CONCURRENCY} at a time${smol ? ", --smol" : ""}:`);
    for (const mode of ["empty", "full"]) {
      console.log(
        `  ${mode}: ${m(cpu[mode]).toFixed(1)} µs CPU/hit, ${m(wall[mode]).toFixed(1)} µs wall/hit; ` +
          `collections per round: ${m(gcs[mode].map((g) => g.eden))} eden (${gcPerHit(mode, "edenMs").toFixed(2)} µs/hit), ` +
          `${m(gcs[mode].map((g) => g.full))} full (${gcPerHit(mode, "fullMs").toFixed(2)} µs/hit)`,
      );
    }
    const ratios = cpu.full.map((x, i) => x / cpu.empty[i]);
    console.log(
      `  full/empty CPU per hit: ${(m(cpu.full) / m(cpu.empty)).toFixed(3)} (median of per-round ratios ${m(ratios).toFixed(3)})`,
    );
    for (const [mode, c] of Object.entries(children)) {
      c.send("memory");
      const mem = await c.next("result");
      console.log(
        `  ${mode} memory: resident peak ${mem.peakOverIdleMiB.toFixed(1)} MiB over idle (${mem.idleMiB.toFixed(0)} MiB), ` +
          `${mem.nowOverIdleMiB.toFixed(1)} MiB now; live heap ${mem.liveHeapOverIdleMiB.toFixed(1)} MiB over idle`,
      );
    }
  } finally {
    for (const c of Object.values(children)) {
      c.send("exit");
      await Promise.race([c.proc.exited, Bun.sleep(2000)]);
      if (c.proc.exitCode === null) c.proc.kill();
    }
  }
}

const at = process.argv.indexOf("--child");
if (at >= 0) await child(process.argv[at + 1] as "empty" | "full");
else if (process.argv.includes("--http")) await http();
else await main();

/**
 * The same comparison against the real server, as `npm run bench` runs it: bench/postcache-server.ts
 * processes pinned to core 0 (one loaded at a time), bench/origin.ts and wrk (16 connections) on core 1.
 * "full" is first sent PREFILL_COUNT (default 45,000) distinct 1 KiB bodies (1.4x what the cap holds,
 * as bench/ab.sh's PREFILL=8 sends on a quiet machine); then rounds of SECONDS of hits on each server in turn. CPU per request from
 * /proc/<pid>/stat, p99 from wrk, GC from the server's own JSC log. BASELINE=<a copy of adapters/bun.ts
 * beside its own core/> adds the same pair running that copy. MISSES_BEFORE=S sends every server S
 * seconds of distinct bodies before each of its hit slices (the "empty" one then holds what they left).
 *
 * Usage: bun bench/full-store.ts --http [rounds=5] [seconds=3]
 */
async function http(): Promise<void> {
  const { mkdirSync, statSync, openSync, readSync, closeSync } = await import("node:fs");
  const { cpuMicros, start, statusKiB: procKiB, stopAll, stopOnExit } = await import("./processes.ts");
  const { runWrk } = await import("./wrk.ts");
  const args = process.argv.slice(2).filter((a) => !a.startsWith("--"));
  const rounds = Number(args[0] ?? 5);
  const seconds = Number(args[1] ?? 3);
  /** Distinct bodies sent to "full" first: 1.4x what the 64 MiB cap holds (about 32,000 of them). */
  const prefill = Number(process.env.PREFILL_COUNT ?? 45_000);
  const wrk = Bun.which("wrk");
  if (!wrk) throw new Error("[bench] wrk is missing: bun bench/install.ts installs it");
  stopOnExit();
  mkdirSync(".scratch", { recursive: true });
  const origin = await start("origin", [process.execPath, "bench/origin.ts"], { core: 1, ready: /listening on (\S+)/ });
  const variants: [string, string | undefined][] = [["", undefined]];
  if (process.env.BASELINE) variants.push([" (baseline)", resolve(process.env.BASELINE)]);
  const missesBefore = Number(process.env.MISSES_BEFORE ?? 0);
  const servers: { name: string; pid: number; url: string; log: string; idleKiB: number }[] = [];
  for (const [suffix, adapter] of variants) {
    for (const mode of ["empty", "full"]) {
      const name = mode + suffix;
      const log = resolve(`.scratch/full-store-gc-${servers.length}.log`);
      const s = await start(name, ["sh", "-c", `exec ${process.execPath} bench/postcache-server.ts 2>${log}`], {
        core: 0,
        env: { ORIGIN: origin.url, BUN_JSC_logGC: "1", ...(adapter ? { POSTCACHE_ADAPTER: adapter } : {}) },
        ready: /listening on (\S+)/,
      });
      servers.push({ name, pid: s.pid, url: s.url, log, idleKiB: procKiB(s.pid, "VmRSS") });
    }
  }
  const readLog = (path: string, from: number, to: number) => {
    const fd = openSync(path, "r");
    const buffer = Buffer.alloc(to - from);
    readSync(fd, buffer, 0, to - from, from);
    closeSync(fd);
    return buffer.toString("utf8");
  };
  const slice = (url: string, secs: number, unique: boolean, salt: string) =>
    runWrk(wrk, {
      url: `${url}/api/search`,
      connections: CONCURRENCY,
      seconds: secs,
      bodyBytes: BODY_BYTES,
      unique,
      salt,
      core: 1,
    });
  try {
    for (const s of servers) {
      if (s.name.startsWith("full")) {
        // Until the origin has answered PREFILL_COUNT distinct bodies for it (bounded: a slow, shared
        // machine sends fewer per second than bench/ab.sh's 8 s assume).
        const count = async () => Number(await (await fetch(`${origin.url}/__count`)).text());
        const from = await count();
        for (let i = 0; i < 30 && (await count()) - from < prefill; i++) await slice(s.url, 2, true, `fill-${s.pid}-${i}`);
      }
      await slice(s.url, 2, false, "warm");
      const store = await (await fetch(`${s.url}/__store`)).json();
      console.log(`${s.name}: ${store.entries} entries, ${(store.bytes / MiB).toFixed(1)} MiB accounted`);
    }
    const cpu = Object.fromEntries(servers.map((s) => [s.name, [] as number[]]));
    const p99 = Object.fromEntries(servers.map((s) => [s.name, [] as number[]]));
    const gcs = Object.fromEntries(servers.map((s) => [s.name, [] as Gc[]]));
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? servers : [...servers].reverse();
      const line: string[] = [];
      for (const s of order) {
        // As in `npm run bench`, where hit cells follow miss cells on the same server.
        if (missesBefore > 0) await slice(s.url, missesBefore, true, `between-${r}-${s.pid}`);
        const logFrom = statSync(s.log).size;
        const t0 = cpuMicros([s.pid]);
        const result = await slice(s.url, seconds, false, "hit");
        const used = cpuMicros([s.pid]) - t0;
        const gc = parseGc(readLog(s.log, logFrom, statSync(s.log).size));
        if (result.errors > 0) throw new Error(`[bench] ${s.name}: ${result.errors} errors`);
        cpu[s.name].push(used / result.requests);
        p99[s.name].push(result.p99 / 1000);
        gcs[s.name].push(gc);
        line.push(
          `${s.name} ${(used / result.requests).toFixed(1)} µs, p99 ${(result.p99 / 1000).toFixed(2)} ms, ${gc.eden}e/${gc.full}f`,
        );
      }
      console.log(`round ${r + 1}: ${line.join("; ")}`);
    }
    const m = (xs: number[]) => median(xs);
    console.log(`\nmedians over ${rounds} rounds of ${seconds} s of 1 KiB hits at c${CONCURRENCY}:`);
    for (const s of servers) {
      const g = gcs[s.name];
      const peakKiB = procKiB(s.pid, "VmHWM");
      const memory = await (await fetch(`${s.url}/__memory`)).json();
      console.log(
        `  ${s.name}: ${m(cpu[s.name]).toFixed(1)} µs CPU/hit, p99 ${m(p99[s.name]).toFixed(2)} ms; per round ` +
          `${m(g.map((x) => x.eden))} eden (${m(g.map((x) => x.edenMs)).toFixed(0)} ms), ${m(g.map((x) => x.full))} full ` +
          `(${m(g.map((x) => x.fullMs)).toFixed(0)} ms); resident peak ${((peakKiB - s.idleKiB) / 1024).toFixed(0)} MiB over idle, ` +
          `${((memory.rssBytes / 1024 - s.idleKiB) / 1024).toFixed(0)} MiB after a full GC (live heap ${(memory.heapBytes / MiB).toFixed(1)} MiB)`,
      );
    }
    for (const [suffix] of variants) {
      const full = cpu[`full${suffix}`];
      const empty = cpu[`empty${suffix}`];
      const ratios = full.map((x, i) => x / empty[i]);
      console.log(
        `  full/empty${suffix}: ${(m(full) / m(empty)).toFixed(3)} (median of per-round ratios ${m(ratios).toFixed(3)})`,
      );
    }
  } finally {
    await stopAll();
  }
}
