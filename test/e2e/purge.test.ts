/**
 * Targeted purge end to end, in workerd with a real `caches.default`: the Cloudflare adapter with the
 * admin endpoints on (test/fixtures/workerd/cloudflare-purge.ts), in front of an origin that tags its
 * answers with `Cache-Tag` and `Surrogate-Key`. Tagged answers are HITs; a purge by tag with the bearer
 * token removes exactly those (through the Cache API store's tag index); a wrong token is a 401.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { PURGE_TEST_TOKEN } from "../fixtures/workerd/purge-token.ts";
import { bundle, startWorkerd, type Workerd } from "../fixtures/workerd/workerd.ts";

/** Tags per path, as the origin sends them. */
const TAGS: Record<string, Record<string, string>> = {
  "/products/1": { "cache-tag": "product:1, catalog" },
  "/products/2": { "cache-tag": "product:2,catalog" },
  "/users": { "surrogate-key": "users team:7" },
};

let origin: ReturnType<typeof Bun.serve> | undefined;
let worker: Workerd | undefined;
const calls = new Map<string, number>();

beforeAll(async () => {
  origin = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      const path = new URL(request.url).pathname;
      const n = (calls.get(path) ?? 0) + 1;
      calls.set(path, n);
      return Response.json({ path, call: n }, { headers: { "cache-control": "public, max-age=300", ...(TAGS[path] ?? {}) } });
    },
  });
  worker = await startWorkerd({
    modules: true,
    script: await bundle("test/fixtures/workerd/cloudflare-purge.ts", "esm"),
    bindings: { ORIGIN: `http://127.0.0.1:${origin.port}` },
  });
}, 20_000);

afterAll(async () => {
  await worker?.stop();
  origin?.stop(true);
});

function url(path: string): string {
  if (!worker) throw new Error("workerd did not start");
  return worker.url + path;
}

async function ask(path: string): Promise<{ status: string; call: number }> {
  const response = await fetch(url(path), {
    method: "POST",
    body: '{"q":"lamp"}',
    headers: { "content-type": "application/json" },
  });
  const body = (await response.json()) as { call: number };
  return { status: response.headers.get("cache-status") ?? "", call: body.call };
}

/** Asks until a HIT (the cache write finishes in waitUntil, after the answer), briefly. */
async function untilHit(path: string): Promise<{ status: string; call: number }> {
  let last = await ask(path);
  for (let i = 0; i < 20 && !/; hit/.test(last.status); i++) {
    await Bun.sleep(50);
    last = await ask(path);
  }
  return last;
}

function purge(body: unknown, token = PURGE_TEST_TOKEN): Promise<Response> {
  return fetch(url("/.postcache/purge"), {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
    // A refusal does not read the request body; workerd's local server then drops the connection at
    // times, and Bun's fetch would reuse it for the next request (ECONNRESET). Not one to reuse.
    keepalive: token === PURGE_TEST_TOKEN,
  });
}

describe("purge by tag through the admin endpoint (Cloudflare adapter, workerd)", () => {
  test("tagged answers are HITs; a purge of one tag removes exactly those; a wrong token is 401", async () => {
    for (const path of Object.keys(TAGS)) {
      expect((await ask(path)).status).toMatch(/fwd=uri-miss; fwd-status=200; stored/);
      expect((await untilHit(path)).status).toMatch(/; hit/);
    }

    const wrong = await purge({ tag: "product:1" }, "not-the-token-at-all");
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect((await wrong.json()) as object).toMatchObject({ status: 401 });
    const missing = await fetch(url("/.postcache/purge"), { method: "POST", body: '{"tag":"product:1"}', keepalive: false });
    expect(missing.status).toBe(401);
    expect((await ask("/products/1")).status).toMatch(/; hit/);

    const one = await purge({ tag: "product:1" });
    expect(one.status).toBe(200);
    expect(await one.json()).toEqual({ purged: { tags: { "product:1": 1 } } });
    const after = await ask("/products/1");
    expect(after.status).toMatch(/fwd=uri-miss/);
    expect(after.call).toBe(2);
    expect((await ask("/products/2")).status).toMatch(/; hit/);
    expect((await ask("/users")).status).toMatch(/; hit/);

    // A shared tag reaches every entry carrying it (/products/1 is stored again by now).
    expect((await untilHit("/products/1")).call).toBe(2);
    const catalog = await purge({ tags: ["catalog", "product:9"] });
    expect(await catalog.json()).toEqual({ purged: { tags: { catalog: 2, "product:9": 0 } } });
    expect((await ask("/products/2")).status).toMatch(/fwd=uri-miss/);
    expect((await ask("/users")).status).toMatch(/; hit/);

    // Surrogate-Key tags too, then everything (ALL_TAG, through its index).
    expect(await (await purge({ tag: "team:7" })).json()).toEqual({ purged: { tags: { "team:7": 1 } } });
    expect((await ask("/users")).status).toMatch(/fwd=uri-miss/);
    for (const path of Object.keys(TAGS)) await untilHit(path);
    const all = (await (await purge({ all: true })).json()) as { purged: { tags: Record<string, number> } };
    expect(Object.values(all.purged.tags)).toEqual([3]);
    for (const path of Object.keys(TAGS)) expect((await ask(path)).status).toMatch(/fwd=uri-miss/);
    expect(calls.get("/users")).toBe(3);
  }, 20_000);

  test("stats need the token too, and name the store", async () => {
    expect((await fetch(url("/.postcache/stats"))).status).toBe(401);
    const stats = await fetch(url("/.postcache/stats"), { headers: { authorization: `Bearer ${PURGE_TEST_TOKEN}` } });
    expect(stats.status).toBe(200);
    expect(await stats.json()).toMatchObject({ store: "cache-api" });
  });
});
