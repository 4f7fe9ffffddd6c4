/**
 * The benchmark's own logic, without running any load: the plan fits the time budget, paired ratios
 * are computed per round, wrk's output is read right, the nginx template caches 16 KiB bodies, the
 * chart is well-formed SVG and the report states every target.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chartSvg, niceStep } from "./chart.ts";
import { versionOf } from "./install.ts";
import { loadSeconds, makePlan, systemsOf } from "./plan.ts";
import { cpuModel, machine, pinning, type Run, type Slice, writeReport } from "./report.ts";
import { median, pairedMedian, rotate } from "./stats.ts";
import { coresOf, renderNginxConf, type SystemId } from "./systems.ts";
import { fixedBody, parseWrk } from "./wrk.ts";

describe("plan", () => {
  test("the full run measures every cell the issue asks for, in >= 5 rounds of 3 s, within 10 minutes of load", () => {
    const plan = makePlan({});
    expect(plan.rounds).toBeGreaterThanOrEqual(5);
    expect(plan.seconds).toBe(3);
    const ids = plan.cells.map((c) => c.id);
    for (const bytes of [1024, 16384]) {
      for (const c of [1, 16, 64]) expect(ids).toContain(`hit-${bytes}-c${c}`);
      expect(ids).toContain(`miss-${bytes}-c16`);
    }
    expect(ids).toContain("slow-1024-c16");
    for (const cell of plan.cells) {
      if (cell.id.includes("-workerd-")) continue;
      expect(cell.systems).toEqual(expect.arrayContaining(["nginx", "postcache"]));
    }
    expect(plan.cells.find((c) => c.kind === "slow")?.systems).toContain("origin");
    // Issue 11: the bare Bun floor as a reference row, a full-store cell beside the empty one, workerd.
    expect(plan.cells.find((c) => c.id === "hit-1024-c16")?.systems).toContain("floor");
    expect(plan.cells.find((c) => c.id === "hit-full-1024-c16")?.systems).toEqual(["nginx", "postcache", "postcache-full"]);
    // The edge target: hits and misses at 1 KiB and 16 KiB, postcache's bundle against the naive Worker.
    for (const kind of ["hit", "miss"])
      for (const bytes of [1024, 16384])
        expect(plan.cells.find((c) => c.id === `${kind}-workerd-${bytes}-c16`)?.systems).toEqual([
          "workerd-postcache",
          "workerd-naive",
        ]);
    expect(loadSeconds(plan)).toBeLessThan(10 * 60);
  });

  test("a run starts only the systems its cells measure", () => {
    expect([...systemsOf(makePlan({ cells: /^miss-\d/ }))].sort()).toEqual(["naive", "nginx", "postcache"]);
    expect(systemsOf(makePlan({ quick: true }))).toContain("workerd-postcache");
  });

  test("--quick is about a minute of load; a variant joins every cell postcache is in", () => {
    expect(loadSeconds(makePlan({ quick: true }))).toBeLessThan(90);
    for (const cell of makePlan({ quick: true, variant: "x" }).cells)
      if (cell.systems.includes("postcache")) expect(cell.systems).toContain("variant");
    expect(makePlan({ cells: /^miss-\d/ }).cells.map((c) => c.id)).toEqual(["miss-1024-c16", "miss-16384-c16"]);
  });
});

describe("machine", () => {
  test("cores: servers, load and, with a third core, the origin apart; with two it shares the load core", () => {
    expect(coresOf(2)).toEqual({ server: 0, load: 1, origin: 1 });
    expect(coresOf(4)).toEqual({ server: 0, load: 1, origin: 2 });
    expect(pinning(coresOf(2))).toContain("on misses the origin and wrk share that core");
    expect(pinning(coresOf(3))).toContain("the origin on core 2 of its own");
  });

  test("the processor model comes from /proc/cpuinfo's model name", () => {
    expect(cpuModel("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n")).toBe("AMD EPYC 7B13");
    expect(cpuModel("")).not.toBe("");
  });
});

describe("stats", () => {
  test("median of odd and even counts, ignoring NaN", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([Number.NaN, 5])).toBe(5);
    expect(median([])).toBeNaN();
  });

  test("paired ratios are taken within each round, then the median", () => {
    // Round 1: the machine is fast for both; round 2 slow for both. A ratio of medians would say 1.25.
    const a = [{ rps: 300 }, { rps: 100 }, undefined];
    const b = [{ rps: 200 }, { rps: 100 }, { rps: 50 }];
    const paired = pairedMedian(a, b, (x, y) => x.rps / y.rps);
    expect(paired).toEqual({ median: 1.25, min: 1, max: 1.5, n: 2 });
  });

  test("rotate starts each round with a different system", () => {
    expect(rotate(["a", "b", "c"], 0)).toEqual(["a", "b", "c"]);
    expect(rotate(["a", "b", "c"], 1)).toEqual(["b", "c", "a"]);
    expect(rotate(["a", "b", "c"], 5)).toEqual(["c", "a", "b"]);
  });
});

describe("wrk", () => {
  test("reads the RESULT line post.lua prints", () => {
    const out =
      'Running 3s test\nRESULT {"requests":30000,"durationUs":3000000,"bytes":1,"connect":0,"read":1,"write":0,"status":2,"timeout":0,"p50":350,"p90":600,"p99":1200,"max":9000,"mean":400.5}\n';
    const r = parseWrk(out);
    expect(r.rps).toBe(10_000);
    expect(r.errors).toBe(3);
    expect(r.badStatus).toBe(2);
    expect([r.p50, r.p99]).toEqual([350, 1200]);
    expect(() => parseWrk("wrk: connection refused")).toThrow(/no result/);
  });

  test("the fixed body is JSON of exactly the asked size, as post.lua builds it", () => {
    for (const n of [1024, 16384]) {
      const body = fixedBody(n);
      expect(new TextEncoder().encode(body).byteLength).toBe(n);
      expect(JSON.parse(body).q).toBe("fixed");
    }
    expect(readFileSync(join(import.meta.dir, "wrk", "post.lua"), "utf8")).toContain(`'{"q":"' .. head .. '","pad":"'`);
  });
});

describe("nginx.conf", () => {
  const values = { WORK: "/w", CACHE_DIR: "/c", ORIGIN: "127.0.0.1:1", CACHE_PORT: "2", PASS_PORT: "3" };

  test("renders every placeholder and keys the cache on the body, with buffers large enough for 16 KiB", () => {
    const conf = renderNginxConf(values);
    expect(conf).not.toContain("{{");
    expect(conf).toContain("proxy_cache_methods POST;");
    expect(conf).toContain('proxy_cache_key "$request_uri|$request_body";');
    expect(conf).toContain("proxy_buffer_size 64k;");
    expect(conf).toContain("client_body_buffer_size 1m;");
    expect(conf).toContain("worker_processes 1;");
    expect(conf).toContain("keepalive 64;");
    expect(conf).toContain("add_header X-Cache-Status $upstream_cache_status always;");
    for (const listen of conf.match(/listen [^;]+;/g) ?? []) expect(listen).toMatch(/^listen 127\.0\.0\.1:\d+;$/);
  });

  test("a missing value is an error, not an empty directive", () => {
    expect(() => renderNginxConf({ ...values, PASS_PORT: undefined } as unknown as Record<string, string>)).toThrow(/PASS_PORT/);
  });
});

describe("chart", () => {
  test("is one SVG with a line per multi-point series, a lone marker for a single point, and escaped labels", () => {
    const svg = chartSvg(
      [
        {
          title: "Hits <1 KiB>",
          yLabel: "req/s",
          series: [
            { label: "a & b", color: "#000", points: [1, 16, 64].map((x) => ({ x, y: x * 100 })) },
            { label: "ref", color: "#111", points: [{ x: 16, y: 500 }] },
          ],
        },
      ],
      [1, 16, 64],
    );
    expect(svg.startsWith("<svg ")).toBe(true);
    expect(svg.trim().endsWith("</svg>")).toBe(true);
    expect(svg.match(/<path /g)?.length).toBe(1);
    expect(svg.match(/<circle /g)?.length).toBe(4);
    expect(svg).toContain("a &amp; b");
    expect(svg).toContain("Hits &lt;1 KiB&gt;");
    expect(svg).not.toContain("NaN");
  });

  test("ticks are 1, 2 or 5 times a power of ten", () => {
    expect(niceStep(73_000)).toBe(20_000);
    expect(niceStep(4.2)).toBe(1);
    expect(niceStep(0)).toBe(1);
  });
});

describe("report", () => {
  test("a tool that is not installed has no version line, and no error: the report needs no nginx or wrk", () => {
    expect(versionOf(["postcache-no-such-tool", "-v"])).toBe("");
    expect(machine().join("\n")).toContain("- Bun ");
  });

  test("states each target with its paired measurement, tables per cell, and the chart", () => {
    const plan = makePlan({ rounds: 2 });
    const slices: Slice[] = [];
    for (const cell of plan.cells) {
      for (let round = 0; round < plan.rounds; round++) {
        for (const system of cell.systems) {
          const fast = system === "postcache" ? 2 : system === "floor" ? 4 : 1;
          slices.push({
            round,
            cell: cell.id,
            system,
            requests: 1000,
            durationUs: 1e6,
            errors: 0,
            badStatus: 0,
            rps: 10_000 * fast * (round + 1),
            p50: 500,
            p90: 800,
            p99: system === "origin" ? 20_000 : 21_000,
            max: 30_000,
            cpuUsPerRequest: 20 / fast,
            serverCoreBusy: 1,
            otherOnServerCore: 0,
            originCalls: 0,
            rssKiB: 1000,
          });
        }
      }
    }
    const run: Run = {
      plan,
      slices,
      memory: [
        {
          system: "postcache" as SystemId,
          idleKiB: 30_000,
          peakKiB: 100_000,
          heap: { idleBytes: 1e6, afterBytes: 50e6, rssAfterKiB: 90_000 },
        },
      ],
      keying: [
        {
          runtime: "bun test",
          rows: [65536, 1048576].flatMap((bytes) =>
            ["digest", "cacheKey"].map((variant) => ({ bytes, variant, nsPerOp: variant === "digest" ? 100 : 110 })),
          ),
        },
      ],
      meta: {
        startedAt: new Date(0).toISOString(),
        minutes: 1,
        quick: true,
        checks: ["a check"],
        store: { bytes: 1, entries: 1 },
        nginxCacheKiB: 0,
        cacheDir: "/dev/shm/x",
      },
      tools: { nginx: "nginx", wrk: "wrk" },
    };
    const dir = mkdtempSync(join(tmpdir(), "postcache-bench-test-"));
    try {
      writeReport(dir, run);
      const md = readFileSync(join(dir, "results.md"), "utf8");
      expect(md).toContain("hits, 1 KiB: req/s ≥ 1.0x nginx");
      expect(md).toContain("c16 2.00x");
      expect(md).toContain("20 ms origin");
      expect(md).toContain("1.00 ms"); // 21 ms against the origin's 20 ms, paired
      expect(md).toContain("keying in bun test, `cacheKey`: ≤ 1.2x");
      expect(md).toContain("1.10x, 1.10x | yes");
      expect(md).toContain("![Hit throughput");
      // CPU targets: postcache 10 µs against nginx's 20 and the floor's 5, paired.
      expect(md).toContain("CPU µs per request ≤ nginx's (paired) | 0.50x (10.0 µs) | yes");
      expect(md).toContain("≤ 1.5x the bare Bun floor's (paired) | 2.00x (floor 5.0 µs) | **no**");
      expect(md).toContain("### 1 KiB body, 16 connections, store full");
      expect(md).toContain("### 1 KiB body, 16 connections, in workerd");
      // A full store against the empty one, and each workerd cell against the naive Worker, paired.
      // The fake slices give postcache-full and workerd-postcache 20 µs, postcache 10: 2.00x each.
      expect(md).toContain(
        "store filled to its cap first: CPU µs per hit ≤ 1.1x the empty store's (paired) | 2.00x (20.0 µs vs 10.0) | **no**",
      );
      expect(md).toContain(
        "in workerd, 1 KiB hits, c16: CPU µs per request ≤ the naive Worker's (paired) | 1.00x (20.0 µs vs 20.0) | yes",
      );
      expect(md).toContain("in workerd, 16 KiB misses, c16: CPU µs per request ≤ the naive Worker's (paired)");
      expect(md).toContain("Nothing pinned");
      expect(readFileSync(join(dir, "results", "hits.svg"), "utf8")).toContain("<svg ");
      expect(JSON.parse(readFileSync(join(dir, "results", "raw.json"), "utf8")).slices.length).toBe(slices.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
