/**
 * The Netlify edge function (examples/netlify), bundled as the build ships it (ESM), under Netlify's
 * local emulation (@netlify/dev: the production edge bootstrap in Deno 2.8, one Worker per request,
 * run from Node 22 by test/fixtures/netlify/launcher.mjs, which also stands in for Netlify's cache
 * service). Two ways to reach the origin, one suite each:
 * - ORIGIN set: the function forwards every request there;
 * - no ORIGIN: the example's netlify.toml proxy rule points at the test origin, and the function
 *   reaches it through `context.next(request)` with the body it already read.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { bundleAs } from "./bundle.ts";
import { startProcess } from "./process.ts";
import { e2eSuite, type RunningTarget } from "./suite.ts";

const NODE = "node_modules/node/bin/node";
const BIN = resolve("node_modules/.bin");
const SCRATCH = resolve(".scratch/netlify-deno");

/** dist/netlify/postcache.js: the edge function bundled with the build's own settings, `config` included. */
function bundleEdgeFunction(): Promise<string> {
  return bundleAs("netlify", "examples/netlify/netlify/edge-functions/postcache.ts");
}

/** A site: the example's netlify.toml, edited by `toml`, and the bundled edge function. */
async function startNetlify(toml: (example: string) => string): Promise<RunningTarget> {
  mkdirSync(SCRATCH, { recursive: true });
  const site = mkdtempSync(join(SCRATCH, "site-"));
  try {
    mkdirSync(join(site, "netlify/edge-functions"), { recursive: true });
    mkdirSync(join(site, "public"));
    writeFileSync(join(site, "netlify/edge-functions/postcache.js"), await bundleEdgeFunction());
    writeFileSync(join(site, "netlify.toml"), toml(readFileSync("examples/netlify/netlify.toml", "utf8")));
    const target = await startProcess(
      [NODE, "test/fixtures/netlify/launcher.mjs"],
      { SITE_DIR: site, PATH: `${BIN}:${process.env.PATH}` },
      /listening on (http:\/\/\S+)/,
      20_000,
    );
    // The first request boots Deno and loads the function (a second or two): do it here, within the
    // start timeout, rather than inside the first test.
    try {
      await (await fetch(`${target.url}/`, { signal: AbortSignal.timeout(20_000) })).arrayBuffer();
    } catch (error) {
      await target.stop();
      throw error;
    }
    return {
      url: target.url,
      stop: async () => {
        await target.stop();
        rmSync(site, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(site, { recursive: true, force: true });
    throw error;
  }
}

const PROXY_TARGET = "https://api.example.com";
/** @netlify/dev-utils 4 (`toWebRequest`) builds the request URL with `new URL(req.url, "http://" + host)`, so
 * a target of `//h/x` becomes host h and path /x before the edge function runs; Netlify's edge does not. */
const DEV_RESOLVES_TARGET = { "leading-slashes": "@netlify/dev resolves the target as a URL reference" };
/** The same `new Request(...)` throws for a Host with credentials (`a@b`): the launcher's 500, before the function. */
const DEV_FAILS = { "bad-host": "@netlify/dev cannot build a Request for some Host values" };

e2eSuite(
  "netlify edge functions (@netlify/dev), ORIGIN set",
  (originUrl) =>
    startNetlify((example) => {
      // No proxy rule: every request reaches the function, which forwards it to ORIGIN. Locally
      // @netlify/dev reads [build.environment]; on Netlify, ORIGIN is set in the UI or CLI.
      const withoutProxy = example.slice(0, example.indexOf("[[redirects]]"));
      return `${withoutProxy}\n[build.environment]\n  ORIGIN = "${originUrl}"\n`;
    }),
  { startTimeoutMs: 25_000, runtimeRewritesPath: DEV_RESOLVES_TARGET, runtimeRefuses: DEV_FAILS },
);

e2eSuite(
  "netlify edge functions (@netlify/dev), origin through context.next() and the proxy rule",
  (originUrl) =>
    startNetlify((example) => {
      if (!example.includes(PROXY_TARGET)) throw new Error(`examples/netlify/netlify.toml no longer proxies to ${PROXY_TARGET}`);
      return example.replace(PROXY_TARGET, originUrl);
    }),
  {
    startTimeoutMs: 25_000,
    // The proxy rule's `:splat` is the decoded path, so `%2F` reaches the origin as `/`: the rule's doing.
    // The rule also re-encodes the query (`//` as `%2F%2F`).
    runtimeRewritesPath: {
      ...DEV_RESOLVES_TARGET,
      "encoded-slashes": "the rule decodes :splat",
      query: "the rule re-encodes the query",
    },
    runtimeRefuses: DEV_FAILS,
  },
);
