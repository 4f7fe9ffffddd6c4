/**
 * The Deno KV purge log on real Deno KV: `deno serve --unstable-kv` of test/fixtures/deno/purge-log-kv.ts,
 * over a KV file in a scratch dir, driven through HTTP. KV cannot count cheaply, so the log is bounded
 * by retention (expireIn) alone: the maxTargets case does not apply.
 */
import { afterAll } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { PurgeLog, PurgeState } from "../../core/purge-log.ts";
import { freePort, startProcess } from "../e2e/process.ts";
import { bundle, DENO } from "../fixtures/deno/deno.ts";
import type { TestClock } from "./conformance.ts";
import { testPurgeLog } from "./purge-log-conformance.ts";

const dir = mkdtempSync(join(resolve(".scratch"), "purge-kv-"));
let server: ReturnType<typeof startProcess> | undefined;
function deno() {
  server ??= (async () => {
    const script = join(dir, "main.js");
    writeFileSync(script, await bundle("test/fixtures/deno/purge-log-kv.ts"));
    mkdirSync(join(dir, "kv"));
    const kvPath = join(dir, "kv", "purges.sqlite");
    const port = String(await freePort());
    return startProcess(
      [
        DENO,
        "serve",
        "--quiet",
        "--no-prompt",
        "--unstable-kv",
        "--allow-net=127.0.0.1",
        "--allow-env=DENO_KV_PATH",
        `--allow-read=${dir}`,
        `--allow-write=${dir}`,
        "--host=127.0.0.1",
        `--port=${port}`,
        script,
      ],
      { DENO_KV_PATH: kvPath, NO_COLOR: "1", PORT: port },
      /listening on (http:\/\/\S+)/,
      20_000,
    );
  })();
  return server;
}
afterAll(async () => {
  await (await server)?.stop();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
function remoteLog(url: string, clock: TestClock, bounds: object): PurgeLog {
  const prefix = `p${n++}-${Date.now()}`;
  async function call(body: object): Promise<unknown> {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-test-now": String(clock.ms) },
      body: JSON.stringify({ prefix, bounds, ...body }),
    });
    const json = (await res.json()) as { error?: string };
    if (!res.ok) throw new Error(`[deno-kv] ${json.error}`);
    return json;
  }
  return {
    name: "deno-kv",
    record: async (target, at) => void (await call({ op: "record", target, at })),
    read: async () => (await call({ op: "read" })) as PurgeState,
  };
}

testPurgeLog("deno-kv (real Deno KV)", {
  create: async (clock, bounds) => remoteLog((await deno()).url, clock, bounds),
  maxTargets: false,
});
