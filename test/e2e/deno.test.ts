/**
 * The Deno server example (examples/deno/main.ts), bundled as the build ships it (ESM), run by
 * `deno serve` with precise permissions, in front of the test origin through ORIGIN. Its cache is
 * Deno's Cache API, which outlives the process: a restarted server answers from it.
 */
import { afterAll, expect, test } from "bun:test";
import { postcacheDeno } from "../../adapters/deno.ts";
import { memoryStore } from "../../core/index.ts";
import { type DenoServer, startDeno } from "../fixtures/deno/deno.ts";
import { startTestOrigin, type TestOrigin } from "./origin.ts";
import { e2eSuite } from "./suite.ts";

const ENTRY = "examples/deno/main.ts";
const READY = /postcache listening on (http:\/\/\S+?),/;

e2eSuite("deno serve", (originUrl) => startDeno(ENTRY, { ORIGIN: originUrl }, READY), { startTimeoutMs: 25_000 });

let origin: TestOrigin | undefined;
let server: DenoServer | undefined;
afterAll(async () => {
  await server?.stop();
  await origin?.stop();
});

test("a restarted server answers from Deno's Cache API, without the origin", async () => {
  origin = await startTestOrigin();
  server = await startDeno(ENTRY, { ORIGIN: origin.url }, READY);
  const body = JSON.stringify({ query: "restart", at: Date.now() });
  const post = () => fetch(`${server?.url}/search`, { method: "POST", body, headers: { "content-type": "application/json" } });

  const first = await post();
  expect(first.headers.get("cache-status")).toMatch(/fwd=uri-miss; fwd-status=200; stored/);
  const answer = await first.json();
  // The write finishes in the background; wait until the running server serves it.
  let hit = await post();
  for (let i = 0; i < 20 && !/; hit\b/.test(hit.headers.get("cache-status") ?? ""); i++) {
    await hit.arrayBuffer();
    await Bun.sleep(50);
    hit = await post();
  }
  await hit.arrayBuffer();

  server = await server.restart();
  const again = await post();
  expect(again.headers.get("cache-status")).toMatch(/; hit\b/);
  expect(await again.json()).toEqual(answer);
  expect(origin.calls("POST", "/search", body)).toBe(1);
}, 20_000);

test("with a memory store the adapter needs no Cache API (Bun has none)", async () => {
  const local = await startTestOrigin();
  try {
    const { fetch: handle } = postcacheDeno({ origin: local.url, store: memoryStore() });
    const body = JSON.stringify({ query: "memory" });
    const post = () => handle(new Request("http://127.0.0.1:8000/search", { method: "POST", body }));
    expect((await post()).headers.get("cache-status")).toMatch(/fwd=uri-miss/);
    let again = await post();
    for (let i = 0; i < 20 && !/; hit\b/.test(again.headers.get("cache-status") ?? ""); i++) {
      await Bun.sleep(10);
      again = await post();
    }
    expect(again.headers.get("cache-status")).toMatch(/; hit\b/);
    expect(local.calls("POST", "/search", body)).toBe(1);
  } finally {
    await local.stop();
  }
});
