/**
 * A shared tier on Cloudflare, for real in workerd: two Worker instances (two Miniflare instances, so
 * two workerd processes) each with its own Cache API storage, as two PoPs have, sharing one Workers KV
 * (one KV persistence dir, which Miniflare keeps in SQLite that both processes open), each running
 * `tieredStore({ local: cacheApiStore(), shared: cloudflareKvStore() })` (test/fixtures/workerd/tiered-kv.ts).
 * A body answered at one is a hit at the other without the origin; a third PoP on a KV of its own is the
 * control: there it is a miss. Local KV is consistent at once; on Cloudflare a write takes up to ~60 s to
 * reach other locations (docs/purge.md).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { bundle, startWorkerd, type Workerd } from "../fixtures/workerd/workerd.ts";

mkdirSync(".scratch", { recursive: true });
const scratch = mkdtempSync(join(resolve(".scratch"), "tiered-kv-"));
let calls = 0;
const origin = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: async (request) => {
    calls++;
    return Response.json({ echo: await request.text() }, { headers: { "cache-control": "max-age=300" } });
  },
});
let pops: Workerd[] = [];
beforeAll(async () => {
  const script = await bundle("test/fixtures/workerd/tiered-kv.ts", "esm");
  const pop = (cache: string, kv: string) =>
    startWorkerd({
      modules: true,
      script,
      kvNamespaces: ["POSTCACHE"],
      kvPersist: join(scratch, kv),
      cachePersist: join(scratch, cache),
      bindings: { ORIGIN: `http://127.0.0.1:${origin.port}` },
    });
  pops = [await pop("cache-a", "kv"), await pop("cache-b", "kv"), await pop("cache-c", "kv-own")];
}, 30_000);
afterAll(async () => {
  await Promise.all(pops.map((p) => p.stop()));
  origin.stop(true);
  rmSync(scratch, { recursive: true, force: true });
});

/** Every PoP serves one hostname (the key holds it), as behind anycast. */
async function ask(pop: Workerd, body: string): Promise<{ status: string; body: string }> {
  const res = await fetch(`${pop.url}/search`, { method: "POST", body, headers: { host: "api.example.test" } });
  return { status: res.headers.get("cache-status") ?? "", body: await res.text() };
}

/** Waits (bounded) until the shared KV holds `count` keys: the tier's write finishes after the answer. */
async function kvHolds(pop: Workerd, count: number): Promise<number> {
  const kv = await pop.miniflare.getKVNamespace("POSTCACHE");
  let held = 0;
  for (let i = 0; i < 100 && held < count; i++) {
    held = (await kv.list()).keys.length;
    if (held < count) await Bun.sleep(50);
  }
  return held;
}

test("a body answered at one PoP is a hit at another PoP that shares the KV, and a miss at one that does not", async () => {
  const [a, b, c] = pops as [Workerd, Workerd, Workerd];
  const body = `{"q":"shared-${Date.now()}"}`;
  const first = await ask(a, body);
  expect(first.status).toMatch(/fwd=uri-miss/);
  expect(await kvHolds(a, 1)).toBe(1);
  const there = await ask(b, body);
  expect(there.status).toMatch(/;\s*hit/);
  expect(there.body).toBe(first.body);
  expect(calls).toBe(1);
  // The shared hit filled B's own cache: with the KV emptied, B still answers it.
  const kv = await a.miniflare.getKVNamespace("POSTCACHE");
  for (const { name } of (await kv.list()).keys) await kv.delete(name);
  await Bun.sleep(500);
  expect((await ask(b, body)).status).toMatch(/;\s*hit/);
  expect(calls).toBe(1);
  // The control: same script, same hostname, a KV of its own.
  expect((await ask(c, body)).status).toMatch(/fwd=uri-miss/);
  expect(calls).toBe(2);
}, 30_000);
