/**
 * postcache/client against the Cloudflare Worker example, bundled as shipped, in workerd: the kept
 * body lives in the Cache API there (`caches.default`), written in `ctx.waitUntil` after the answer.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { createPostcacheClient } from "../../core/client.ts";
import { startTestOrigin, type TestOrigin } from "../e2e/origin.ts";
import { bundle, startWorkerd, type Workerd } from "../fixtures/workerd/workerd.ts";
import { HIT, jsonBody, recorder } from "./edge.ts";

let origin: TestOrigin;
let worker: Workerd;
beforeAll(async () => {
  origin = await startTestOrigin();
  worker = await startWorkerd({
    modules: true,
    script: await bundle("examples/cloudflare/worker.ts", "esm"),
    bindings: { ORIGIN: origin.url },
  });
}, 20_000);
afterAll(async () => {
  await worker?.stop();
  await origin?.stop();
});

test("workerd: 412 then the full body once; later a fresh client's digest alone is a HIT", async () => {
  const body = jsonBody("workerd");
  const sha = createHash("sha256").update(body).digest();
  const digest = `sha-256=:${sha.toString("base64")}:`;
  const headers = { "content-type": "application/json" };
  const url = `${worker.url}/search`;

  const first = recorder();
  const res = await createPostcacheClient({ fetch: first.fetch })(url, { method: "POST", body, headers });
  const answer = await res.text();
  expect(res.status).toBe(200);
  expect(first.log.map((e) => [e.status, e.bodyBytes])).toEqual([
    [412, 0],
    [200, body.length],
  ]);

  // The body and the answer are written in waitUntil, after the response: wait until both are there.
  const probe = () =>
    fetch(url, { method: "POST", headers: { ...headers, "content-digest": digest, "postcache-body": "omitted" } });
  let ready = await probe();
  for (let i = 0; i < 40 && !HIT.test(ready.headers.get("cache-status") ?? ""); i++) {
    await ready.arrayBuffer();
    await Bun.sleep(50);
    ready = await probe();
  }
  await ready.arrayBuffer();
  const kept = await (await worker.miniflare.getCaches()).default.match(
    `${worker.url}/.postcache/v1/body/${sha.toString("hex")}`,
  );
  expect(kept?.status).toBe(200);
  await kept?.arrayBuffer();

  const fresh = recorder();
  const hit = await createPostcacheClient({ fetch: fresh.fetch })(url, { method: "POST", body, headers });
  expect(hit.status).toBe(200);
  expect(hit.headers.get("cache-status")).toMatch(HIT);
  expect(await hit.text()).toBe(answer);
  expect(fresh.log).toHaveLength(1);
  expect(fresh.log[0]).toMatchObject({ bodyBytes: 0, status: 200, headers: { "postcache-body": "omitted" } });
  expect(origin.calls("POST", "/search", body)).toBe(1);
}, 20_000);
