/**
 * A shared tier on Deno, for real: three `deno serve` processes, each with its own Cache API (its own
 * TMPDIR), running `tieredStore({ local: the Cache API, shared: denoKvStore() })`
 * (test/fixtures/deno/tiered-kv.ts). Two open one Deno KV file (DENO_KV_PATH), the third a file of its
 * own: a body answered at the first is a hit at the second without the origin, and a miss at the third.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { bundle, DENO } from "../fixtures/deno/deno.ts";
import { freePort, startProcess } from "./process.ts";
import type { RunningTarget } from "./suite.ts";

mkdirSync(".scratch", { recursive: true });
const dir = mkdtempSync(join(resolve(".scratch"), "tiered-deno-"));
let calls = 0;
const origin = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: async (request) => {
    calls++;
    return Response.json({ echo: await request.text() }, { headers: { "cache-control": "max-age=300" } });
  },
});
let pops: RunningTarget[] = [];

async function pop(script: string, name: string, kvFile: string): Promise<RunningTarget> {
  const tmp = join(dir, name);
  mkdirSync(tmp);
  const port = String(await freePort());
  return startProcess(
    [
      DENO,
      "serve",
      "--quiet",
      "--no-prompt",
      "--unstable-kv",
      "--allow-net=127.0.0.1",
      "--allow-env=DENO_KV_PATH,ORIGIN",
      `--allow-read=${dir}`,
      `--allow-write=${dir}`,
      "--host=127.0.0.1",
      `--port=${port}`,
      script,
    ],
    { DENO_KV_PATH: join(dir, kvFile), ORIGIN: `http://127.0.0.1:${origin.port}`, TMPDIR: tmp, NO_COLOR: "1", PORT: port },
    /listening on (http:\/\/\S+)/,
    20_000,
  );
}

beforeAll(async () => {
  const script = join(dir, "main.js");
  writeFileSync(script, await bundle("test/fixtures/deno/tiered-kv.ts"));
  pops = await Promise.all([
    pop(script, "a", "shared.sqlite"),
    pop(script, "b", "shared.sqlite"),
    pop(script, "c", "own.sqlite"),
  ]);
}, 60_000);
afterAll(async () => {
  await Promise.all(pops.map((p) => p.stop()));
  origin.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

/** Every PoP serves one hostname (the key holds it), as behind anycast. */
async function ask(target: RunningTarget, body: string): Promise<{ status: string; body: string }> {
  const res = await fetch(`${target.url}/search`, { method: "POST", body, headers: { host: "api.example.test" } });
  return { status: res.headers.get("cache-status") ?? "", body: await res.text() };
}

/** Waits (bounded) until the KV behind `target` holds at least `count` keys. */
async function kvHolds(target: RunningTarget, count: number): Promise<number> {
  let held = 0;
  for (let i = 0; i < 100 && held < count; i++) {
    held = Number(await (await fetch(`${target.url}/kv-keys`)).json());
    if (held < count) await Bun.sleep(50);
  }
  return held;
}

test("a body answered at one process is a hit at another on the same KV file, and a miss at one on its own", async () => {
  const [a, b, c] = pops as [RunningTarget, RunningTarget, RunningTarget];
  const body = `{"q":"shared-${Date.now()}"}`;
  const first = await ask(a, body);
  expect(first.status).toMatch(/fwd=uri-miss/);
  expect(await kvHolds(b, 1)).toBe(1);
  const there = await ask(b, body);
  expect(there.status).toMatch(/;\s*hit/);
  expect(there.body).toBe(first.body);
  expect(calls).toBe(1);
  expect((await ask(c, body)).status).toMatch(/fwd=uri-miss/);
  expect(calls).toBe(2);
}, 30_000);
