/**
 * What the Netlify adapter asks of its `context`, checked in Bun with a recording context (the real
 * runtime runs in netlify.test.ts): which requests go on with `context.next()` as received and which
 * as rebuilt, that cache writes go to `context.waitUntil`, and that `ORIGIN` replaces `next` entirely.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Context } from "@netlify/edge-functions";
import { postcacheNetlify } from "../../adapters/netlify.ts";
import { memoryStore } from "../../core/index.ts";
import { startTestOrigin, type TestOrigin } from "./origin.ts";

interface Recorder {
  context: Context;
  /** The arguments of each `context.next` call. */
  nexts: unknown[][];
  waited: Promise<unknown>[];
}

function recorder(): Recorder {
  const nexts: unknown[][] = [];
  const waited: Promise<unknown>[] = [];
  const context = {
    next: async (...args: unknown[]) => {
      nexts.push(args);
      return new Response('{"from":"next"}', { headers: { "content-type": "application/json", "cache-control": "max-age=60" } });
    },
    waitUntil: (promise: Promise<unknown>) => {
      waited.push(promise);
    },
  } as unknown as Context;
  return { context, nexts, waited };
}

const post = (path: string, body: string) =>
  new Request(`https://site.example${path}`, { method: "POST", body, headers: { "content-type": "application/json" } });

describe("netlify adapter without ORIGIN: the origin is context.next()", () => {
  test("a cacheable POST goes on rebuilt, with the same URL, method and body; the repeat is a HIT", async () => {
    const handle = postcacheNetlify({ store: memoryStore() });
    const { context, nexts, waited } = recorder();
    const first = await handle(post("/search", '{"q":"lamp"}'), context);
    expect(first.headers.get("cache-status")).toMatch(/fwd=uri-miss/);
    expect(await first.text()).toBe('{"from":"next"}');
    expect(nexts).toHaveLength(1);
    const forwarded = nexts[0]?.[0] as Request;
    expect(forwarded).toBeInstanceOf(Request);
    expect(forwarded.method).toBe("POST");
    expect(forwarded.url).toBe("https://site.example/search");
    expect(await forwarded.text()).toBe('{"q":"lamp"}');
    expect(waited.length).toBeGreaterThan(0);
    await Promise.all(waited);

    const second = await handle(post("/search", '{"q":"lamp"}'), context);
    expect(second.headers.get("cache-status")).toMatch(/; hit/);
    expect(nexts).toHaveLength(1);
  });

  test("a request postcache stays out of goes on as received: context.next() without arguments", async () => {
    const handle = postcacheNetlify({ store: memoryStore() });
    const { context, nexts } = recorder();
    const res = await handle(post("/cart/add", '{"sku":1}'), context);
    expect(res.headers.get("cache-status")).toMatch(/fwd=bypass; detail=mutation/);
    const get = await handle(new Request("https://site.example/hello"), context);
    await get.arrayBuffer();
    expect(nexts).toEqual([[], []]);
  });
});

describe("netlify adapter with ORIGIN", () => {
  let origin: TestOrigin;
  const global = globalThis as { Netlify?: unknown };
  beforeAll(async () => {
    origin = await startTestOrigin();
    global.Netlify = { env: { get: (name: string) => (name === "ORIGIN" ? origin.url : undefined) } };
  });
  afterAll(async () => {
    delete global.Netlify;
    await origin.stop();
  });

  test("requests go to ORIGIN, never to context.next()", async () => {
    const handle = postcacheNetlify({ store: memoryStore() });
    const { context, nexts } = recorder();
    const res = await handle(post("/search", '{"q":"env"}'), context);
    expect((await res.json()).path).toBe("/search");
    expect(origin.calls("POST", "/search", '{"q":"env"}')).toBe(1);
    expect(nexts).toHaveLength(0);
  });

  test("the origin option wins over ORIGIN", async () => {
    const other = await startTestOrigin();
    try {
      const handle = postcacheNetlify({ origin: other.url, store: memoryStore() });
      const res = await handle(post("/search", '{"q":"option"}'), recorder().context);
      await res.arrayBuffer();
      expect(other.calls("POST", "/search", '{"q":"option"}')).toBe(1);
      expect(origin.calls("POST", "/search", '{"q":"option"}')).toBe(0);
    } finally {
      await other.stop();
    }
  });

  test("a bad origin option fails at creation, naming it", () => {
    expect(() => postcacheNetlify({ origin: "not a url" })).toThrow(/\[postcache\] origin must be an absolute http\(s\) URL/);
  });
});
