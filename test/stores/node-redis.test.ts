/**
 * The Redis store on node-redis (adapters/node-redis.ts) against a real, throwaway redis-server: the
 * conformance suite here in Bun, and again in Node and in Deno (the store served by
 * test/fixtures/node-redis/store-server.ts), the outage every client must survive, and the adapter's
 * own options. The cluster runs are in redis-cluster.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { createClient } from "redis";
import { nodeRedis, nodeRedisStore } from "../../adapters/node-redis.ts";
import { redisStore } from "../../core/stores/redis.ts";
import { startProcess } from "../e2e/process.ts";
import type { RunningTarget } from "../e2e/suite.ts";
import { DENO } from "../fixtures/deno/deno.ts";
import { entry, testStore, uniqueKey } from "./conformance.ts";
import { eventually, MISSING, outageScenario, REDIS_SERVER, type RedisServer, startRedis, timed } from "./redis-server.ts";
import { remoteStore } from "./remote.ts";

// Without redis-server (and no way to install it here) the whole file is skipped, with one line said.
if (REDIS_SERVER) {
  const prefix = `postcache-node-redis-${Date.now().toString(36)}:`;
  let server: RedisServer | undefined;
  let client: ReturnType<typeof createClient> | undefined;

  beforeAll(async () => {
    server = await startRedis();
    client = createClient({ url: server.url, disableOfflineQueue: true });
    await client.connect();
  }, 20_000);

  afterAll(async () => {
    client?.destroy();
    await server?.stop();
  });

  function requireServer(): RedisServer {
    if (!server) throw new Error(MISSING);
    return server;
  }

  testStore("redis on node-redis", {
    create: (clock) => {
      if (!client) throw new Error(MISSING);
      return redisStore({ client: nodeRedis(client), prefix, now: clock.now });
    },
    capabilities: { tags: true, clear: true },
  });

  /** The fixture bundled once (redis left to node_modules), then started in a runtime on demand. */
  const SCRATCH = resolve(".scratch/node-redis");
  let script: Promise<string> | undefined;
  function bundled(): Promise<string> {
    script ??= (async () => {
      mkdirSync(SCRATCH, { recursive: true });
      const file = join(mkdtempSync(join(SCRATCH, "store-")), "store-server.mjs");
      const out = await build({
        entryPoints: ["test/fixtures/node-redis/store-server.ts"],
        bundle: true,
        format: "esm",
        platform: "node",
        external: ["redis"],
        write: false,
        logLevel: "error",
      });
      writeFileSync(file, out.outputFiles[0].text);
      return file;
    })();
    return script;
  }
  const runtimes: Promise<RunningTarget>[] = [];
  function runtime(cmd: (file: string) => string[]): () => Promise<RunningTarget> {
    let started: Promise<RunningTarget> | undefined;
    return () => {
      started ??= (async () => {
        const file = await bundled();
        return startProcess(cmd(file), { REDIS_URL: requireServer().url, NO_COLOR: "1" }, /listening on (http:\/\/\S+)/, 20_000);
      })();
      runtimes.push(started);
      return started;
    };
  }
  // The machine's Node (20 here), not the node@22 devDependency that npm scripts put first on the PATH.
  const NODE = Bun.which("node", {
    PATH: (process.env.PATH ?? "")
      .split(":")
      .filter((dir) => !dir.includes("node_modules"))
      .join(":"),
  });
  const node = runtime((file) => {
    if (!NODE) throw new Error("[node-redis test] no node outside node_modules on the PATH");
    return [NODE, file];
  });
  const deno = runtime((file) => [
    DENO,
    "run",
    "--quiet",
    "--no-prompt",
    "--allow-net=127.0.0.1",
    "--allow-env",
    "--allow-read",
    "--allow-sys",
    file,
  ]);
  afterAll(async () => {
    for (const started of runtimes) await (await started.catch(() => undefined))?.stop();
    rmSync(SCRATCH, { recursive: true, force: true });
  });

  testStore("redis on node-redis in Node", {
    create: async (clock) => remoteStore((await node()).url, clock, "redis"),
    capabilities: { tags: true, clear: true },
  });

  testStore("redis on node-redis in Deno", {
    create: async (clock) => remoteStore((await deno()).url, clock, "redis"),
    capabilities: { tags: true, clear: true },
  });

  describe("node-redis adapter", () => {
    test("server stopped: store calls reject at once, postcache answers from the origin; restarted: cached again", async () => {
      const server = requireServer();
      const store = nodeRedisStore({ url: server.url, prefix });
      try {
        await outageScenario(server, store);
      } finally {
        store.client.destroy();
        await server.start(); // in case an expectation failed during the outage
      }
    }, 20_000);

    test("a client that stopped reconnecting (its strategy gave up) is connected again by the next store call", async () => {
      const server = requireServer();
      const errors: unknown[] = [];
      const own = createClient({ url: server.url, disableOfflineQueue: true, socket: { reconnectStrategy: false } });
      const store = nodeRedisStore({ client: own, prefix, onError: (e) => errors.push(e) });
      try {
        const key = uniqueKey();
        await eventually(() => store.set(key, entry(), 60), 5000);
        await server.stop();
        await eventually(async () => expect(own.isOpen).toBe(false), 2000);
        const down = await timed(store.get(key));
        expect(down.rejected).toBe(true);
        expect(down.ms).toBeLessThan(250);
        expect(errors.length).toBeGreaterThan(0); // handled, not thrown
        await server.start();
        // The server restarted empty (no persistence): a miss, but a working store.
        expect(await eventually(() => store.get(key), 5000)).toBeUndefined();
        await store.set(key, entry(), 60);
        expect((await store.get(key))?.status).toBe(200);
      } finally {
        own.destroy();
        await server.start();
      }
    }, 20_000);

    test("store calls before the first connection fail fast, then succeed once connected", async () => {
      const store = nodeRedisStore({ url: requireServer().url, prefix });
      try {
        const first = await timed(store.get(uniqueKey()));
        expect(first.ms).toBeLessThan(250);
        expect(await eventually(() => store.get(uniqueKey()), 5000)).toBeUndefined();
      } finally {
        store.client.destroy();
      }
    });

    test("one of url, cluster and client; cluster a non-empty list", () => {
      expect(() => nodeRedisStore({ url: "redis://127.0.0.1:1", cluster: ["redis://127.0.0.1:1"] })).toThrow(/give one of/);
      expect(() => nodeRedisStore({ cluster: [] })).toThrow(/option "cluster" must be a non-empty array/);
    });
  });
}
