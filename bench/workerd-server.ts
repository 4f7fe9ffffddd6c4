/**
 * A Worker in workerd (Cloudflare's runtime, through Miniflare, as test/e2e/cloudflare.test.ts runs it)
 * in front of ORIGIN, with a real `caches.default`: WORKER=postcache runs postcache's Cloudflare example
 * bundled as the build ships it (examples/cloudflare/worker.ts), WORKER=naive the Cloudflare docs'
 * example (bench/naive-worker.js). Requests go to workerd's own socket; Miniflare (this process) is not
 * on their path, so the driver charges CPU to the workerd child only.
 *
 * Run: `WORKER=postcache ORIGIN=http://127.0.0.1:3000 bun bench/workerd-server.ts`; prints `listening on <url>`.
 * `WORKER=path/to/worker.ts` runs that entry instead (bench/workerd-ab.ts compares such copies).
 */
import { join, resolve } from "node:path";
import { bundle, startWorkerd } from "../test/fixtures/workerd/workerd.ts";

const ENTRIES: Record<string, string> = {
  postcache: join(import.meta.dir, "../examples/cloudflare/worker.ts"),
  naive: join(import.meta.dir, "naive-worker.js"),
};
// A path instead of a name runs that entry (a patched copy of the example, to measure a change).
const name = process.env.WORKER ?? "postcache";
const entry = /\.[jt]s$/.test(name) ? resolve(name) : ENTRIES[name];
if (!entry) throw new Error(`[bench] WORKER must be one of ${Object.keys(ENTRIES).join(", ")}, or a .ts/.js entry`);
const worker = await startWorkerd(
  { modules: true, script: await bundle(entry, "esm"), bindings: { ORIGIN: process.env.ORIGIN ?? "http://127.0.0.1:3000" } },
  30_000,
);
const stop = () => worker.stop().finally(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
console.log(`listening on ${worker.url.replace(/\/$/, "")}`);
