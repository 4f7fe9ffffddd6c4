/** `npm start` as a user runs it: the Bun server in front of the demo origin, MISS then HIT. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startProcess } from "./process.ts";
import type { RunningTarget } from "./suite.ts";

let server: RunningTarget;

beforeAll(async () => {
  server = await startProcess([process.execPath, "examples/bun/server.ts"], { ORIGIN: "" }, /listening on (http:\/\/\S+?),/);
});
afterAll(() => server?.stop());

test("the banner's curl: MISS (slow origin), then HIT (fast), same bytes; a mutation bypasses", async () => {
  const send = (path: string, body: string) =>
    fetch(server.url + path, { method: "POST", headers: { "content-type": "application/json" }, body });
  let started = performance.now();
  const miss = await send("/search", '{"query":"lamp"}');
  const missBody = await miss.text();
  const missMs = performance.now() - started;
  expect(miss.headers.get("cache-status")).toBe("postcache; fwd=uri-miss; fwd-status=200; stored");
  expect(JSON.parse(missBody).results).toHaveLength(5);
  expect(missMs).toBeGreaterThanOrEqual(140); // the demo origin's ~150 ms
  started = performance.now();
  const hit = await send("/search", '{"query":"lamp"}');
  expect(hit.headers.get("cache-status")).toMatch(/^postcache; hit; ttl=\d+$/);
  expect(await hit.text()).toBe(missBody);
  const bypass = await send("/cart/add", '{"sku":"lamp-1"}');
  expect(bypass.headers.get("cache-status")).toBe("postcache; fwd=bypass; detail=mutation");
  const banner = await (await fetch(server.url)).text();
  expect(banner).toMatch(/demo origin/);
});
