/**
 * Profiles one Bun server of the benchmark under load: starts the origin and the server (pinned like
 * in the run) under `bun --cpu-prof-md`, drives it with wrk, stops it, and prints where the profile is.
 *
 *   bun bench/profile.ts [--server postcache-server.ts|naive-proxy.ts] [--variant <adapters/bun.ts copy>]
 *                        [--kind hit|miss|slow] [--bytes 1024] [--connections 16] [--seconds 10]
 *
 * The profile (markdown, grep-friendly) lands in bench/.work/profiles/.
 */
import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { ensureTools } from "./install.ts";
import { pin, start, stopAll, stopOnExit } from "./processes.ts";
import { startOrigin } from "./systems.ts";
import { runWrk } from "./wrk.ts";

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ""), process.argv[i + 1]);
const server = args.get("server") ?? "postcache-server.ts";
const kind = args.get("kind") ?? "hit";
const bytes = Number(args.get("bytes") ?? 1024);
const connections = Number(args.get("connections") ?? 16);
const seconds = Number(args.get("seconds") ?? 10);
const dir = join(import.meta.dir, ".work", "profiles");
mkdirSync(dir, { recursive: true });
const name = `${server.replace(/\.ts$/, "")}${args.get("variant") ? "-variant" : ""}-${kind}-${bytes}-c${connections}`;

stopOnExit();
const tools = ensureTools();
pin(process.pid, 1);
try {
  const origin = await startOrigin({ load: 1 });
  const env: Record<string, string> = { ORIGIN: origin.url };
  const variant = args.get("variant");
  if (variant) env.POSTCACHE_ADAPTER = variant;
  const target = await start(
    name,
    [process.execPath, "--cpu-prof-md", `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}.md`, join(import.meta.dir, server)],
    { core: 0, env, ready: /listening on (http:\/\/\S+)/ },
  );
  const path = kind === "slow" ? "/slow/search" : "/api/search";
  const salt = `${process.pid}-${Date.now()}`;
  // Warm-up (fills the cache for hits), then the profiled load.
  await runWrk(tools.wrk, {
    url: `${target.url}${path}`,
    connections,
    seconds: 2,
    bodyBytes: bytes,
    unique: kind !== "hit",
    salt,
    core: 1,
  });
  const result = await runWrk(tools.wrk, {
    url: `${target.url}${path}`,
    connections,
    seconds,
    bodyBytes: bytes,
    unique: kind !== "hit",
    salt: `${salt}-2`,
    core: 1,
  });
  console.log(
    `${name}: ${Math.round(result.rps)} req/s, p50 ${(result.p50 / 1000).toFixed(2)} ms, p99 ${(result.p99 / 1000).toFixed(2)} ms`,
  );
} finally {
  await stopAll();
}
console.log(`profiles in ${dir}: ${readdirSync(dir).join(", ")}`);
