/**
 * postcache/hono in a Hono app (test/fixtures/hono), run by four real runtimes, each passing the shared
 * e2e suite: Bun (Bun.serve, memory store), Node (@hono/node-server, memory store), Deno (`deno serve`,
 * Deno's Cache API) and workerd (a Cloudflare Worker, `caches.default` and `waitUntil` from Hono's
 * execution context). The app's own route is the origin the middleware reaches with `next()`.
 */
import { startDeno } from "../fixtures/deno/deno.ts";
import { bundle, startWorkerd, WORKERD_TARGET_FORMS } from "../fixtures/workerd/workerd.ts";
import { systemNode } from "../package/scratch.ts";
import { bundledForNode } from "./node-server.ts";
import { startProcess } from "./process.ts";
import { e2eSuite } from "./suite.ts";

const READY = /hono listening on (http:\/\/\S+?),/;

e2eSuite(
  "hono under Bun",
  (origin) => startProcess([process.execPath, "test/fixtures/hono/bun.ts"], { ORIGIN: origin }, READY, 15_000),
  {
    startTimeoutMs: 20_000,
  },
);

e2eSuite(
  "hono under Node (@hono/node-server)",
  async (origin) =>
    startProcess([systemNode(), await bundledForNode("test/fixtures/hono/node.ts")], { ORIGIN: origin }, READY, 15_000),
  { startTimeoutMs: 20_000 },
);

e2eSuite("hono under Deno (deno serve)", (origin) => startDeno("test/fixtures/hono/deno.ts", { ORIGIN: origin }, READY), {
  startTimeoutMs: 25_000,
});

e2eSuite(
  "hono in workerd (a Cloudflare Worker)",
  async (origin) =>
    startWorkerd({ modules: true, script: await bundle("test/fixtures/hono/worker.ts", "esm"), bindings: { ORIGIN: origin } }),
  { startTimeoutMs: 20_000, runtimeRefuses: WORKERD_TARGET_FORMS },
);
