/**
 * postcache/client in Node and Deno, bundled as a user's bundler would (one neutral ESM file), against
 * the Bun edge: the digest each runtime computes, the once-only resend, a fresh client's digest-only
 * HIT, and the answer cache's 304 turned back into the 200.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { runToEnd } from "../e2e/process.ts";
import { type Edge, startEdge } from "./edge.ts";

const NODE = resolve("node_modules/node/bin/node");
const DENO = resolve("node_modules/.bin/deno");

/** Runs in the other runtime; prints what each call sent and got, as JSON. */
const DRIVER = `
import { createPostcacheClient } from "./client.js";
const [url, tag] = process.argv.slice(2);
const body = JSON.stringify({ query: tag, pad: "x".repeat(4000) });
const init = { method: "POST", body, headers: { "content-type": "application/json" } };
function recorded() {
  const log = [];
  const fetchLike = async (request) => {
    const sent = [request.headers.get("postcache-body") ?? "full", (await request.clone().arrayBuffer()).byteLength];
    const response = await fetch(request);
    log.push([...sent, response.status]);
    return response;
  };
  return { log, fetchLike };
}
const out = {};
const one = recorded();
const first = await createPostcacheClient({ fetch: one.fetchLike })(url, init);
out.first = { status: first.status, answer: await first.json(), log: one.log };
const two = recorded();
const client = createPostcacheClient({ fetch: two.fetchLike, answerCache: true });
const calls = [];
for (let i = 0; i < 2; i++) {
  const res = await client(url, init);
  calls.push({ status: res.status, cacheStatus: res.headers.get("cache-status"), answer: await res.json() });
}
out.fresh = { calls, log: two.log };
console.log(JSON.stringify(out));
`;

let edge: Edge;
let dir: string;
beforeAll(async () => {
  edge = await startEdge();
  dir = mkdtempSync(join(tmpdir(), "postcache-client-"));
  const result = await build({
    entryPoints: ["core/client.ts"],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    write: false,
    logLevel: "error",
  });
  writeFileSync(join(dir, "client.js"), result.outputFiles[0].text);
  // Deno has `process` only through node:process; Node has it global.
  writeFileSync(join(dir, "driver.mjs"), `import process from "node:process";\n${DRIVER}`);
});
afterAll(async () => {
  await edge?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function run(cmd: string[]): Promise<string> {
  const { code, stdout, stderr } = await runToEnd(cmd, { cwd: dir, env: { ...process.env, NO_COLOR: "1" } });
  if (code !== 0) throw new Error(`${cmd[0]} exited with ${code}:\n${stderr}`);
  return stdout;
}

describe.each([
  ["node", () => [NODE, "driver.mjs"]],
  ["deno", () => [DENO, "run", "--quiet", "--no-prompt", "--allow-net=127.0.0.1", "driver.mjs"]],
] as const)("postcache/client in %s", (runtime, command) => {
  test("412 then the body once; a fresh client's digest alone is a HIT; then a 304 becomes the 200", async () => {
    const url = `${edge.url}/search`;
    const out = JSON.parse(await run([...command(), url, runtime]));
    expect(out.first.status).toBe(200);
    expect(out.first.log).toEqual([
      ["omitted", 0, 412],
      ["full", expect.any(Number), 200],
    ]);
    expect(out.first.log[1][1]).toBeGreaterThan(4000);
    expect(out.fresh.log).toEqual([
      ["omitted", 0, 200],
      ["omitted", 0, 304],
    ]);
    for (const call of out.fresh.calls) {
      expect(call.status).toBe(200);
      expect(call.cacheStatus).toMatch(/;\s*hit\b/);
      expect(call.answer).toEqual(out.first.answer);
    }
    const body = JSON.stringify({ query: runtime, pad: "x".repeat(4000) });
    expect(edge.origin.calls("POST", "/search", body)).toBe(1);
  }, 20_000);
});
