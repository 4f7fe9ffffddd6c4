/**
 * Throwaway Redis (or Valkey) servers for the Redis store's tests: one server, or a three-master
 * Redis Cluster, each node a child process on a free loopback port, without persistence. `stop` and
 * `start` keep the port (and a cluster node its nodes.conf), to test an outage and a restart. Every
 * wait is bounded. A missing redis-server is installed through `test/redis.sh install` when this machine
 * can, else the tests that need it are skipped with one line; under CI=true it fails the run.
 */

import { expect } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPostcache } from "../../core/handler.ts";
import type { CacheStore } from "../../core/types.ts";
import { freePort, runToEnd } from "../e2e/process.ts";
import { findTool, requireTool } from "../system-tool.ts";
import { entry, uniqueKey } from "./conformance.ts";

export const REDIS_SERVER =
  (await requireTool({ name: "redis-server", install: ["bash", "test/redis.sh", "install"], neededBy: "Redis store tests" })) ??
  null;
/** Debian's redis-server package brings redis-cli (redis-tools) with it. */
export const REDIS_CLI = REDIS_SERVER ? (findTool("redis-cli") ?? null) : null;
export const MISSING = "[redis test] redis-server is not installed: run `bash test/redis.sh install`";

/** A server child process on `port`; `args` are added to the command line. */
export class RedisServer {
  private child?: ReturnType<typeof Bun.spawn>;
  constructor(
    readonly port: number,
    private readonly args: string[] = [],
    private readonly binary: string | null = REDIS_SERVER,
  ) {}
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  get running(): boolean {
    return this.child !== undefined;
  }
  async start(): Promise<void> {
    if (!this.binary) throw new Error(MISSING);
    if (this.child) return;
    const child = Bun.spawn(
      [
        this.binary,
        ...["--bind", "127.0.0.1", "--port", String(this.port), "--save", "", "--appendonly", "no", "--daemonize", "no"],
        ...this.args,
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    this.child = child;
    let output = "";
    const decoder = new TextDecoder();
    const ready = (async () => {
      for await (const chunk of child.stdout as ReadableStream<Uint8Array>) {
        output += decoder.decode(chunk);
        if (output.includes("Ready to accept connections")) return;
      }
      throw new Error(`[redis test] ${this.binary} exited before it was ready:\n${output}`);
    })();
    // Keep reading, so a chatty server never blocks on a full pipe.
    ready.then(() => drain(child.stdout as ReadableStream<Uint8Array>)).catch(() => {});
    await withTimeout(ready, 10_000, () => `[redis test] ${this.binary} not ready after 10 s:\n${output}`);
  }
  /** Stops the process; `signal` 9 is a crash. */
  async stop(signal?: number): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child) return;
    child.kill(signal);
    await child.exited;
  }
}

async function drain(stream: ReadableStream<Uint8Array>): Promise<void> {
  for await (const _ of stream) {
    // discard
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message())), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** One server on a free port, started. */
export async function startRedis(binary: string | null = REDIS_SERVER): Promise<RedisServer> {
  const server = new RedisServer(await freePort(), [], binary);
  await server.start();
  return server;
}

/**
 * Three masters, no replicas, created with `redis-cli --cluster create`, ready once every node says
 * `cluster_state:ok`. Each node's nodes.conf is kept in a scratch directory, so a restarted node
 * rejoins with its id and slots (and no data: there is no persistence).
 */
export class RedisCluster {
  private constructor(
    readonly nodes: RedisServer[],
    private readonly dir: string,
  ) {}
  get urls(): string[] {
    return this.nodes.map((n) => n.url);
  }

  static async start(nodeTimeoutMs: number): Promise<RedisCluster> {
    if (!REDIS_SERVER || !REDIS_CLI) throw new Error(MISSING);
    const dir = mkdtempSync(join(tmpdir(), "postcache-redis-cluster-"));
    const nodes: RedisServer[] = [];
    for (let i = 0; i < 3; i++) {
      const [port, bus] = [await freePort(), await freePort()];
      nodes.push(
        new RedisServer(port, [
          ...["--cluster-enabled", "yes", "--cluster-port", String(bus), "--cluster-node-timeout", String(nodeTimeoutMs)],
          ...["--cluster-config-file", join(dir, `nodes-${port}.conf`), "--dir", dir],
        ]),
      );
    }
    const cluster = new RedisCluster(nodes, dir);
    try {
      await Promise.all(nodes.map((n) => n.start()));
      const create = await runToEnd(
        [
          REDIS_CLI,
          "--cluster",
          "create",
          ...nodes.map((n) => `127.0.0.1:${n.port}`),
          "--cluster-replicas",
          "0",
          "--cluster-yes",
        ],
        { timeoutMs: 20_000 },
      );
      if (create.code !== 0) throw new Error(`[redis test] redis-cli --cluster create failed:\n${create.stdout}${create.stderr}`);
      await cluster.waitUntilOk(15_000);
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  /** Every running node says cluster_state:ok and knows all three masters as connected. */
  async waitUntilOk(ms: number): Promise<void> {
    const deadline = performance.now() + ms;
    let last = "";
    while (performance.now() < deadline) {
      const infos = await Promise.all(this.nodes.map((n) => this.cli(n, ["CLUSTER", "INFO"])));
      last = infos.join("\n");
      if (infos.every((info) => /cluster_state:ok/.test(info) && /cluster_known_nodes:3\b/.test(info))) return;
      await Bun.sleep(100);
    }
    throw new Error(`[redis test] cluster not ok after ${ms} ms:\n${last}`);
  }

  /** Runs redis-cli against one node and returns its output. */
  async cli(node: RedisServer, args: string[]): Promise<string> {
    if (!REDIS_CLI) throw new Error(MISSING);
    const run = await runToEnd([REDIS_CLI, "-h", "127.0.0.1", "-p", String(node.port), ...args], { timeoutMs: 5000 });
    return run.stdout + run.stderr;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Retries `attempt` every 50 ms until it resolves, for up to `ms`. */
export async function eventually<T>(attempt: () => Promise<T>, ms: number): Promise<T> {
  const deadline = performance.now() + ms;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (performance.now() > deadline) throw error;
      await Bun.sleep(50);
    }
  }
}

/** Milliseconds `promise` takes to settle, and whether it rejected. */
export async function timed(promise: Promise<unknown>): Promise<{ ms: number; rejected: boolean }> {
  const started = performance.now();
  const rejected = await promise.then(
    () => false,
    () => true,
  );
  return { ms: performance.now() - started, rejected };
}

/** What postcache answered, and how long it took. */
export interface Asked {
  status: number;
  text: string;
  cacheStatus: string;
  ms: number;
}

/**
 * postcache in front of a counting origin (each answer is `{ n: <origin calls> }`, fresh for 60 s), over
 * `store`: `ask(body)` sends one POST and waits for its cache write too.
 */
export function postcacheOver(store: CacheStore, onError: (where: string) => void = () => {}) {
  const postcache = createPostcache({ storeTimeoutMs: 1000, onError: (_, where) => onError(where) });
  let originCalls = 0;
  const fetcher = async () => {
    originCalls++;
    return new Response(JSON.stringify({ n: originCalls }), {
      headers: { "content-type": "application/json", "cache-control": "max-age=60" },
    });
  };
  const ask = async (body: string): Promise<Asked> => {
    const started = performance.now();
    const waits: Promise<unknown>[] = [];
    const response = await postcache.handle(
      new Request("http://app.test/search", { method: "POST", body, headers: { "content-type": "application/json" } }),
      store,
      fetcher,
      { waitUntil: (p) => waits.push(p) },
    );
    const text = await response.text();
    await Promise.all(waits);
    return {
      status: response.status,
      text,
      cacheStatus: response.headers.get("cache-status") ?? "",
      ms: performance.now() - started,
    };
  };
  return { ask, originCalls: () => originCalls };
}

/**
 * The outage every Redis client must survive: cached; server stopped, so store calls reject at once
 * (nothing queues) and postcache answers from the origin; server restarted, so the client reconnects by
 * itself and the cache serves again.
 */
export async function outageScenario(server: RedisServer, store: CacheStore): Promise<void> {
  const errors: string[] = [];
  const { ask, originCalls } = postcacheOver(store, (where) => errors.push(where));
  const body = JSON.stringify({ q: uniqueKey() });
  await eventually(() => store.get(uniqueKey()), 5000);
  expect((await ask(body)).cacheStatus).toMatch(/fwd=uri-miss; fwd-status=200; stored/);
  expect((await ask(body)).cacheStatus).toMatch(/; hit/);
  expect(originCalls()).toBe(1);

  await server.stop();
  // Store calls reject well inside postcache's store timeout (1000 ms here): nothing queues.
  for (const call of [store.get(uniqueKey()), store.set(uniqueKey(), entry(), 60), store.delete(uniqueKey())]) {
    const result = await timed(call);
    expect(result.rejected).toBe(true);
    expect(result.ms).toBeLessThan(250);
  }
  const down = await ask(body);
  expect(down.status).toBe(200);
  expect(JSON.parse(down.text)).toEqual({ n: 2 });
  expect(down.cacheStatus).toMatch(/fwd=uri-miss/);
  expect(down.ms).toBeLessThan(500);
  expect(errors).toContain("store.get");
  expect(originCalls()).toBe(2);

  await server.start();
  // The client reconnects by itself (within its backoff); the cache serves again.
  await eventually(() => store.get(uniqueKey()), 5000);
  expect((await ask(body)).cacheStatus).toMatch(/fwd=uri-miss; fwd-status=200; stored/);
  const hit = await ask(body);
  expect(hit.cacheStatus).toMatch(/; hit/);
  expect(JSON.parse(hit.text)).toEqual({ n: 3 });
  expect(originCalls()).toBe(3);
}
