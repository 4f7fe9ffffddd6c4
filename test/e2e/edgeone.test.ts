/**
 * The EdgeOne entries in workerd, which runs service-worker scripts and has a real `caches.default`
 * (EdgeOne has no local runtime that works offline). Both run without `Response.json`, which EdgeOne
 * lacks.
 * - Edge Functions: examples/edgeone/edge-function.ts bundled as the build ships it (an IIFE, no
 *   import/export) and run as a service-worker script, ORIGIN given as `env.ORIGIN`, the way EdgeOne
 *   exposes environment variables (https://cloud.tencent.com/document/product/1552/109151).
 * - Pages Functions: examples/edgeone/pages/edge-functions/[[default]].ts behind a module wrapper
 *   that calls its `onRequest(context)`.
 */
import { expect, test } from "bun:test";
import { type Request as MiniflareRequest, Response as MiniflareResponse } from "miniflare";
import { bundle, startWorkerd, WITHOUT_RESPONSE_JSON, WORKERD_TARGET_FORMS } from "../fixtures/workerd/workerd.ts";
import { e2eSuite } from "./suite.ts";

const EDGE_FUNCTION = "examples/edgeone/edge-function.ts";
const PAGES = "test/fixtures/workerd/edgeone-pages.ts";

const serviceWorker = async () => WITHOUT_RESPONSE_JSON + (await bundle(EDGE_FUNCTION, "iife"));
const pagesModule = async () => WITHOUT_RESPONSE_JSON + (await bundle(PAGES, "esm"));

e2eSuite(
  "edgeone edge functions (service worker, workerd)",
  async (originUrl) => startWorkerd({ script: await serviceWorker(), bindings: { env: { ORIGIN: originUrl } } }),
  { startTimeoutMs: 20_000, runtimeRefuses: WORKERD_TARGET_FORMS },
);

e2eSuite(
  "edgeone pages functions (onRequest, workerd)",
  async (originUrl) => startWorkerd({ modules: true, script: await pagesModule(), bindings: { ORIGIN: originUrl } }),
  { startTimeoutMs: 20_000, runtimeRefuses: WORKERD_TARGET_FORMS },
);

test("the edge function bundle is a plain script: no import or export", async () => {
  const script = await bundle(EDGE_FUNCTION, "iife");
  expect(script).not.toMatch(/^\s*(import|export)\b/m);
  expect(script).toContain('addEventListener("fetch"');
});

test("edge function without ORIGIN goes on with fetch(request), to the request's own host", async () => {
  const seen: string[] = [];
  const worker = await startWorkerd({
    script: await serviceWorker(),
    outboundService: async (request: MiniflareRequest) => {
      seen.push(`${request.method} ${request.url} ${await request.text()}`);
      return new MiniflareResponse("from the site's origin", { headers: { "cache-control": "max-age=60" } });
    },
  });
  try {
    const res = await fetch(`${worker.url}/search`, { method: "POST", body: '{"q":"direct"}' });
    expect(res.headers.get("cache-status")).toMatch(/fwd=uri-miss/);
    expect(await res.text()).toBe("from the site's origin");
    expect(seen).toEqual([`POST ${worker.url}/search {"q":"direct"}`]);
  } finally {
    await worker.stop();
  }
}, 20_000);

test("pages function without ORIGIN answers 500 and says what to set", async () => {
  const worker = await startWorkerd({ modules: true, script: await pagesModule() });
  try {
    const res = await fetch(`${worker.url}/search`, { method: "POST", body: "{}" });
    expect(res.status).toBe(500);
    expect(await res.text()).toMatch(/ORIGIN/);
  } finally {
    await worker.stop();
  }
}, 20_000);
