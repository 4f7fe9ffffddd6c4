/**
 * The `postcache` command as a user runs it, under Node (the machine's, cli/postcache.ts bundled as
 * dist/lib/cli.js is) and under Bun: the shared e2e suite, then flags, the config file, logs, health,
 * metrics and a graceful shutdown.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { systemNode } from "../package/scratch.ts";
import { REDIS_SERVER, type RedisServer, startRedis } from "../stores/redis-server.ts";
import { bundledCli, startCli } from "./node-server.ts";
import { startTestOrigin, type TestOrigin } from "./origin.ts";
import { runToEnd } from "./process.ts";
import { e2eSuite } from "./suite.ts";

const RUNTIMES = [
  ["Node", systemNode()],
  ["Bun", "bun"],
] as const;
const TOKEN = "cli-test-token-0123456789";
const dir = mkdtempSync(join(tmpdir(), "postcache-cli-"));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

/** Runs the command to its end (for the ones that must refuse to start). */
async function run(runtime: string, args: string[], env: Record<string, string> = {}) {
  const command = runtime === "bun" ? [process.execPath, "cli/postcache.ts"] : [runtime, await bundledCli()];
  return runToEnd([...command, ...args], { env: { ...process.env, ORIGIN: "", PORT: "0", ...env }, timeoutMs: 10_000 });
}

let origin: TestOrigin;
afterAll(() => origin?.stop());

for (const [name, runtime] of RUNTIMES) {
  e2eSuite(`postcache command under ${name}`, (originUrl) => startCli(["--origin", originUrl], {}, runtime), {
    startTimeoutMs: 20_000,
  });

  describe(`postcache command under ${name}`, () => {
    test("--help prints the flags; no origin is one line and exit 2", async () => {
      const help = await run(runtime, ["--help"]);
      expect(help.code).toBe(0);
      for (const flag of ["--origin", "--port", "--host", "--config", "--redis", "--log", "--admin-token-file"]) {
        expect(help.stdout).toContain(flag);
      }
      const none = await run(runtime, []);
      expect(none.code).toBe(2);
      expect(none.stderr.trim()).toBe("postcache: --origin is required, e.g. postcache --origin https://api.example.com");
      const unknown = await run(runtime, ["--origin", "http://127.0.0.1:1", "--colour"]);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr.trim().split("\n")).toHaveLength(1);
    });

    test("a bad config refuses to start with one line naming the file and the option", async () => {
      const typo = file(`typo-${name}.json`, JSON.stringify({ defaultTTL: 60 }));
      const bad = await run(runtime, ["--origin", "http://127.0.0.1:1", "--config", typo]);
      expect(bad.code).toBe(2);
      const lines = bad.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(typo);
      expect(lines[0]).toMatch(/option "defaultTTL" is not a postcache option.*defaultTtl/);
      const broken = file(`broken-${name}.json`, "{ not json");
      const unreadable = await run(runtime, ["--origin", "http://127.0.0.1:1", "--config", broken]);
      expect(unreadable.code).toBe(2);
      expect(unreadable.stderr.trim().split("\n")).toHaveLength(1);
      expect(unreadable.stderr).toContain(broken);
      const withStore = file(
        `store-${name}.mjs`,
        'export default { store: { name: "own", get: async () => undefined, set: async () => {}, delete: async () => false } };',
      );
      const both = await run(runtime, [
        "--origin",
        "http://127.0.0.1:1",
        "--config",
        withStore,
        "--redis",
        "redis://127.0.0.1:1",
      ]);
      expect(both.code).toBe(2);
      expect(both.stderr.trim()).toBe(`postcache: ${withStore}: its "store" and --redis both choose the store: keep one`);
      const size = await run(runtime, ["--origin", "http://127.0.0.1:1", "--cache-mb", "0"]);
      expect(size.code).toBe(2);
      expect(size.stderr.trim()).toBe('postcache: --cache-mb must be a whole number from 1 to 1048576 (got "0")');
      const short = file(`token-${name}`, "short\n");
      const token = await run(runtime, ["--origin", "http://127.0.0.1:1", "--admin-token-file", short]);
      expect(token.code).toBe(2);
      expect(token.stderr.trim()).toMatch(/^postcache: .*token-.*: the admin token must be at least 16 characters/);
    });

    test("a JSON config and a JS module config (with a function) both apply", async () => {
      origin ??= await startTestOrigin();
      // The test origin's /nostore answers are no-store; /plain answers carry max-age=300. A rule that
      // excludes /plain shows the JSON config applied; a bypass hook the JS one.
      const json = file(`config-${name}.json`, JSON.stringify({ exclude: ["/plain/*"] }));
      const js = file(
        `config-${name}.mjs`,
        'export default { bypass: (request) => (new URL(request.url).pathname === "/hooked" ? "js-config" : false) };',
      );
      for (const [config, path, detail] of [
        [json, "/plain/x", "excluded"],
        [js, "/hooked", "js-config"],
      ] as const) {
        const server = await startCli(["--origin", origin.url, "--config", config], {}, runtime);
        try {
          const res = await fetch(server.url + path, { method: "POST", body: "{}" });
          expect(res.headers.get("cache-status")).toBe(`postcache; fwd=bypass; detail=${detail}`);
          await res.arrayBuffer();
        } finally {
          await server.stop();
        }
      }
    });

    test("--log json: one JSON line per request with time, method, path, status, outcome, detail, key, ms", async () => {
      origin ??= await startTestOrigin();
      const server = await startCli(["--origin", origin.url, "--log", "json"], {}, runtime);
      try {
        const body = JSON.stringify({ log: name, at: Date.now() });
        for (let i = 0; i < 2; i++) await (await fetch(`${server.url}/search`, { method: "POST", body })).arrayBuffer();
        await Bun.sleep(200);
        const lines = server
          .output()
          .split("\n")
          .filter((line) => line.startsWith("{"))
          .map((line) => JSON.parse(line));
        expect(lines).toHaveLength(2);
        for (const line of lines) {
          expect(Object.keys(line)).toEqual(["time", "method", "path", "status", "outcome", "detail", "key", "ms"]);
          expect(line).toMatchObject({ method: "POST", path: "/search", status: 200 });
          expect(line.key).toMatch(/^[0-9a-f]{12}$/);
        }
        expect(lines.map((l) => l.outcome).sort()).toEqual(["HIT", "MISS"]);
      } finally {
        await server.stop();
      }
    });

    test("health for everyone; metrics behind the admin token, in Prometheus text", async () => {
      origin ??= await startTestOrigin();
      const tokenFile = file(`admin-${name}`, `${TOKEN}\n`);
      const server = await startCli(["--origin", origin.url, "--admin-token-file", tokenFile, "--cache-mb", "3"], {}, runtime);
      try {
        const health = await fetch(`${server.url}/.postcache/health`);
        expect(health.status).toBe(200);
        expect((await health.json()).status).toBe("ok");
        const body = JSON.stringify({ metrics: name, at: Date.now() });
        for (let i = 0; i < 3; i++) await (await fetch(`${server.url}/search`, { method: "POST", body })).arrayBuffer();
        expect((await fetch(`${server.url}/.postcache/metrics`)).status).toBe(401);
        const wrong = await fetch(`${server.url}/.postcache/metrics`, {
          headers: { authorization: "Bearer not-the-token-at-all" },
        });
        expect(wrong.status).toBe(401);
        const metrics = await fetch(`${server.url}/.postcache/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
        expect(metrics.status).toBe(200);
        expect(metrics.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
        const text = await metrics.text();
        expect(text).toMatch(/^postcache_requests_total\{outcome="HIT",detail=""\} 2$/m);
        expect(text).toMatch(/^postcache_requests_total\{outcome="MISS",detail=""\} 1$/m);
        expect(text).toMatch(/^postcache_origin_requests_total 1$/m);
        expect(text).toMatch(/^postcache_stored_total 1$/m);
        expect(text).toMatch(/^postcache_cache_bytes_total \d+$/m);
        expect(text).toMatch(/^postcache_request_seconds_count 3$/m);
        expect(text).toMatch(/^postcache_lookup_seconds_count 3$/m);
        expect(text).toMatch(/^postcache_in_flight_requests \d+$/m);
        // --cache-mb sized the store: 3 MiB, holding the one answer.
        expect(text).toMatch(/^postcache_store_max_bytes 3145728$/m);
        expect(text).toMatch(/^postcache_store_entries 1$/m);
        expect(Number(/^postcache_store_bytes (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
        const stats = await fetch(`${server.url}/.postcache/stats`, { headers: { authorization: `Bearer ${TOKEN}` } });
        expect((await stats.json()).hits).toBe(2);
      } finally {
        await server.stop();
      }
    });

    test("SIGTERM: stops accepting, lets the request in flight finish, exits 0 within the bound", async () => {
      // An origin that takes 800 ms to answer.
      const slow = Bun.serve({
        hostname: "127.0.0.1",
        port: 0,
        fetch: async () => {
          await Bun.sleep(800);
          return new Response("slow answer", { headers: { "cache-control": "max-age=60" } });
        },
      });
      const command = runtime === "bun" ? [process.execPath, "cli/postcache.ts"] : [runtime, await bundledCli()];
      const child = Bun.spawn([...command, "--origin", `http://127.0.0.1:${slow.port}`, "--port", "0"], {
        stdout: "pipe",
        stderr: "pipe",
      });
      try {
        const reader = child.stdout.getReader();
        let banner = "";
        while (!/listening on (http:\/\/\S+?),/.test(banner)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`exited before listening: ${banner}`);
          banner += new TextDecoder().decode(value);
        }
        reader.releaseLock();
        const url = (/listening on (http:\/\/\S+?),/.exec(banner) as RegExpExecArray)[1];
        const inFlight = fetch(`${url}/search`, { method: "POST", body: "{}" }).then((r) => r.text());
        await Bun.sleep(200);
        const started = performance.now();
        child.kill("SIGTERM");
        expect(await inFlight).toBe("slow answer");
        const code = await child.exited;
        expect(code).toBe(0);
        expect(performance.now() - started).toBeLessThan(5_000);
        await expect(fetch(`${url}/search`, { method: "POST", body: "{}" })).rejects.toThrow();
      } finally {
        child.kill("SIGKILL");
        slow.stop(true);
      }
    }, 20_000);
  });
}

describe.skipIf(!REDIS_SERVER)("postcache command with --redis: two instances share one cache", () => {
  let redis: RedisServer | undefined;
  afterAll(() => redis?.stop());
  for (const [name, runtime] of RUNTIMES) {
    test(`under ${name}: a MISS at one instance is a HIT at the other`, async () => {
      origin ??= await startTestOrigin();
      redis ??= await startRedis();
      const a = await startCli(["--origin", origin.url, "--redis", redis.url], {}, runtime);
      const b = await startCli(["--origin", origin.url, "--redis", redis.url], {}, runtime);
      try {
        const body = JSON.stringify({ shared: name, at: Date.now() });
        // Behind a load balancer both instances see the same Host, which is part of the key.
        const SAME_HOST = { host: "api.example.test" };
        const miss = await fetch(`${a.url}/search`, { method: "POST", body, headers: SAME_HOST });
        expect(miss.headers.get("cache-status")).toMatch(/fwd=uri-miss/);
        await miss.arrayBuffer();
        // Once A serves it from the store, its write is done: B's first request must be a HIT.
        let again = await fetch(`${a.url}/search`, { method: "POST", body, headers: SAME_HOST });
        for (let i = 0; i < 20 && !/; hit/.test(again.headers.get("cache-status") ?? ""); i++) {
          await again.arrayBuffer();
          await Bun.sleep(50);
          again = await fetch(`${a.url}/search`, { method: "POST", body, headers: SAME_HOST });
        }
        await again.arrayBuffer();
        const hit = await fetch(`${b.url}/search`, { method: "POST", body, headers: SAME_HOST });
        expect(hit.headers.get("cache-status")).toMatch(/; hit/);
        await hit.arrayBuffer();
        expect(origin.calls("POST", "/search", body)).toBe(1);
      } finally {
        await a.stop();
        await b.stop();
      }
    }, 30_000);
  }
});

describe.skipIf(!REDIS_SERVER)("postcache command with --purge-log: own caches, purges shared through Redis", () => {
  let redis: RedisServer | undefined;
  afterAll(() => redis?.stop());
  for (const [name, runtime] of RUNTIMES) {
    test(`under ${name}: a purge at one instance is a miss at the other within --purge-check-ms + margin`, async () => {
      origin ??= await startTestOrigin();
      redis ??= await startRedis();
      const tokenFile = file(`purge-token-${name}`, `${TOKEN}\n`);
      const args = ["--origin", origin.url, "--purge-log", redis.url, "--purge-check-ms", "200", "--admin-token-file", tokenFile];
      const [a, b] = [await startCli(args, {}, runtime), await startCli(args, {}, runtime)];
      try {
        const body = JSON.stringify({ purgeLog: name, at: Date.now() });
        const ask = async (url: string) => {
          const res = await fetch(`${url}/plain`, { method: "POST", body, headers: { host: "api.example.test" } });
          await res.arrayBuffer();
          return res.headers.get("cache-status") ?? "";
        };
        for (const url of [a.url, b.url]) {
          expect(await ask(url)).toMatch(/fwd=uri-miss/); // each its own cache: each misses once
          expect(await ask(url)).toMatch(/; hit/);
        }
        const purge = await fetch(`${a.url}/.postcache/purge`, {
          method: "POST",
          headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
          body: JSON.stringify({ all: true }),
        });
        expect(purge.status).toBe(200);
        await purge.arrayBuffer();
        expect(await ask(a.url)).toMatch(/fwd=uri-miss/); // at once where it was purged
        let status = await ask(b.url);
        for (let i = 0; i < 40 && /; hit/.test(status); i++) {
          await Bun.sleep(50);
          status = await ask(b.url);
        }
        expect(status).toMatch(/fwd=/); // within 200 ms + 2 s of polling
      } finally {
        await a.stop();
        await b.stop();
      }
    }, 30_000);
  }

  test("--purge-log takes a Redis URL, and not beside --redis", async () => {
    const notUrl = await run("bun", ["--origin", "http://127.0.0.1:1", "--purge-log", "localhost:6379"]);
    expect(notUrl.code).toBe(2);
    expect(notUrl.stderr.trim()).toBe('postcache: --purge-log must be a redis:// or rediss:// URL (got "localhost:6379")');
    const both = await run("bun", ["--origin", "http://127.0.0.1:1", "--purge-log", "redis://a", "--redis", "redis://a"]);
    expect(both.code).toBe(2);
    expect(both.stderr.trim()).toMatch(/--purge-log is for per-process caches; with --redis/);
  });
});
