/**
 * Several PoPs in front of one counting origin that tags its answers, each PoP with its own cache,
 * all sharing one purge log. Used by test/e2e/pops.test.ts and bench/pops.ts. Two kinds:
 * - `startPops`: real `postcache` command processes (Bun), each with its own memory store, the log in a
 *   real redis-server (optionally a shared tier in the same Redis);
 * - `startDenoPops`: `deno serve` processes of the Deno adapter's bundle, each with its own Cache API
 *   storage, the log in one Deno KV file they all open (Deno KV on SQLite, as `deno serve` runs it).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type DenoServer, startDeno } from "../fixtures/deno/deno.ts";
import { startRedis } from "../stores/redis-server.ts";
import { startCli } from "./node-server.ts";

export const POPS_TOKEN = "pops-admin-token-0123456789";

export interface Pops {
  urls: string[];
  originCalls(): number;
  /** POST `body` to `path` at PoP `i`: its Cache-Status and the origin call number it carries. */
  ask(i: number, path?: string, body?: string): Promise<{ status: string; call: number }>;
  purgeTag(i: number, tag: string): Promise<number>;
  stop(): Promise<void>;
}

/** The origin every PoP fronts: it counts calls, and tags each answer `catalog, product:1`. */
function countingOrigin() {
  let calls = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      await request.arrayBuffer();
      calls++;
      return Response.json(
        { call: calls },
        { headers: { "cache-control": "public, max-age=300", "cache-tag": "catalog, product:1" } },
      );
    },
  });
  return { url: server.url.href, calls: () => calls, stop: () => server.stop(true) };
}

export async function startPops(
  n: number,
  purgeCheckMs: number,
  scratch: string,
  purgeLog = true,
  sharedTier = false,
): Promise<Pops> {
  const origin = countingOrigin();
  const redis = await startRedis();
  const tokenFile = join(scratch, "token");
  writeFileSync(tokenFile, `${POPS_TOKEN}\n`);
  const env = {
    PURGE_REDIS: redis.url,
    PURGE_CHECK_MS: String(purgeCheckMs),
    PURGE_LOG: purgeLog ? "on" : "off",
    SHARED_TIER: sharedTier ? "on" : "off",
  };
  const args = ["--origin", origin.url, "--config", "test/fixtures/pops/config.ts", "--admin-token-file", tokenFile];
  const pops = await Promise.all(Array.from({ length: n }, () => startCli(args, env, "bun")));
  return popsClient(
    pops.map((p) => p.url),
    origin.calls,
    async () => {
      await Promise.all(pops.map((p) => p.stop()));
      await redis.stop();
      origin.stop();
    },
  );
}

export async function startDenoPops(n: number, purgeCheckMs: number, scratch: string): Promise<Pops> {
  const origin = countingOrigin();
  const env = {
    ORIGIN: origin.url,
    DENO_KV_PATH: join(scratch, "purges.sqlite"),
    PURGE_CHECK_MS: String(purgeCheckMs),
    ADMIN_TOKEN: POPS_TOKEN,
  };
  const flags = ["--unstable-kv", `--allow-read=${scratch}`, `--allow-write=${scratch}`];
  // One after another: the first creates the KV file, the others open it.
  const pops: DenoServer[] = [];
  for (let i = 0; i < n; i++)
    pops.push(await startDeno("test/fixtures/deno/pop.ts", env, /pop listening on (http:\/\/\S+)/, flags));
  return popsClient(
    pops.map((p) => p.url),
    origin.calls,
    async () => {
      await Promise.all(pops.map((p) => p.stop()));
      origin.stop();
    },
  );
}

function popsClient(urls: string[], originCalls: () => number, stop: () => Promise<void>): Pops {
  return {
    urls,
    originCalls,
    async ask(i, path = "/products/1", body = '{"q":1}') {
      const res = await fetch(new URL(path, urls[i]), {
        method: "POST",
        // Every PoP serves one hostname (the key holds it), as behind anycast: not each its own port.
        headers: { "content-type": "application/json", host: "api.example.test" },
        body,
      });
      const answer = (await res.json()) as { call: number };
      return { status: res.headers.get("cache-status") ?? "", call: answer.call };
    },
    async purgeTag(i, tag) {
      const res = await fetch(new URL("/.postcache/purge", urls[i]), {
        method: "POST",
        headers: { authorization: `Bearer ${POPS_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ tag }),
      });
      await res.arrayBuffer();
      return res.status;
    },
    stop,
  };
}

/** Polls PoP `i` until it answers from the origin (a new call number), bounded by `limitMs`; the ms it took. */
export async function timeToMiss(pops: Pops, i: number, since: number, limitMs: number): Promise<number> {
  const deadline = since + limitMs;
  while (performance.now() < deadline) {
    const { status } = await pops.ask(i);
    if (!/;\s*hit/.test(status)) return performance.now() - since;
    await Bun.sleep(10);
  }
  return Number.POSITIVE_INFINITY;
}
