/** `npm start` as a user runs it: the postcache command (under Bun) in front of the demo origin, MISS then HIT. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freePort, runToEnd, startProcess } from "./process.ts";
import type { RunningTarget } from "./suite.ts";

/** What `npm start` runs, after `bun` (package.json). */
const NPM_START = ["cli/postcache.ts", "--demo"];
let server: RunningTarget;

beforeAll(async () => {
  server = await startProcess([process.execPath, ...NPM_START], { ORIGIN: "" }, /listening on (http:\/\/\S+?),/);
});
afterAll(() => server?.stop());

test("the banner's curl: MISS (slow origin), then HIT (fast), same bytes; a mutation bypasses", async () => {
  const send = (path: string, body: string) =>
    fetch(server.url + path, { method: "POST", headers: { "content-type": "application/json" }, body });
  let started = performance.now();
  const miss = await send("/search", '{"query":"lamp"}');
  const missBody = await miss.text();
  const missMs = performance.now() - started;
  expect(miss.headers.get("cache-status")).toBe("postcache; fwd=uri-miss; fwd-status=200; stored");
  expect(JSON.parse(missBody).results).toHaveLength(5);
  expect(missMs).toBeGreaterThanOrEqual(140); // the demo origin's ~150 ms
  started = performance.now();
  const hit = await send("/search", '{"query":"lamp"}');
  expect(hit.headers.get("cache-status")).toMatch(/^postcache; hit; ttl=\d+$/);
  expect(await hit.text()).toBe(missBody);
  const bypass = await send("/cart/add", '{"sku":"lamp-1"}');
  expect(bypass.headers.get("cache-status")).toBe("postcache; fwd=bypass; detail=mutation");
  const banner = await (await fetch(server.url)).text();
  expect(banner).toMatch(/demo origin/);
});

describe("npm start's messages are one line each", () => {
  const SERVER = NPM_START;

  test("the banner says the origin it fronts is the built-in demo origin", async () => {
    const port = String(await freePort());
    const run = await runToEnd([process.execPath, ...SERVER], {
      env: { ...process.env, PORT: port, ORIGIN: "" },
      timeoutMs: 3000,
    });
    expect(run.stdout).toMatch(
      /in front of the built-in demo origin at http:\/\/127\.0\.0\.1:\d+ \(set ORIGIN or --origin to front your API\)/,
    );
  });

  test("a too-short POSTCACHE_ADMIN_TOKEN is a one-line error naming the variable, exit 2", async () => {
    const run = await runToEnd([process.execPath, ...SERVER], {
      env: { ...process.env, PORT: "0", ORIGIN: "", POSTCACHE_ADMIN_TOKEN: "short" },
      timeoutMs: 5000,
    });
    expect(run.code).toBe(2);
    const lines = run.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/POSTCACHE_ADMIN_TOKEN: the admin token must be at least 16 characters/);
    expect(lines[0]).not.toContain("admin.token");
  });

  test("an origin that cannot be reached logs one line, not a stack", async () => {
    const closed = await freePort();
    const port = await freePort();
    const child = Bun.spawn([process.execPath, ...SERVER], {
      env: { ...process.env, PORT: String(port), ORIGIN: `http://127.0.0.1:${closed}` },
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      let answer: Response | undefined;
      for (let i = 0; i < 50 && !answer; i++) {
        answer = await fetch(`http://127.0.0.1:${port}/search`, { method: "POST", body: "{}" }).catch(() => undefined);
        if (!answer) await Bun.sleep(100);
      }
      expect(answer?.status).toBe(502);
    } finally {
      child.kill();
      await child.exited;
    }
    const stderr = await new Response(child.stderr).text();
    // The kill above is a SIGTERM, which the command acknowledges in a line of its own.
    const lines = stderr
      .trim()
      .split("\n")
      .filter((line) => !line.includes("SIGTERM"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^postcache: origin failed: /);
  }, 15_000);
});
