/**
 * The Workers KV purge log in workerd, on Miniflare's local KV (test/fixtures/workerd/purge-log-kv.ts).
 * Local KV is consistent at once; the real one's ~60 s propagation is documented, not tested here.
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
      script: await bundle("test/fixtures/workerd/purge-log-kv.ts", "esm"),
      kvNamespaces: ["PURGES"],
    }))();
  return worker;
}
afterAll(async () => {
  await (await worker)?.stop();
});

testPurgeLog("cloudflare-kv (workerd, local KV)", {
  create: async (clock, bounds) => remotePurgeLog((await workerd()).url, clock, bounds, "cloudflare-kv"),
  maxTargets: false,
});
