/**
 * The package as a user installs it: `npm pack` (prepack builds), the tarball installed into a fresh
 * project under .scratch/package/app (see scratch.ts), then
 * - what the tarball holds: only what consumers need;
 * - every entry loads under Node 20 and 22 (import, and require), Bun and Deno, with a MISS then HIT;
 * - a consumer file per entry type-checks with TypeScript 5 (latest 5.x) and 7, under moduleResolution
 *   bundler, node16 and nodenext, strict, exactOptionalPropertyTypes, skipLibCheck false, no ambient
 *   types at all (`types: []`): zero errors; a wrong option is an error (the check reads our declarations);
 * - each provider entry bundled from the installed package with esbuild, as a user would, fits 16 KiB gzip.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { BUDGET_GZIP_BYTES } from "../../build.ts";
import { runToEnd, startProcess } from "../e2e/process.ts";
import { APP, BIN, installedManifest, mustRun, NODE22, type Packed, packAndInstall, ROOT, systemNode } from "./scratch.ts";

let packed: Packed;
beforeAll(async () => {
  packed = await packAndInstall();
  console.log(`[consumer] npm pack ${packed.packMs.toFixed(0)} ms, npm install ${packed.installMs.toFixed(0)} ms`);
}, 360_000);

const ENTRIES = Object.keys((JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { exports: object }).exports)
  .filter((path) => path !== "./package.json")
  .sort();

describe("the tarball", () => {
  test("holds only the license, readme, manifest, the command, built modules and declarations", () => {
    for (const file of packed.files) {
      expect(file).toMatch(
        /^(LICENSE|README\.md|package\.json|bin\/postcache\.mjs|dist\/lib\/[\w./-]+\.(js|md)|dist\/types\/[\w./-]+\.d\.ts)$/,
      );
    }
    expect(packed.files).toContain("dist/lib/core.js");
    expect(packed.files).toContain("dist/types/core/index.d.ts");
    expect(packed.files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
  });

  // The scratch project sits inside the repository, whose node_modules would hide an undeclared import.
  // Only its own files, Node's modules (in the server entries), its one dependency (prom-client, for
  // postcache/metrics and the command) and its optional peers (redis, hono), which the user installs
  // with the entry that needs them.
  test("imports no package but its dependency and optional peers, in JavaScript or declarations", () => {
    const installed = join(APP, "node_modules/postcache");
    const manifest = installedManifest();
    const declared = [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependenciesMeta ?? {})];
    const allowed = new RegExp(`^(?:\\.\\.?/|node:|(?:${declared.join("|") || "(?!)"})(?:/|$))`);
    for (const file of packed.files.filter((f) => f.endsWith(".js") || f.endsWith(".d.ts"))) {
      const code = readFileSync(join(installed, file), "utf8")
        .split("\n")
        .filter((line) => !/^\s*(\*|\/\*|\/\/)/.test(line))
        .join("\n");
      for (const [, specifier] of code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)"([^"]+)"/g)) {
        expect(specifier, `${file} imports ${specifier}`).toMatch(allowed);
      }
    }
  });

  test("installs with no warning (its one dependency runs on Node 20: no EBADENGINE)", () => {
    expect(installedManifest().version).toBe("0.2.0");
    expect(packed.installOutput).not.toMatch(/EBADENGINE|npm warn/i);
  });
});

interface RoundTrip {
  runtime: string;
  loaded: Record<string, number>;
  miss: string;
  hit: string;
  body: string;
  calls: number;
  bunRedisOutsideBun?: string;
}

function expectRoundTrip(result: RoundTrip): void {
  expect(Object.keys(result.loaded).sort()).toEqual(ENTRIES);
  expect(result.miss).toMatch(/^postcache; fwd=uri-miss; fwd-status=200; stored/);
  expect(result.hit).toMatch(/^postcache; hit; ttl=\d+/);
  expect(JSON.parse(result.body)).toEqual({ ok: true });
  expect(result.calls).toBe(1);
}

async function runJson(cmd: string[], env: Record<string, string> = {}): Promise<RoundTrip> {
  const output = await mustRun(cmd, APP, 60_000, env);
  const line = output.split("\n").find((l) => l.startsWith("{"));
  if (!line) throw new Error(`${cmd.join(" ")} printed no JSON:\n${output}`);
  return JSON.parse(line) as RoundTrip;
}

describe("every entry loads, and answers a MISS then a HIT", () => {
  const nodes = [
    ["the machine's Node", systemNode()],
    ["Node 22 (node@22 from npm)", NODE22],
  ] as const;

  test.each(nodes)("%s: import, MISS then HIT through postcache/cloudflare", async (_, node) => {
    const result = await runJson([node, "import-all.mjs"]);
    console.log(`[consumer] ${result.runtime} import: ${result.miss} → ${result.hit}`);
    expectRoundTrip(result);
    // postcache/bun-redis loads anywhere; creating a store outside Bun says what it needs.
    expect(result.bunRedisOutsideBun).toMatch(/Bun\.RedisClient/);
  });

  test.each(nodes)("%s: require() of every entry from a CommonJS file", async (_, node) => {
    const result = await runJson([node, "require-all.cjs"]);
    expect(Object.keys(result.loaded).sort()).toEqual(ENTRIES);
  });

  test("the Node versions are 20 and 22", async () => {
    const versions = await Promise.all(nodes.map(async ([, node]) => (await mustRun([node, "--version"], APP, 10_000)).trim()));
    console.log(`[consumer] Node versions: ${versions.join(", ")}`);
    expect(versions[0]).toMatch(/^v20\./);
    expect(versions[1]).toMatch(/^v22\./);
  });

  test("Bun: postcache/bun behind Bun.serve", async () => {
    const result = await runJson([process.execPath, "bun-round-trip.ts"]);
    console.log(`[consumer] ${result.runtime}: ${result.miss} → ${result.hit}`);
    expectRoundTrip(result);
  });

  test("Deno: postcache/deno on Deno's Cache API, npm packages from node_modules", async () => {
    const tmp = join(APP, ".deno-tmp");
    const result = await runJson(
      [
        join(BIN, "deno"),
        "run",
        "--quiet",
        "--no-prompt",
        "--allow-net=127.0.0.1",
        "--allow-read",
        "--allow-env",
        "deno-round-trip.ts",
      ],
      { TMPDIR: tmp, NO_COLOR: "1" },
    );
    console.log(`[consumer] ${result.runtime}: ${result.miss} → ${result.hit}`);
    expectRoundTrip(result);
  }, 60_000);
});

describe("a consumer file per entry type-checks against the declarations", () => {
  const compilers = [
    ["TypeScript 5", () => ["node", join(APP, "node_modules/typescript/bin/tsc")]],
    ["TypeScript 7", () => [join(BIN, "tsc")]],
  ] as const;
  const configs = ["tsconfig.json", "tsconfig.node16.json", "tsconfig.nodenext.json"];
  const resolutionOf = (config: string) => JSON.parse(readFileSync(join(APP, config), "utf8")).compilerOptions.moduleResolution;

  test("there is one consumer file per entry", () => {
    const files = [...new Bun.Glob("*.ts").scanSync(join(APP, "consumers"))].map((f) => f.replace(/\.ts$/, "")).sort();
    expect(files).toEqual(ENTRIES.map((e) => (e === "." ? "core" : e.slice(2))).sort());
  });

  test.each(compilers.flatMap(([name, tsc]) => configs.map((config) => [name, config, tsc] as const)))(
    "%s, %s: zero errors",
    async (name, config, tsc) => {
      const version = (await mustRun([...tsc(), "--version"], APP, 20_000)).trim();
      const run = await runToEnd([...tsc(), "-p", config], { cwd: APP, timeoutMs: 60_000 });
      console.log(`[consumer] ${version}, moduleResolution ${resolutionOf(config)}: exit ${run.code}`);
      expect(version).toMatch(name === "TypeScript 5" ? /^Version 5\./ : /^Version 7\./);
      expect(`${run.stdout}${run.stderr}`).toBe("");
      expect(run.code).toBe(0);
    },
    60_000,
  );

  test.each(compilers)(
    "%s: a wrong option type is an error (the check reads postcache's types)",
    async (_, tsc) => {
      const run = await runToEnd([...tsc(), "-p", "tsconfig.control.json"], { cwd: APP, timeoutMs: 60_000 });
      expect(run.code).not.toBe(0);
      expect(run.stdout).toMatch(/wrong-option\.ts.*TS2322/);
    },
    60_000,
  );
});

describe("each provider entry, bundled from the installed package with esbuild, fits the budget", () => {
  // As a user runs esbuild for each platform: the format and platform the provider deploys.
  const cases = [
    ["cloudflare", "esm", "neutral"],
    ["edgeone", "iife", "neutral"],
    ["netlify", "esm", "neutral"],
    ["vercel", "esm", "browser"],
    ["deno", "esm", "neutral"],
    ["bun", "esm", "node"],
  ] as const;
  test.each(cases)("%s (--format=%s --platform=%s)", async (name, format, platform) => {
    const out = join(APP, "out", `${name}.js`);
    await mustRun(
      [
        join(BIN, "esbuild"),
        `consumers/${name}.ts`,
        "--bundle",
        "--minify",
        `--format=${format}`,
        `--platform=${platform}`,
        `--outfile=${out}`,
      ],
      APP,
      30_000,
    );
    const bytes = readFileSync(out);
    const gzip = gzipSync(bytes, { level: 9 }).byteLength;
    console.log(`[consumer] esbuild ${name}: ${bytes.byteLength} B, ${gzip} B gzip`);
    expect(gzip).toBeLessThanOrEqual(BUDGET_GZIP_BYTES);
    // Bundled from dist/, not from our sources: the installed package's own code.
    expect(bytes.toString()).not.toContain("../../core/");
  });
});

// The `bin` as a user meets it: `npx postcache` in a project that installed the tarball, on the
// machine's Node (no Bun on PATH), in front of its own demo origin.
describe("the installed `postcache` command", () => {
  test("--help prints the usage and exits 0", async () => {
    const output = await mustRun([systemNode(), "node_modules/.bin/postcache", "--help"], APP, 20_000);
    expect(output).toMatch(/--origin/);
    expect(output).toMatch(/--redis/);
  });

  test("--demo: a POST is a MISS, then a HIT", async () => {
    const server = await startProcess(
      [systemNode(), "node_modules/.bin/postcache", "--demo", "--port", "0"],
      {},
      /listening on (http:\/\/\S+?),/,
      20_000,
      APP,
    );
    try {
      const post = () =>
        fetch(`${server.url}/search`, { method: "POST", body: '{"q":"shoes"}', headers: { "content-type": "application/json" } });
      const miss = await post();
      await miss.arrayBuffer();
      const hit = await post();
      await hit.arrayBuffer();
      expect(miss.headers.get("cache-status")).toMatch(/fwd=uri-miss/);
      expect(hit.headers.get("cache-status")).toMatch(/; hit/);
    } finally {
      await server.stop();
    }
  }, 30_000);
});
