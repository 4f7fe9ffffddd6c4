/**
 * Differential fuzzing: thousands of random requests (binary and invalid UTF-8 bodies, keyed and
 * Vary'd header values, content codings, users, forwarded headers, odd paths, methods) against an origin whose answer is
 * a pure function of the request. Every answer postcache gives, hit or miss, must equal what the origin
 * says for that exact request. Requests go in concurrent batches (coalescing) with the clock moving
 * (expiry, stale-while-revalidate).
 */

import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { canonicalJsonKey } from "../../core/canonical-json.ts";
import type { PostcacheOptions } from "../../core/index.ts";
import { harness, ORIGIN, status } from "../core/harness.ts";

/** mulberry32: a small seeded PRNG, so a failure can be replayed from its seed. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const enc = new TextEncoder();
const BODIES: Uint8Array<ArrayBuffer>[] = [
  new Uint8Array(0),
  enc.encode('{"q":"lamp"}'),
  enc.encode('{"q": "lamp"}'),
  enc.encode('{"q":"lamp","requestId":"1"}'),
  enc.encode('{"requestId":"2","q":"lamp"}'),
  enc.encode('{"q":"desk","page":2}'),
  enc.encode('{"page":2,"q":"desk"}'),
  enc.encode('{"q":"lamp","q":"desk"}'),
  enc.encode('{"n":1.0}'),
  enc.encode('{"n":1}'),
  enc.encode('{"q":"lamp"'),
  Uint8Array.of(0xff),
  Uint8Array.of(0xfe),
  Uint8Array.of(0xc3, 0x28),
  Uint8Array.of(0xef, 0xbb, 0xbf, 0x7b, 0x7d),
  Uint8Array.of(0x7b, 0x7d),
  Uint8Array.from({ length: 300 }, (_, i) => (i * 13) & 255),
  Uint8Array.from({ length: 300 }, (_, i) => (i * 13 + 1) & 255),
];
const PATHS = [
  "/search",
  "/search?page=2",
  "/search?page=2&x=1",
  "/find",
  "/a%2Fb",
  "/a/b",
  "/caf%C3%A9",
  "/cart/add",
  "/nostore",
  "/error",
  "/gone",
];
const METHODS = ["POST", "POST", "POST", "POST", "QUERY", "GET", "PUT"];
const HEADER_CHOICES: [string, (string | null)[]][] = [
  ["content-type", ["application/json", "application/octet-stream", null]],
  // The same bytes under another coding are another request (RFC 9110 §8.4).
  ["content-encoding", [null, null, "gzip", "deflate"]],
  ["accept-language", [null, "en", "fr"]],
  ["x-variant", [null, "1", "2"]],
  ["authorization", [null, null, "alice", "bob"]],
  ["x-forwarded-host", [null, null, null, "evil.example"]],
  ["x-trace", [null, "a", "b"]],
];

/** Canonical JSON as the origin understands it (ignoring `requestId`), or undefined if not JSON. */
function semanticJson(bytes: Uint8Array): string | undefined {
  try {
    const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
    if (/"q"\s*:.*"q"\s*:/.test(text)) return undefined; // duplicate names: not one meaning
    const sort = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(sort)
        : v && typeof v === "object"
          ? Object.fromEntries(
              Object.keys(v)
                .filter((k) => k !== "requestId")
                .sort()
                .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
            )
          : v;
    // Numbers as written matter to this origin (1.0 is not 1): keep the raw text of the number.
    if (/\d\.\d/.test(text)) return undefined;
    return JSON.stringify(sort(JSON.parse(text)));
  } catch {
    return undefined;
  }
}

/** The origin: a pure function of everything it reads. It varies on x-variant and says so. */
function makeOrigin(semantic: boolean) {
  return async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const body = new Uint8Array(await request.arrayBuffer());
    await Bun.sleep(1); // long enough for identical requests in a batch to overlap (coalescing)
    const h = request.headers;
    const isJson = (h.get("content-type") ?? "").includes("json");
    const bodyView = (semantic && isJson && semanticJson(body)) || createHash("sha256").update(body).digest("hex");
    const seen = [
      request.method,
      url.host,
      url.pathname + url.search,
      bodyView,
      ...["content-type", "content-encoding", "accept-language", "x-variant", "authorization", "x-forwarded-host"].map((n) =>
        h.get(n),
      ),
    ];
    const digest = createHash("sha256").update(JSON.stringify(seen)).digest("hex");
    const headers: Record<string, string> = { "content-type": "text/plain", vary: "X-Variant", "x-digest": digest };
    headers["cache-control"] = url.pathname === "/nostore" ? "no-store" : "public, max-age=30, stale-while-revalidate=30";
    const code = url.pathname === "/error" ? 503 : url.pathname === "/gone" ? 410 : 200;
    return new Response(`${code} ${digest}`, { status: code, headers });
  };
}

async function run(seed: number, options: PostcacheOptions, semantic: boolean, count: number) {
  const random = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  const origin = makeOrigin(semantic);
  const h = harness(options, undefined, origin);
  const outcomes: Record<string, number> = {};
  let checked = 0;
  // A pool of random request shapes, drawn from with repeats, so the cache has something to hit.
  const pool = Array.from({ length: 120 }, () => {
    const method = pick(METHODS);
    const headers: [string, string][] = [];
    for (const [name, values] of HEADER_CHOICES) {
      const value = pick(values);
      if (value !== null) headers.push([name, value]);
    }
    return { method, path: pick(PATHS), headers, body: method === "GET" ? null : pick(BODIES) };
  });
  // Twins that differ only in their content coding: the same bytes, gzip or deflate or none.
  for (const shape of pool.slice(0, 30)) {
    const others = shape.headers.filter(([name]) => name !== "content-encoding");
    for (const coding of [null, "gzip", "deflate"]) {
      pool.push({ ...shape, headers: coding ? [...others, ["content-encoding", coding]] : others });
    }
  }
  while (checked < count) {
    const batch = Array.from({ length: 1 + Math.floor(random() * 20) }, () => {
      const shape = pick(pool);
      return new Request(ORIGIN + shape.path, { method: shape.method, headers: shape.headers, body: shape.body });
    });
    // Each request is cloned before postcache consumes it, to ask the origin what it would say.
    const expected = await Promise.all(
      batch.map((r) => origin(r.clone()).then(async (res) => [res.status, await res.text()] as const)),
    );
    const got = await Promise.all(
      batch.map((r) => h.send(r).then(async (res) => [res.status, await res.text(), status(res)] as const)),
    );
    for (const [i, [code, text, cacheStatus]] of got.entries()) {
      const request = batch[i];
      if (code !== expected[i][0] || text !== expected[i][1]) {
        throw new Error(
          `seed ${seed}: wrong answer for ${request.method} ${request.url} ${JSON.stringify([...request.headers])}: ${cacheStatus}`,
        );
      }
      const outcome = /hit/.test(cacheStatus)
        ? "hit"
        : /fwd=stale; ttl/.test(cacheStatus)
          ? "stale"
          : /collapsed/.test(cacheStatus)
            ? "collapsed"
            : /bypass/.test(cacheStatus)
              ? "bypass"
              : cacheStatus
                ? "miss"
                : "pass";
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
    checked += batch.length;
    await h.settle();
    h.clock.advance(random() * 8);
  }
  return outcomes;
}

describe("differential fuzz: every answer equals the origin's answer to that exact request", () => {
  const configs: [string, PostcacheOptions, boolean][] = [
    ["defaults", {}, false],
    ["per-user scope", { scope: (r) => r.headers.get("authorization") ?? undefined }, false],
    ["canonical JSON, ignoring requestId", { bodyKey: canonicalJsonKey({ ignoreFields: ["requestId"] }) }, true],
    ["no coalescing, stale-if-error", { coalesce: false, staleIfError: 60 }, false],
  ];
  for (const [name, options, semantic] of configs) {
    test(`${name}: 3,000 requests`, async () => {
      const seed = Number(process.env.FUZZ_SEED ?? 0) || Math.floor(Math.random() * 2 ** 31);
      const outcomes = await run(seed, options, semantic, 3000);
      // The cache must actually have been used, or this test proves nothing: answers from it, fresh or
      // stale. The floors sit well under what seeds give: over 12 runs of the four setups the fewest
      // were 124 answers from the cache and 26 stale ones (seeds 32186812 and 23307486 gave ~90 fresh
      // hits; 1796043007 gave exactly 30 stale, which failed a floor of 30 with every answer right).
      const summary = `${name}: seed ${seed} ${JSON.stringify(outcomes)}`;
      expect((outcomes.hit ?? 0) + (outcomes.stale ?? 0), summary).toBeGreaterThan(50);
      expect(outcomes.stale ?? 0, summary).toBeGreaterThan(5);
      expect(outcomes.bypass ?? 0, summary).toBeGreaterThan(50);
      expect(outcomes.miss ?? 0, summary).toBeGreaterThan(50);
      if (options.coalesce !== false) expect(outcomes.collapsed ?? 0, summary).toBeGreaterThan(0);
    });
  }
});
