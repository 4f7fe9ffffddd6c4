/**
 * The Cloudflare Worker example (examples/cloudflare/worker.ts), bundled as the build ships it (ESM),
 * in workerd with a real `caches.default`, in front of the test origin through the ORIGIN binding.
 */
import { expect, test } from "bun:test";
import { type Request as MiniflareRequest, Response as MiniflareResponse } from "miniflare";
import { bundle, startWorkerd, WORKERD_TARGET_FORMS } from "../fixtures/workerd/workerd.ts";
import { e2eSuite } from "./suite.ts";

const ENTRY = "examples/cloudflare/worker.ts";

e2eSuite(
  "cloudflare workers (workerd)",
  async (originUrl) => startWorkerd({ modules: true, script: await bundle(ENTRY, "esm"), bindings: { ORIGIN: originUrl } }),
  { startTimeoutMs: 20_000, runtimeRefuses: WORKERD_TARGET_FORMS },
);

test("without ORIGIN the worker goes on with fetch(request), to the request's own host", async () => {
  const seen: string[] = [];
  const worker = await startWorkerd({
    modules: true,
    script: await bundle(ENTRY, "esm"),
    // Every outbound fetch lands here: the zone's origin, as far as the worker can tell.
    outboundService: async (request: MiniflareRequest) => {
      seen.push(`${request.method} ${request.url} ${await request.text()}`);
      return new MiniflareResponse('{"ok":true}', {
        headers: { "content-type": "application/json", "cache-control": "max-age=60" },
      });
    },
  });
  try {
    const post = () => fetch(`${worker.url}/search`, { method: "POST", body: '{"q":"direct"}' });
    const first = await post();
    expect(first.headers.get("cache-status")).toMatch(/fwd=uri-miss/);
    expect(await first.text()).toBe('{"ok":true}');
    let second = await post();
    for (let i = 0; i < 20 && !/; hit/.test(second.headers.get("cache-status") ?? ""); i++) {
      await second.arrayBuffer();
      await Bun.sleep(50);
      second = await post();
    }
    expect(second.headers.get("cache-status")).toMatch(/; hit/);
    expect(await second.text()).toBe('{"ok":true}');
    expect(seen).toEqual([`POST ${worker.url}/search {"q":"direct"}`]);
  } finally {
    await worker.stop();
  }
}, 20_000);

test("with cacheStorageName, entries go to caches.open(name) as a public 200, not to caches.default", async () => {
  const origin = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () => new Response("teapot", { status: 404, headers: { "cache-control": "max-age=60" } }),
  });
  const worker = await startWorkerd({
    modules: true,
    script: await bundle("test/fixtures/workerd/cloudflare-named-cache.ts", "esm"),
    bindings: { ORIGIN: `http://127.0.0.1:${origin.port}` },
  });
  try {
    const res = await fetch(`${worker.url}/lookup`, { method: "POST", body: "{}" });
    expect(res.status).toBe(404);
    await res.arrayBuffer();
    const key = /key="([^"]+)"/.exec(res.headers.get("cache-status") ?? "")?.[1] ?? "";
    expect(key).toContain("/.postcache/v1/");
    const caches = await worker.miniflare.getCaches();
    const named = await caches.open("postcache-test");
    let stored = await named.match(key);
    for (let i = 0; i < 20 && !stored; i++) {
      await Bun.sleep(50);
      stored = await named.match(key);
    }
    expect(stored?.status).toBe(200);
    expect(stored?.headers.get("cache-control")).toBe("public, max-age=60, s-maxage=60");
    await stored?.arrayBuffer();
    expect(await caches.default.match(key)).toBeUndefined();
  } finally {
    await worker.stop();
    origin.stop(true);
  }
}, 20_000);
