/**
 * postcache/node as the last middleware of an Express 5 app (test/fixtures/express), run by the machine's
 * Node: the shared e2e suite through it, and the app's own routes still answered by Express.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { systemNode } from "../package/scratch.ts";
import { bundledForNode } from "./node-server.ts";
import { startTestOrigin, type TestOrigin } from "./origin.ts";
import { startProcess } from "./process.ts";
import { e2eSuite, type RunningTarget } from "./suite.ts";

const READY = /express listening on (http:\/\/\S+?),/;
const startExpress = async (origin: string) =>
  startProcess([systemNode(), await bundledForNode("test/fixtures/express/server.ts")], { ORIGIN: origin }, READY, 15_000);

e2eSuite("express app (postcache/node as middleware)", startExpress, { startTimeoutMs: 20_000 });

let origin: TestOrigin;
let app: RunningTarget;
beforeAll(async () => {
  origin = await startTestOrigin();
  app = await startExpress(origin.url);
}, 20_000);
afterAll(async () => {
  await app?.stop();
  await origin?.stop();
});

test("the app's own routes come first: Express answers them, the origin never sees them", async () => {
  const res = await fetch(`${app.url}/express/health`);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ ok: true, by: "express" });
  expect(origin.calls("GET", "/express/health")).toBe(0);
});
