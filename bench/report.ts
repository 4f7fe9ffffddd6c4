/** Turns a run's slices into bench/results.md (tables, targets, chart) and results/raw.json. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";

import { join, relative } from "node:path";
import { COLORS, chartSvg, type Panel } from "./chart.ts";
import { type Tools, versionOf } from "./install.ts";
import type { KeyingResult } from "./keying-runner.ts";
import { median, type PairedStat, pairedMedian } from "./stats.ts";
import { LABELS, type SystemId } from "./systems.ts";
import type { WrkResult } from "./wrk.ts";

export interface Cell {
  id: string;
  /** hit: one fixed body (served from cache); miss: every body unique; slow: unique bodies to the 20 ms origin. */
  kind: "hit" | "miss" | "slow";
  bytes: number;
  connections: number;
  systems: SystemId[];
}

export interface Plan {
  cells: Cell[];
  rounds: number;
  seconds: number;
}

export interface Slice extends WrkResult {
  round: number;
  cell: string;
  system: SystemId;
  /** Server CPU (user + system, all its processes) per request, in microseconds. */
  cpuUsPerRequest: number;
  /** Share of the slice the server core was busy. */
  serverCoreBusy: number;
  /** Share of the slice the server core ran something other than the system under test. */
  otherOnServerCore: number;
  /** Origin calls during the slice (0 expected for a cache on the hit path). */
  originCalls: number;
  rssKiB: number;
}

export interface Meta {
  startedAt: string;
  minutes: number;
  quick: boolean;
  variant?: string;
  checks: string[];
  store: { bytes: number; entries: number };
  /** The store of the server filled to its cap before the run (the hit-full cell), at the end. */
  fullStore?: { bytes: number; entries: number };
  nginxCacheKiB: number;
  /** Where the servers, the load (wrk and the driver) and the origin were pinned. */
  cores?: { server?: number; load?: number; origin?: number };
  cacheDir: string;
  /** Machine, code and tool versions, taken when the run was made. */
  machine?: string[];
}

export interface Run {
  plan: Plan;
  slices: Slice[];
  memory: {
    system: SystemId;
    idleKiB: number;
    peakKiB: number;
    /** Bun servers: the JS heap after a full collection, at start and at the end, and RSS then. */
    heap?: { idleBytes: number; afterBytes: number; rssAfterKiB: number };
  }[];
  keying: KeyingResult[];
  meta: Meta;
  tools: Tools;
}

/** postcache's memory store cap (core/stores/memory.ts DEFAULT_MEMORY_MAX_BYTES), in KiB. */
const STORE_CAP_KIB = 64 * 1024;
/**
 * "The store's cap plus a fixed overhead", two ways. Live data: the JS heap after a full collection
 * may grow by the cap plus a quarter (the store accounts body, header and key bytes plus 256 B per
 * entry; the JS objects around them weigh a little more). Resident memory: the peak may exceed the
 * idle process by twice the cap (the collector frees garbage in batches, so RSS runs ahead of live data).
 */
const HEAP_ALLOWANCE_KIB = 1.25 * STORE_CAP_KIB;
const RSS_ALLOWANCE_KIB = 2 * STORE_CAP_KIB;

const BENCH = import.meta.dir;

function rounds(slices: Slice[], cell: string, system: SystemId, n: number): (Slice | undefined)[] {
  const out: (Slice | undefined)[] = Array.from({ length: n }, () => undefined);
  for (const s of slices) if (s.cell === cell && s.system === system) out[s.round] = s;
  return out;
}

const fmt = {
  int: (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString("en-US") : "–"),
  ms: (us: number) => (Number.isFinite(us) ? (us / 1000).toFixed(2) : "–"),
  x: (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}x` : "–"),
  us: (v: number) => (Number.isFinite(v) ? v.toFixed(1) : "–"),
  mib: (kib: number) => (kib / 1024).toFixed(1),
  pct: (v: number) => (Number.isFinite(v) ? `${(v * 100).toFixed(0)}%` : "–"),
};

function spread(p: PairedStat, f: (v: number) => string = fmt.x): string {
  if (!Number.isFinite(p.median)) return "–";
  return `${f(p.median)} (${f(p.min)}–${f(p.max)})`;
}

interface Row {
  system: SystemId;
  rps: number;
  p50: number;
  p99: number;
  cpu: number;
  originCalls: number;
  errors: number;
  rpsRatio: PairedStat;
  p99Ratio: PairedStat;
  /** CPU per request against nginx's, and against the bare Bun floor's, paired within each round. */
  cpuRatio: PairedStat;
  cpuVsFloor: PairedStat;
  /** p99 minus the origin's own p99, paired (the slow cell). */
  addedP99: PairedStat;
  /** CPU per request against the cell's own baseline (see baselineOf), paired; NaN where it has none. */
  cpuVsBaseline: PairedStat;
}

/**
 * What a cell's non-nginx comparison is: in the store-full cell, the empty-store server beside it
 * (issue 11: a full store within 10% of an empty one); in a workerd cell, the naive Worker (the
 * edge target: postcache's bundle at or below Cloudflare's example).
 */
function baselineOf(cell: Cell): SystemId | undefined {
  if (cell.id.startsWith("hit-full-")) return "postcache";
  if (cell.id.includes("-workerd-")) return "workerd-naive";
  return undefined;
}

function rowsOf(run: Run, cell: Cell): Row[] {
  const n = run.plan.rounds;
  const nginx = rounds(run.slices, cell.id, "nginx", n);
  const origin = rounds(run.slices, cell.id, "origin", n);
  const floor = rounds(run.slices, cell.id, "floor", n);
  const baseline = baselineOf(cell);
  const base = baseline ? rounds(run.slices, cell.id, baseline, n) : [];
  return cell.systems.map((system) => {
    const r = rounds(run.slices, cell.id, system, n);
    const got = r.filter((s): s is Slice => s !== undefined);
    return {
      system,
      rps: median(got.map((s) => s.rps)),
      p50: median(got.map((s) => s.p50)),
      p99: median(got.map((s) => s.p99)),
      cpu: median(got.map((s) => s.cpuUsPerRequest)),
      originCalls: got.reduce((t, s) => t + s.originCalls, 0),
      errors: got.reduce((t, s) => t + s.errors, 0),
      rpsRatio: pairedMedian(r, nginx, (a, b) => a.rps / b.rps),
      p99Ratio: pairedMedian(r, nginx, (a, b) => a.p99 / b.p99),
      cpuRatio: pairedMedian(r, nginx, (a, b) => a.cpuUsPerRequest / b.cpuUsPerRequest),
      cpuVsFloor: pairedMedian(r, floor, (a, b) => a.cpuUsPerRequest / b.cpuUsPerRequest),
      addedP99: pairedMedian(r, origin, (a, b) => a.p99 - b.p99),
      cpuVsBaseline: pairedMedian(r, base, (a, b) => a.cpuUsPerRequest / b.cpuUsPerRequest),
    };
  });
}

function heading(c: Cell): string {
  const where = c.id.startsWith("hit-full-") ? ", store full" : c.id.includes("-workerd-") ? ", in workerd" : "";
  return `### ${c.bytes / 1024} KiB body, ${c.connections} connection${c.connections > 1 ? "s" : ""}${where}`;
}

function table(header: string[], rows: string[][]): string {
  const align = header.map((_, i) => (i === 0 ? "---" : "---:"));
  return [header, align, ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
}

function cellTable(run: Run, cell: Cell): string {
  const rows = rowsOf(run, cell);
  const hit = cell.kind === "hit";
  const header = ["system", "req/s", "× nginx", "p50 ms", "p99 ms", "p99 × nginx", "CPU µs/req"];
  if (hit) header.push("origin calls");
  if (cell.kind === "slow") header.push("p99 added vs origin, ms");
  const baseline = baselineOf(cell);
  if (baseline) header.push(`CPU × ${LABELS[baseline]}`);
  return table(
    header,
    rows.map((r) => {
      const line = [
        LABELS[r.system] + (r.errors ? ` (${r.errors} errors)` : ""),
        fmt.int(r.rps),
        r.system === "nginx" ? "1" : spread(r.rpsRatio),
        fmt.ms(r.p50),
        fmt.ms(r.p99),
        r.system === "nginx" ? "1" : spread(r.p99Ratio),
        fmt.us(r.cpu),
      ];
      if (hit)
        line.push(
          r.system === "origin" || r.system === "nginx-pass"
            ? "(all)"
            : r.system === "floor"
              ? "(none: no origin)"
              : fmt.int(r.originCalls),
        );
      if (cell.kind === "slow") line.push(r.system === "origin" ? "0" : spread(r.addedP99, fmt.ms));
      if (baseline) line.push(r.system === baseline ? "1" : spread(r.cpuVsBaseline));
      return line;
    }),
  );
}

interface Target {
  what: string;
  measured: string;
  met: boolean | undefined;
}

function targets(run: Run): Target[] {
  const out: Target[] = [];
  const cell = (id: string) => run.plan.cells.find((c) => c.id === id);
  const row = (id: string, system: SystemId) => {
    const c = cell(id);
    return c?.systems.includes(system) ? rowsOf(run, c).find((r) => r.system === system) : undefined;
  };
  for (const [bytes, goal] of [
    [1024, 1.0],
    [16384, 2.5],
  ]) {
    const hits = [1, 16, 64].map((c) => [c, row(`hit-${bytes}-c${c}`, "postcache")] as const).filter(([, r]) => r);
    const at16 = row(`hit-${bytes}-c16`, "postcache");
    out.push({
      what: `hits, ${bytes / 1024} KiB: req/s ≥ ${goal.toFixed(1)}x nginx (paired, c16; other concurrencies for reference)`,
      measured: hits.map(([c, r]) => `c${c} ${fmt.x(r?.rpsRatio.median ?? Number.NaN)}`).join(", "),
      met: at16 ? at16.rpsRatio.median >= goal : undefined,
    });
  }
  for (const bytes of [1024, 16384]) {
    const r = row(`hit-${bytes}-c16`, "postcache");
    out.push({
      what: `hits, ${bytes / 1024} KiB, c16: p99 ≤ 1.5x nginx's`,
      measured: r ? `${fmt.x(r.p99Ratio.median)} (${fmt.ms(r.p99)} ms)` : "–",
      met: r ? r.p99Ratio.median <= 1.5 : undefined,
    });
  }
  const cpuHit = row("hit-1024-c16", "postcache");
  out.push({
    what: "hits, 1 KiB, c16: CPU µs per request ≤ nginx's (paired)",
    measured: cpuHit ? `${fmt.x(cpuHit.cpuRatio.median)} (${fmt.us(cpuHit.cpu)} µs)` : "–",
    met: cpuHit ? cpuHit.cpuRatio.median <= 1.0 : undefined,
  });
  const floorRow = row("hit-1024-c16", "floor");
  out.push({
    what: "hits, 1 KiB, c16: CPU µs per request ≤ 1.5x the bare Bun floor's (paired)",
    measured: cpuHit && floorRow ? `${fmt.x(cpuHit.cpuVsFloor.median)} (floor ${fmt.us(floorRow.cpu)} µs)` : "–",
    met: cpuHit && floorRow ? cpuHit.cpuVsFloor.median <= 1.5 : undefined,
  });
  const full = row("hit-full-1024-c16", "postcache-full");
  out.push({
    what: "hits, 1 KiB, c16, store filled to its cap first: req/s ≥ 1.0x nginx (paired)",
    measured: full ? `${fmt.x(full.rpsRatio.median)} (${fmt.us(full.cpu)} µs CPU/req)` : "–",
    met: full ? full.rpsRatio.median >= 1.0 : undefined,
  });
  const empty = row("hit-full-1024-c16", "postcache");
  out.push({
    what: "hits, 1 KiB, c16, store filled to its cap first: CPU µs per hit ≤ 1.1x the empty store's (paired)",
    measured: full && empty ? `${fmt.x(full.cpuVsBaseline.median)} (${fmt.us(full.cpu)} µs vs ${fmt.us(empty.cpu)})` : "–",
    met: full ? full.cpuVsBaseline.median <= 1.1 : undefined,
  });
  for (const [kind, plural] of [
    ["hit", "hits"],
    ["miss", "misses"],
  ]) {
    for (const bytes of [1024, 16384]) {
      const id = `${kind}-workerd-${bytes}-c16`;
      const ours = row(id, "workerd-postcache");
      const naive = row(id, "workerd-naive");
      out.push({
        what: `in workerd, ${bytes / 1024} KiB ${plural}, c16: CPU µs per request ≤ the naive Worker's (paired)`,
        measured: ours && naive ? `${fmt.x(ours.cpuVsBaseline.median)} (${fmt.us(ours.cpu)} µs vs ${fmt.us(naive.cpu)})` : "–",
        met: ours ? ours.cpuVsBaseline.median <= 1.0 : undefined,
      });
    }
  }
  const cpuMiss = row("miss-1024-c16", "postcache");
  out.push({
    what: "misses, 1 KiB, c16: CPU µs per request ≤ 1.5x nginx's (paired)",
    measured: cpuMiss ? `${fmt.x(cpuMiss.cpuRatio.median)} (${fmt.us(cpuMiss.cpu)} µs)` : "–",
    met: cpuMiss ? cpuMiss.cpuRatio.median <= 1.5 : undefined,
  });
  for (const bytes of [1024, 16384]) {
    const r = row(`miss-${bytes}-c16`, "postcache");
    out.push({
      what: `misses, ${bytes / 1024} KiB, c16: req/s ≥ 1.0x nginx's miss path`,
      measured: r ? fmt.x(r.rpsRatio.median) : "–",
      met: r ? r.rpsRatio.median >= 1.0 : undefined,
    });
  }
  const slow = row("slow-1024-c16", "postcache");
  out.push({
    what: "20 ms origin, misses, c16: ≤ 2 ms added at p99 (vs the origin served directly)",
    measured: slow ? `${fmt.ms(slow.addedP99.median)} ms` : "–",
    met: slow ? slow.addedP99.median <= 2000 : undefined,
  });
  for (const k of run.keying) {
    for (const variant of ["cacheKey", "cacheKey+bunSha256", "cacheKey+nodeSha256"]) {
      const ratios = [64 * 1024, 1024 * 1024].map((bytes) => {
        const of = (v: string) => k.rows.find((r) => r.bytes === bytes && r.variant === v)?.nsPerOp ?? Number.NaN;
        return of(variant) / of("digest");
      });
      if (ratios.some((r) => !Number.isFinite(r))) continue;
      out.push({
        what: `keying in ${k.runtime}, \`${variant}\`: ≤ 1.2x a bare crypto.subtle.digest at 64 KiB and 1 MiB`,
        measured: ratios.map((r) => fmt.x(r)).join(", "),
        met: ratios.every((r) => r <= 1.2),
      });
    }
  }
  const mem = run.memory.find((m) => m.system === "postcache");
  if (mem?.heap) {
    const grown = (mem.heap.afterBytes - mem.heap.idleBytes) / 1024;
    out.push({
      what: `memory, live: JS heap after a full GC − at start ≤ ${fmt.mib(HEAP_ALLOWANCE_KIB)} MiB (the ${fmt.mib(STORE_CAP_KIB)} MiB store cap + 25%)`,
      measured: `${fmt.mib(grown)} MiB (store: ${fmt.mib(run.meta.store.bytes / 1024)} MiB accounted in ${fmt.int(run.meta.store.entries)} entries)`,
      met: grown <= HEAP_ALLOWANCE_KIB,
    });
  }
  if (mem) {
    const grown = mem.peakKiB - mem.idleKiB;
    out.push({
      what: `memory, resident: peak RSS − idle RSS ≤ ${fmt.mib(RSS_ALLOWANCE_KIB)} MiB (twice the store cap)`,
      measured: `${fmt.mib(grown)} MiB`,
      met: grown <= RSS_ALLOWANCE_KIB,
    });
  }
  return out;
}

function chart(run: Run): Panel[] {
  const panels: Panel[] = [];
  for (const metric of ["rps", "p99"] as const) {
    for (const bytes of [1024, 16384]) {
      // The concurrency series only: the full-store and workerd cells are one point each, in their tables.
      const cells = run.plan.cells.filter((c) => /^hit-\d+-c\d+$/.test(c.id) && c.bytes === bytes);
      const systems = [...new Set(cells.flatMap((c) => c.systems))];
      panels.push({
        title: `Hits, ${bytes / 1024} KiB body: ${metric === "rps" ? "req/s" : "p99 latency"}`,
        yLabel: metric === "rps" ? "requests per second (median)" : "p99 latency, ms (median)",
        series: systems.map((system) => ({
          label: LABELS[system],
          color: COLORS[system],
          dashed: system === "nginx-pass" || system === "origin",
          points: cells
            .filter((c) => c.systems.includes(system))
            .map((c) => {
              const r = rowsOf(run, c).find((x) => x.system === system);
              return { x: c.connections, y: metric === "rps" ? (r?.rps ?? Number.NaN) : (r?.p99 ?? Number.NaN) / 1000 };
            }),
        })),
      });
    }
  }
  return panels;
}

function git(args: string[]): string {
  const r = Bun.spawnSync(["git", ...args], { cwd: BENCH, stdout: "pipe", stderr: "pipe" });
  return r.exitCode === 0 ? r.stdout.toString().trim() : "";
}

/** The processor's model name, from /proc/cpuinfo where there is one (what the kernel reports). */
export function cpuModel(cpuinfo: string | undefined = readIfThere("/proc/cpuinfo")): string {
  const name = cpuinfo?.match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim();
  return name || cpus()[0]?.model || "unknown";
}

function readIfThere(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, "utf8") : undefined;
}

export function machine(): string[] {
  const kernel = Bun.spawnSync(["uname", "-sr"]).stdout.toString().trim();
  const dirty = git(["status", "--porcelain", "--", "core", "adapters"])
    ? " (with uncommitted changes in core/ or adapters/)"
    : "";
  return [
    `- Machine: ${cpuModel()}, ${navigator.hardwareConcurrency} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${kernel}`,
    `- Code: commit ${git(["rev-parse", "--short", "HEAD"]) || "unknown"}${dirty}`,
    `- Bun ${Bun.version}; ${versionOf(["nginx", "-v"]).replace("nginx version: ", "") || "nginx"}; ${versionOf(["wrk", "-v"]).split(" [")[0]}`,
  ];
}

/** Where the processes ran, and what shared a core (issue 11 asks misses to say so). */
export function pinning(cores: Meta["cores"]): string {
  if (!cores || cores.server === undefined) return "Nothing pinned (one core): servers, wrk, the origin and the driver share it.";
  const origin = cores.origin ?? cores.load;
  const shared =
    origin === cores.load
      ? `the origin beside them on core ${origin} (no third core): on misses the origin and wrk share that core, the same for every system`
      : `the origin on core ${origin} of its own`;
  return `Servers pinned to core ${cores.server} (workerd too: Miniflare's child inherits it), wrk (1 thread) and the driver to core ${cores.load}, ${shared}.`;
}

function keyingSection(run: Run): string {
  if (run.keying.length === 0) return "Not run (`--no-keying`).";
  const parts: string[] = [];
  for (const k of run.keying) {
    if (k.error) {
      parts.push(`**${k.runtime}**: did not run: \`${k.error.split("\n")[0]}\``);
      continue;
    }
    const variants = [...new Set(k.rows.map((r) => r.variant))];
    const sizes = [...new Set(k.rows.map((r) => r.bytes))];
    const of = (bytes: number, v: string) => k.rows.find((r) => r.bytes === bytes && r.variant === v)?.nsPerOp ?? Number.NaN;
    parts.push(
      `**${k.runtime}** (µs per call; in brackets, × the bare \`crypto.subtle.digest\`)\n\n${table(
        ["body", ...variants.map((v) => `\`${v}\``)],
        sizes.map((bytes) => [
          bytes >= 1024 * 1024 ? `${bytes / 1024 / 1024} MiB` : bytes >= 1024 ? `${bytes / 1024} KiB` : `${bytes} B`,
          ...variants.map(
            (v) =>
              `${(of(bytes, v) / 1000).toFixed(1)}${v === "digest" ? "" : ` (${fmt.x(of(bytes, v) / of(bytes, "digest"))})`}`,
          ),
        ]),
      )}`,
    );
  }
  return parts.join("\n\n");
}

export function writeReport(outDir: string, run: Run): void {
  mkdirSync(join(outDir, "results"), { recursive: true });
  writeFileSync(join(outDir, "results", "raw.json"), `${JSON.stringify(run, null, 1)}\n`);
  const svgPath = join(outDir, "results", "hits.svg");
  writeFileSync(svgPath, chartSvg(chart(run), [1, 16, 64]));

  const other = run.slices.map((s) => s.otherOnServerCore);
  const cells = (kind: Cell["kind"]) => run.plan.cells.filter((c) => c.kind === kind);
  const ts = targets(run);
  const findingsFile = join(BENCH, "findings.md");
  const findings = existsSync(findingsFile) ? readFileSync(findingsFile, "utf8").trim() : "";
  const md = [
    "# postcache benchmark results",
    "",
    `Generated by \`${run.meta.quick ? "bun bench/run.ts --quick" : "npm run bench"}\` on ${run.meta.startedAt.slice(0, 16).replace("T", " ")} UTC, in ${run.meta.minutes.toFixed(1)} minutes. How to run it and what each figure means: [docs/benchmarks.md](${relative(outDir, join(BENCH, "../docs/benchmarks.md"))}).`,
    "",
    ...(run.meta.machine ?? machine()),
    `- Plan: ${run.plan.rounds} interleaved rounds; in each round every system gets one ${run.plan.seconds} s slice per cell, back to back, in an order rotated per round. ${pinning(run.meta.cores)} nginx: 1 worker, cache on ${run.meta.cacheDir.startsWith("/dev/shm") ? "a tmpfs (/dev/shm)" : "disk (no tmpfs found)"}, keepalive to the origin.`,
    `- Every "× nginx" figure is the median over rounds of the ratio of the two slices of the same round, with the lowest and highest round in brackets.`,
    `- Other load on the server core during slices: median ${fmt.pct(median(other))}, worst ${fmt.pct(Math.max(...other))}.`,
    run.meta.variant ? `- Variant: \`${run.meta.variant}\`` : "",
    "",
    "## Targets",
    "",
    table(
      ["target", "measured", "met"],
      ts.map((t) => [t.what, t.measured, t.met === undefined ? "not measured" : t.met ? "yes" : "**no**"]),
    ),
    "",
    `![Hit throughput and p99 latency by concurrency](${relative(outDir, svgPath)})`,
    "",
    "## Hits (one fixed body, served from the cache)",
    "",
    "The origin direct and nginx pass-through rows are references, not caches: every request reaches the origin. The bare Bun floor reads the body, hashes it with `Bun.CryptoHasher` and answers a fixed document: what Bun itself costs per request. In the store-full cell, a second postcache server had its store filled to the cap before the run (unique 1 KiB bodies until it evicts), so every lookup is in a full map. In the workerd cells, CPU is the workerd process's (Miniflare's own process is not on the request path), and the last column pairs each Worker with Cloudflare's example.",
    "",
    ...cells("hit").flatMap((c) => [heading(c), "", cellTable(run, c), ""]),
    "## Misses (every body unique: key, origin call, store)",
    "",
    ...cells("miss").flatMap((c) => [heading(c), "", cellTable(run, c), ""]),
    "## Misses with a 20 ms origin",
    "",
    ...cells("slow").flatMap((c) => [`### ${c.bytes / 1024} KiB body, ${c.connections} connections`, "", cellTable(run, c), ""]),
    "## Memory",
    "",
    "Peak resident memory (VmHWM) of each server process over the whole run, against its resident memory at start. For nginx, the worker; its cached responses also occupy files on the tmpfs, not counted in its RSS. For the Bun servers, also the live JS heap (after a full collection, `Bun.gc(true)`) at the end against at start, and RSS right after that collection.",
    "",
    table(
      ["system", "idle RSS MiB", "peak RSS MiB", "peak − idle MiB", "RSS after GC, end", "live heap growth MiB"],
      run.memory.map((m) => [
        LABELS[m.system],
        fmt.mib(m.idleKiB),
        fmt.mib(m.peakKiB),
        fmt.mib(m.peakKiB - m.idleKiB),
        m.heap ? fmt.mib(m.heap.rssAfterKiB) : "–",
        m.heap ? fmt.mib((m.heap.afterBytes - m.heap.idleBytes) / 1024) : "–",
      ]),
    ),
    "",
    `postcache's store at the end: ${fmt.mib(run.meta.store.bytes / 1024)} MiB accounted in ${fmt.int(run.meta.store.entries)} entries (cap ${fmt.mib(STORE_CAP_KIB)} MiB). nginx's cache files: ${fmt.mib(run.meta.nginxCacheKiB)} MiB. The naive worker's Map is capped at the same ${fmt.mib(STORE_CAP_KIB)} MiB, counted the same way, oldest out first.${run.meta.fullStore ? ` The store filled before the run (the "store full" rows): ${fmt.mib(run.meta.fullStore.bytes / 1024)} MiB in ${fmt.int(run.meta.fullStore.entries)} entries at the end.` : ""}`,
    "",
    "## Keying",
    "",
    "Time to key one body, one call after another: `cacheKey` with the default `crypto.subtle` digest, and in Bun also with `bunSha256` (the Bun server's hasher) and a bare `Bun.CryptoHasher`, against a bare `crypto.subtle.digest` of the same bytes. Medians of interleaved batches, pinned to core 0.",
    "",
    keyingSection(run),
    "",
    "## Checks",
    "",
    ...run.meta.checks.map((c) => `- ${c}`),
    "- Hit slices: the origin calls column counts requests that reached the origin during the measured slices (0 means every answer was a hit).",
    "",
    findings,
    "",
  ].join("\n");
  writeFileSync(join(outDir, "results.md"), md.replace(/\n{3,}/g, "\n\n"));
}
