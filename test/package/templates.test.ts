/**
 * Each examples/<provider>/ as a user copies it: the folder alone, with the packed postcache installed
 * in its node_modules (the tarball has no dependencies, so that is all `npm install` would add), built
 * or run by the provider's own tooling where that works offline, else by the exact command its
 * package.json and README give, then a MISS then HIT through what that produced:
 * - Cloudflare: `wrangler deploy --dry-run --outdir` (Node 22), its output run in workerd;
 * - Netlify: the TypeScript source as shipped, under Netlify's own @netlify/dev (it bundles the function
 *   and its npm imports with Deno, offline);
 * - Vercel: there is no offline Vercel build (the CLI needs a linked project), so the source's `config`
 *   is checked to be the literal Vercel reads, and the middleware is bundled with esbuild from the copy,
 *   then served by Vercel's Edge Runtime;
 * - EdgeOne: no offline EdgeOne tooling: the package.json `build` scripts (esbuild) the README tells the
 *   user to run, their output run in workerd without Response.json;
 * - Deno: `deno serve main.ts` as shipped, npm packages from node_modules;
 * - Bun: `bun server.ts` as shipped.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { freePort, runToEnd, startProcess } from "../e2e/process.ts";
import type { RunningTarget } from "../e2e/suite.ts";
import { startWorkerd, WITHOUT_RESPONSE_JSON } from "../fixtures/workerd/workerd.ts";
import { APP, BIN, mustRun, NODE22, packAndInstall, ROOT, SCRATCH } from "./scratch.ts";

const TEMPLATES = join(SCRATCH, "templates");
let origin: ReturnType<typeof Bun.serve>;
let originUrl: string;
let calls = 0;

beforeAll(async () => {
  await packAndInstall();
  rmSync(TEMPLATES, { recursive: true, force: true });
  mkdirSync(TEMPLATES, { recursive: true });
  // Bun and esbuild read the nearest tsconfig.json: this one, not the repository's (whose paths map
  // postcache to the sources), so the copies resolve postcache from their node_modules as a user's do.
  writeFileSync(join(TEMPLATES, "tsconfig.json"), "{}\n");
  origin = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (request) => {
      calls++;
      await request.arrayBuffer();
      return Response.json({ ok: true }, { headers: { "cache-control": "max-age=60" } });
    },
  });
  originUrl = `http://127.0.0.1:${origin.port}`;
}, 360_000);
afterAll(() => origin?.stop(true));

/** examples/<name> copied alone, with the packed postcache in its node_modules. */
function copyTemplate(name: string): string {
  const dir = join(TEMPLATES, name.replace(/\//g, "-"));
  cpSync(join(ROOT, "examples", name), dir, { recursive: true, filter: (src) => !src.includes("node_modules") });
  cpSync(join(APP, "node_modules/postcache"), join(dir, "node_modules/postcache"), { recursive: true });
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { dependencies: Record<string, string> };
  expect(manifest.dependencies.postcache).toBe("^0.2.0");
  return dir;
}

/** POSTs twice (the second retried while the write settles): MISS, then HIT, one origin call. */
async function expectMissThenHit(url: string): Promise<void> {
  const before = calls;
  const body = JSON.stringify({ query: "lamp", nonce: Math.random() });
  const post = () => fetch(`${url}/search`, { method: "POST", body, headers: { "content-type": "application/json" } });
  const first = await post();
  expect(first.headers.get("cache-status")).toMatch(/^postcache; fwd=uri-miss; fwd-status=200; stored/);
  expect(await first.json()).toEqual({ ok: true });
  let second = await post();
  for (let i = 0; i < 40 && !/; hit/.test(second.headers.get("cache-status") ?? ""); i++) {
    await second.arrayBuffer();
    await Bun.sleep(50);
    second = await post();
  }
  expect(second.headers.get("cache-status")).toMatch(/^postcache; hit; ttl=\d+/);
  expect(await second.json()).toEqual({ ok: true });
  expect(calls - before).toBe(1);
}

async function stopping(target: RunningTarget, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } finally {
    await target.stop();
  }
}

/** The shell command a package.json script runs, with the repository's tools on PATH. */
async function runScript(dir: string, script: string): Promise<void> {
  const command = (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts[
    script
  ];
  await mustRun(["bash", "-c", command], dir, 60_000, { PATH: `${BIN}:${process.env.PATH}` });
}

describe("templates, as a user copies them", () => {
  test("cloudflare: wrangler.toml deploys to a reachable address; wrangler's own build runs in workerd", async () => {
    const dir = copyTemplate("cloudflare");
    const toml = Bun.TOML.parse(readFileSync(join(dir, "wrangler.toml"), "utf8")) as {
      workers_dev?: boolean;
      routes?: unknown[];
    };
    expect(toml.workers_dev === true || (toml.routes?.length ?? 0) > 0).toBe(true);
    await mustRun(
      [NODE22, join(ROOT, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", "dist"],
      dir,
      120_000,
      {
        WRANGLER_SEND_METRICS: "false",
        CI: "true",
      },
    );
    const script = readFileSync(join(dir, "dist/worker.js"), "utf8");
    const worker = await startWorkerd({ modules: true, script, bindings: { ORIGIN: originUrl } });
    await stopping(worker, () => expectMissThenHit(worker.url));
  }, 120_000);

  test("netlify: the TypeScript source as shipped, under @netlify/dev", async () => {
    const dir = copyTemplate("netlify");
    const toml = readFileSync(join(dir, "netlify.toml"), "utf8");
    writeFileSync(
      join(dir, "netlify.toml"),
      `${toml.slice(0, toml.indexOf("[[redirects]]"))}\n[build.environment]\n  ORIGIN = "${originUrl}"\n`,
    );
    const site = await startProcess(
      [NODE22, join(ROOT, "test/fixtures/netlify/launcher.mjs")],
      { SITE_DIR: dir, PATH: `${BIN}:${process.env.PATH}` },
      /listening on (http:\/\/\S+)/,
      30_000,
    );
    await stopping(site, async () => {
      await (await fetch(`${site.url}/`, { signal: AbortSignal.timeout(30_000) })).arrayBuffer();
      await expectMissThenHit(site.url);
    });
  }, 90_000);

  test("vercel: config is the literal Vercel reads; the middleware, bundled from the copy, in the Edge Runtime", async () => {
    const dir = copyTemplate("vercel");
    // https://vercel.com/docs/routing-middleware/api#config-object: read from the file, not run.
    expect(readFileSync(join(dir, "middleware.ts"), "utf8")).toMatch(/^export const config = \{ matcher: /m);
    const bundled = await build({
      absWorkingDir: dir,
      entryPoints: ["middleware.ts"],
      bundle: true,
      format: "cjs",
      platform: "browser",
      write: false,
      logLevel: "error",
    });
    const script = join(dir, "edge.js");
    writeFileSync(script, bundled.outputFiles[0].text);
    const edge = await startProcess(
      [NODE22, join(ROOT, "test/fixtures/vercel/serve.mjs")],
      { ORIGIN: originUrl, EDGE_SCRIPT: script },
      /listening on (http:\/\/\S+?),/,
      20_000,
    );
    await stopping(edge, () => expectMissThenHit(edge.url));
  }, 60_000);

  test("edgeone edge function: `npm run build` (esbuild), the script run as a service worker", async () => {
    const dir = copyTemplate("edgeone");
    expect(readFileSync(join(dir, "README.md"), "utf8")).toContain("npm run build");
    await runScript(dir, "build");
    const script = WITHOUT_RESPONSE_JSON + readFileSync(join(dir, "dist/edge-function.js"), "utf8");
    const worker = await startWorkerd({ script, bindings: { env: { ORIGIN: originUrl } } });
    await stopping(worker, () => expectMissThenHit(worker.url));
  }, 60_000);

  test("edgeone pages: `npm run build` (esbuild), the built [[default]].js behind onRequest(context)", async () => {
    const dir = copyTemplate("edgeone/pages");
    await runScript(dir, "build");
    expect(existsSync(join(dir, "dist/edge-functions/index.js"))).toBe(true);
    writeFileSync(
      join(dir, "worker.js"),
      `import { onRequest } from "./dist/edge-functions/[[default]].js";
export default { fetch: (request, env, ctx) => onRequest({ request, env, params: {}, waitUntil: (p) => ctx.waitUntil(p) }) };\n`,
    );
    const wrapped = await build({
      absWorkingDir: dir,
      entryPoints: ["worker.js"],
      bundle: true,
      format: "esm",
      write: false,
      logLevel: "error",
    });
    const worker = await startWorkerd({
      modules: true,
      script: WITHOUT_RESPONSE_JSON + wrapped.outputFiles[0].text,
      bindings: { ORIGIN: originUrl },
    });
    await stopping(worker, () => expectMissThenHit(worker.url));
  }, 60_000);

  test("deno: `deno serve main.ts` as shipped", async () => {
    const dir = copyTemplate("deno");
    const task = (JSON.parse(readFileSync(join(dir, "deno.json"), "utf8")) as { tasks: { start: string } }).tasks.start;
    const port = String(await freePort());
    const args = task
      .replace(/^deno /, "")
      .replace("--port 8000", `--port ${port}`)
      .split(" ");
    mkdirSync(join(dir, "tmp"));
    const server = await startProcess(
      [join(BIN, "deno"), ...args],
      { ORIGIN: originUrl, PORT: port, TMPDIR: join(dir, "tmp"), NO_COLOR: "1" },
      /postcache listening on (http:\/\/\S+?),/,
      30_000,
      dir,
    );
    await stopping(server, () => expectMissThenHit(server.url));
  }, 60_000);

  test("bun: `bun server.ts` as shipped", async () => {
    const dir = copyTemplate("bun");
    const port = String(await freePort());
    const server = await startProcess(
      [process.execPath, "server.ts"].map((a, i) => (i === 1 ? join(dir, a) : a)),
      { ORIGIN: originUrl, PORT: port },
      /listening on (http:\/\/\S+?),/,
    );
    await stopping(server, () => expectMissThenHit(server.url));
  }, 30_000);

  test("node: `npm start` (node server.ts, types stripped by Node 22.18+) as shipped", async () => {
    const dir = copyTemplate("node");
    const port = String(await freePort());
    const server = await startProcess(
      [NODE22, join(dir, "server.ts")],
      { ORIGIN: originUrl, PORT: port },
      /listening on (http:\/\/\S+?),/,
    );
    await stopping(server, () => expectMissThenHit(server.url));
  }, 30_000);
});

test("every example folder is covered here", () => {
  const covered = ["bun", "cloudflare", "deno", "edgeone", "netlify", "node", "vercel"];
  const folders = [...new Bun.Glob("*/package.json").scanSync(join(ROOT, "examples"))].map((p) => p.split("/")[0]).sort();
  expect(folders).toEqual(covered);
  expect(runToEnd).toBeDefined();
});
