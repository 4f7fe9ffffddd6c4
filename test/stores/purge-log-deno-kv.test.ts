/**
 * The Deno KV purge log on real Deno KV: `deno serve --unstable-kv` of test/fixtures/deno/purge-log-kv.ts,
 * over a KV file in a scratch dir, driven through HTTP. KV cannot count cheaply, so the log is bounded
 * by retention (expireIn) alone: the maxTargets case does not apply.
 */
import { afterAll } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { freePort, startProcess } from "../e2e/process.ts";
import { bundle, DENO } from "../fixtures/deno/deno.ts";
import { testPurgeLog } from "./purge-log-conformance.ts";
import { remotePurgeLog } from "./purge-log-remote.ts";

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

testPurgeLog("deno-kv (real Deno KV)", {
  create: async (clock, bounds) => remotePurgeLog((await deno()).url, clock, bounds, "deno-kv"),
  maxTargets: false,
});
