/**
 * Several PoPs, each a real `postcache` command process (Bun) with its own memory store, sharing one
 * purge log in a real redis-server, in front of one counting origin that tags its answers. Used by
 * test/e2e/pops.test.ts and bench/pops.ts.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
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

export async function startPops(
  n: number,
  purgeCheckMs: number,
  scratch: string,
  purgeLog = true,
  sharedTier = false,
): Promise<Pops> {
  let calls = 0;
  const origin = Bun.serve({
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
  const redis = await startRedis();
  const tokenFile = join(scratch, "token");
  writeFileSync(tokenFile, `${POPS_TOKEN}\n`);
  const env = {
    PURGE_REDIS: redis.url,
    PURGE_CHECK_MS: String(purgeCheckMs),
    PURGE_LOG: purgeLog ? "on" : "off",
    SHARED_TIER: sharedTier ? "on" : "off",
  };
  const args = ["--origin", origin.url.href, "--config", "test/fixtures/pops/config.ts", "--admin-token-file", tokenFile];
  const pops = await Promise.all(Array.from({ length: n }, () => startCli(args, env, "bun")));
  const urls = pops.map((p) => p.url);
  return {
    urls,
    originCalls: () => calls,
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
    async stop() {
      await Promise.all(pops.map((p) => p.stop()));
      await redis.stop();
      origin.stop(true);
    },
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
