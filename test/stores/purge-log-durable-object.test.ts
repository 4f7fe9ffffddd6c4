/**
 * The Durable Object purge log in workerd (Miniflare, a real Durable Object with its storage):
 * test/fixtures/workerd/purge-log-object.ts, whose object has the suite's bounds (10 s, 3 targets).
 */
import { afterAll } from "bun:test";
import { bundle, startWorkerd, type Workerd } from "../fixtures/workerd/workerd.ts";
import { testPurgeLog } from "./purge-log-conformance.ts";
import { remotePurgeLog } from "./purge-log-remote.ts";

let worker: Promise<Workerd> | undefined;
function workerd(): Promise<Workerd> {
  worker ??= (async () =>
    startWorkerd({
      modules: true,
      script: await bundle("test/fixtures/workerd/purge-log-object.ts", "esm"),
      durableObjects: { PURGES: "PurgeLogObject" },
    }))();
  return worker;
}
afterAll(async () => {
  await (await worker)?.stop();
});

testPurgeLog("durable-object (workerd)", {
  create: async (clock) => remotePurgeLog((await workerd()).url, clock, {}, "durable-object"),
  // The object's bounds are fixed in the fixture; the suite's own cases use no others.
});
