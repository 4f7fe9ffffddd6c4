/**
 * The Vercel middleware (examples/vercel) in Vercel's Edge Runtime. The entry is bundled with the
 * build's own settings (ESM, browser platform, the slimmed @vercel/functions), bundled again as Vercel's builder does for
 * middleware (CommonJS), and served by the `edge-runtime` package under Node 22, where the Runtime
 * Cache is its in-memory fallback. Two ways to reach the origin, one suite each:
 * - ORIGIN set: the middleware forwards every request there;
 * - no ORIGIN: the test origin stands in for the deployment's own routes, which the runner reaches
 *   when the middleware answers `next()`, as the platform does; POSTs re-enter the middleware.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { bundleAs } from "./bundle.ts";
import { startProcess } from "./process.ts";
import { e2eSuite, type RunningTarget } from "./suite.ts";

const NODE = "node_modules/node/bin/node";

/** dist/vercel/middleware.js, bundled with the build's own settings for the target. */
function bundleMiddleware(): Promise<string> {
  return bundleAs("vercel", "examples/vercel/middleware.ts");
}

async function startEdgeRuntime(env: { ORIGIN: string; DEPLOYMENT?: string }): Promise<RunningTarget> {
  const dir = mkdtempSync(join(tmpdir(), "postcache-vercel-"));
  try {
    const esm = join(dir, "middleware.js");
    writeFileSync(esm, await bundleMiddleware());
    const cjs = await build({
      entryPoints: [esm],
      bundle: true,
      format: "cjs",
      platform: "browser",
      write: false,
      logLevel: "error",
    });
    const script = join(dir, "edge.js");
    writeFileSync(script, cjs.outputFiles[0].text);
    const target = await startProcess(
      [NODE, "test/fixtures/vercel/serve.mjs"],
      { ...env, EDGE_SCRIPT: script },
      /listening on (http:\/\/\S+?),/,
      15_000,
    );
    return {
      url: target.url,
      stop: async () => {
        await target.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** edge-runtime's local server (4.0) builds the request URL with `new URL(req.url, "http://" + host)`, so a
 * target of `//h/x` becomes host h and path /x before the middleware runs. Vercel's own edge does not run it. */
const EDGE_RUNTIME_SLASHES = "edge-runtime's local server resolves the target as a URL reference";
/** The same server cannot make a Request for some Host values (`a@b`: a URL with credentials; `a#b`),
 * and answers an empty 200 or nothing before the middleware runs. */
const EDGE_RUNTIME_HOSTS = { "bad-host": "edge-runtime's local server cannot build a Request for it" };

e2eSuite("vercel middleware, ORIGIN set (edge-runtime)", (originUrl) => startEdgeRuntime({ ORIGIN: originUrl }), {
  startTimeoutMs: 20_000,
  runtimeRewritesPath: { "leading-slashes": EDGE_RUNTIME_SLASHES },
  runtimeRefuses: EDGE_RUNTIME_HOSTS,
});

e2eSuite(
  "vercel middleware, no ORIGIN: in front of the deployment (edge-runtime)",
  (originUrl) => startEdgeRuntime({ ORIGIN: "", DEPLOYMENT: originUrl }),
  // Without ORIGIN the middleware fetches its own deployment: the request's host is the destination.
  { startTimeoutMs: 20_000, forwardsToOrigin: false },
);
