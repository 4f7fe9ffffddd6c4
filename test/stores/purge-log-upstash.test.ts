/**
 * The Redis purge log through `upstashRedis`, the REST client for edges without TCP. There is no
 * offline Upstash, so a stand-in of its documented REST API (https://upstash.com/docs/redis/features/restapi:
 * POST of a JSON command array with `Authorization: Bearer`, answered `{"result"}` or `{"error"}`)
 * checks each request's shape and runs the command on a real, throwaway redis-server.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { RedisClient } from "bun";
import { redisPurgeLog } from "../../core/purge-logs/redis.ts";
import { upstashRedis } from "../../core/purge-logs/upstash.ts";
import { testPurgeLog } from "./purge-log-conformance.ts";
import { MISSING, REDIS_SERVER, type RedisServer, startRedis } from "./redis-server.ts";

const TOKEN = "AX1yAAIncDE-upstash-test-token";
const seen: { method: string; path: string; auth: string | null; type: string | null; body: unknown }[] = [];

if (REDIS_SERVER) {
  let server: RedisServer | undefined;
  let redis: RedisClient | undefined;
  let rest: ReturnType<typeof Bun.serve> | undefined;
  let n = 0;
  beforeAll(async () => {
    server = await startRedis();
    redis = new RedisClient(server.url, { enableOfflineQueue: false });
    await redis.connect();
    rest = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(request) {
        const path = new URL(request.url).pathname;
        const body = await request.json().catch(() => undefined);
        seen.push({
          method: request.method,
          path,
          auth: request.headers.get("authorization"),
          type: request.headers.get("content-type"),
          body,
        });
        if (path === "/hang") return new Promise<Response>(() => {}); // never answers
        if (request.headers.get("authorization") !== `Bearer ${TOKEN}`)
          return Response.json({ error: "Unauthorized" }, { status: 401 });
        if (request.method !== "POST" || path !== "/" || !Array.isArray(body) || !body.every((a) => typeof a === "string")) {
          return Response.json({ error: "ERR bad request" }, { status: 400 });
        }
        try {
          const [command, ...args] = body as string[];
          return Response.json({ result: await (redis as RedisClient).send(command as string, args) });
        } catch (error) {
          return Response.json({ error: String((error as Error).message) }, { status: 400 });
        }
      },
    });
  }, 20_000);
  afterAll(async () => {
    rest?.stop(true);
    redis?.close();
    await server?.stop();
  });
  const url = () => `http://127.0.0.1:${rest?.port}`;

  testPurgeLog("redis over Upstash REST (stand-in on a real redis-server)", {
    create: (clock, bounds) => {
      if (!rest) throw new Error(MISSING);
      return redisPurgeLog({ client: upstashRedis({ url: url(), token: TOKEN }), prefix: `u${n++}:`, ...bounds, now: clock.now });
    },
  });

  test("upstash: each command is a POST of a JSON array of strings to the REST URL, with the bearer token", async () => {
    seen.length = 0;
    const log = redisPurgeLog({ client: upstashRedis({ url: url(), token: TOKEN }), prefix: "shape:" });
    await log.record("tag:a", 1);
    await log.read();
    expect(seen).toHaveLength(2);
    for (const request of seen) {
      expect(request).toMatchObject({ method: "POST", path: "/", auth: `Bearer ${TOKEN}`, type: "application/json" });
      expect((request.body as string[])[0]).toBe("EVAL");
    }
  });

  test("upstash: an error answer rejects with Redis's words and never the token; a hung answer is cut off", async () => {
    const wrong = upstashRedis({ url: url(), token: "not-the-token" });
    const error = await wrong.send("GET", ["k"]).catch((e: Error) => e);
    expect(String(error)).toContain("Unauthorized");
    expect(String(error)).not.toContain(TOKEN);
    const bad = await upstashRedis({ url: url(), token: TOKEN })
      .send("NOSUCHCOMMAND", [])
      .catch((e: Error) => e);
    expect(String(bad)).toMatch(/\[upstash-redis\] NOSUCHCOMMAND failed: .*unknown command/i);
    const started = Date.now();
    const hung = await upstashRedis({ url: `${url()}/hang`, token: TOKEN, timeoutMs: 200 })
      .send("GET", ["k"])
      .catch((e) => e);
    expect(hung).toBeInstanceOf(Error);
    expect(Date.now() - started).toBeLessThan(2000);
  });
}

test("upstash: bad options are refused at creation; byte arguments are refused, not mangled", async () => {
  expect(() => upstashRedis({ url: "not a url", token: TOKEN })).toThrow(/\[upstash-redis\] option "url"/);
  expect(() => upstashRedis({ url: "ftp://x.test", token: TOKEN })).toThrow(/option "url"/);
  expect(() => upstashRedis({ url: "https://x.test", token: "" })).toThrow(/option "token"/);
  expect(() => upstashRedis({ url: "https://x.test", token: TOKEN, timeoutMs: 0 })).toThrow(/option "timeoutMs"/);
  const client = upstashRedis({ url: "https://x.test", token: TOKEN, fetch: () => Promise.reject(new Error("not called")) });
  await expect(client.send("SET", ["k", new Uint8Array([1]) as never])).rejects.toThrow(/string arguments only/);
});
