import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { canonicalJsonKey } from "../../core/canonical-json.ts";
import { cacheKey, KEY_PATH, resolveOptions } from "../../core/index.ts";
import { harness, ORIGIN, origin, post, status, useOrigin } from "./harness.ts";

useOrigin();

describe("keying: the same request is a HIT, anything that changes the answer is a MISS", () => {
  test("the same body: MISS then HIT, with exactly one origin call", async () => {
    const h = harness();
    const o = origin();
    const first = await h.send(post("/search", '{"q":"lamp"}'));
    expect(status(first)).toBe("postcache; fwd=uri-miss; fwd-status=200; stored");
    const firstBody = await first.text();
    await h.settle();
    const second = await h.send(post("/search", '{"q":"lamp"}'));
    expect(status(second)).toMatch(/^postcache; hit; ttl=60$/);
    expect(second.headers.get("age")).toBe("0");
    expect(await second.text()).toBe(firstBody);
    expect(o.calls).toBe(1);
  });

  test("a different body is a MISS", async () => {
    const h = harness();
    const o = origin();
    await h.send(post("/search", '{"q":"lamp"}'));
    await h.settle();
    const other = await h.send(post("/search", '{"q":"desk"}'));
    expect(status(other)).toMatch(/fwd=uri-miss/);
    expect(o.calls).toBe(2);
  });

  test("binary bodies that decode to the same text are different keys (the seeds' text() bug)", async () => {
    const a = Uint8Array.of(0xff, 0x00);
    const b = Uint8Array.of(0xfe, 0x00);
    expect(new TextDecoder().decode(a)).toBe(new TextDecoder().decode(b));
    const h = harness();
    const o = origin();
    await h.send(post("/search", a, { "content-type": "application/octet-stream" }));
    await h.settle();
    const second = await h.send(post("/search", b, { "content-type": "application/octet-stream" }));
    expect(status(second)).toMatch(/fwd=uri-miss/);
    expect(o.calls).toBe(2);
    expect([...o.bodies[1]]).toEqual([0xfe, 0x00]);
  });

  test("a different value of a keyed header is a MISS; an unkeyed header is not", async () => {
    const h = harness();
    const o = origin();
    await h.send(post("/search", "{}", { "accept-language": "en" }));
    await h.settle();
    expect(status(await h.send(post("/search", "{}", { "accept-language": "fr" })))).toMatch(/uri-miss/);
    await h.settle();
    expect(status(await h.send(post("/search", "{}", { "accept-language": "en", "x-trace": "abc" })))).toMatch(/hit/);
    expect(o.calls).toBe(2);
  });

  test("Content-Encoding is part of the key: gzip, deflate and identity bytes are three requests (RFC 9110 §8.4)", async () => {
    const h = harness();
    const o = origin();
    const bytes = Uint8Array.of(0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02);
    for (const coding of ["gzip", "deflate", undefined]) {
      const res = await h.send(post("/search", bytes, coding ? { "content-encoding": coding } : {}));
      expect({ coding, status: status(res) }).toEqual({ coding, status: expect.stringMatching(/fwd=uri-miss/) });
      await res.text();
      await h.settle();
    }
    expect(o.calls).toBe(3);
    expect(status(await h.send(post("/search", bytes, { "content-encoding": "gzip" })))).toMatch(/hit/);
  });

  test("Content-Type and Content-Encoding stay keyed when keyHeaders is overridden", async () => {
    const h = harness({ keyHeaders: ["x-tenant"] });
    const o = origin();
    await (await h.send(post("/search", "{}", { "content-type": "application/json" }))).text();
    await h.settle();
    expect(status(await h.send(post("/search", "{}", { "content-type": "text/plain" })))).toMatch(/uri-miss/);
    await h.settle();
    expect(status(await h.send(post("/search", "{}", { "content-encoding": "br" })))).toMatch(/uri-miss/);
    expect(o.calls).toBe(3);
  });

  test("keyHeaders is configurable", async () => {
    const h = harness({ keyHeaders: ["x-tenant"] });
    const o = origin();
    await h.send(post("/search", "{}", { "x-tenant": "a" }));
    await h.settle();
    expect(status(await h.send(post("/search", "{}", { "x-tenant": "b" })))).toMatch(/uri-miss/);
    await h.settle();
    expect(status(await h.send(post("/search", "{}", { "x-tenant": "a", "accept-language": "de" })))).toMatch(/hit/);
    expect(o.calls).toBe(2);
  });

  test("a different query string, path or host is a MISS", async () => {
    const h = harness();
    origin("/search");
    const o2 = origin("/find");
    await h.send(post("/search?page=1", "{}"));
    await h.settle();
    expect(status(await h.send(post("/search?page=2", "{}")))).toMatch(/uri-miss/);
    expect(status(await h.send(post("/find?page=1", "{}")))).toMatch(/uri-miss/);
    expect(o2.calls).toBe(1);
    const key = (host: string) =>
      cacheKey("POST", new URL(`https://${host}/search`), new Headers(), new Uint8Array(), undefined, resolveOptions());
    expect((await key("a.example")).hex).not.toBe((await key("b.example")).hex);
  });

  test("POST and QUERY answers are kept apart", async () => {
    const h = harness();
    const o = origin("/search", () => new Response("ok", { headers: { "cache-control": "max-age=60" } }), "all");
    await h.send(post("/search", "{}"));
    await h.settle();
    expect(status(await h.send(post("/search", "{}", {}, "QUERY")))).toMatch(/uri-miss/);
    await h.settle();
    expect(status(await h.send(post("/search", "{}", {}, "QUERY")))).toMatch(/hit/);
    expect(o.calls).toBe(2);
  });

  test("the key is a GET URL on the request's origin under the reserved path, shown with debug", async () => {
    const h = harness({ debug: true });
    origin();
    const res = await h.send(post("/search", "{}"));
    const key = status(res).match(/key="([^"]+)"/)?.[1] ?? "";
    expect(key).toMatch(new RegExp(`^${ORIGIN}${KEY_PATH.replaceAll(".", "\\.")}[0-9a-f]{64}$`));
    await res.text();
    await h.settle(); // a stored miss is reported once storing has ended
    expect(h.results[0].shortKey).toBe(key.slice(-64, -52));
  });

  test("a synchronous SHA-256 gives the same key as crypto.subtle", async () => {
    const sync = resolveOptions({
      sha256: (parts) => {
        const hash = createHash("sha256");
        for (const part of parts) hash.update(part);
        return hash.digest();
      },
    });
    const url = new URL(`${ORIGIN}/search`);
    const body = new TextEncoder().encode('{"q":"lamp"}');
    const a = await cacheKey("POST", url, new Headers(), body, undefined, sync);
    const b = await cacheKey("POST", url, new Headers(), body, undefined, resolveOptions());
    expect(a).toEqual(b);
  });

  test("field boundaries cannot be shifted between URL, headers, scope and body", async () => {
    const o = resolveOptions({ keyHeaders: ["x-a"] });
    const k = (path: string, header: string | null, scope: string | undefined, body: string) =>
      cacheKey(
        "POST",
        new URL(ORIGIN + path),
        new Headers(header === null ? {} : { "x-a": header }),
        new TextEncoder().encode(body),
        scope,
        o,
      ).then((key) => key.hex);
    const keys = await Promise.all([
      k("/a", "b", undefined, "c"),
      k("/ab", null, undefined, "c"),
      k("/a", "bc", undefined, ""),
      k("/a", "b", "c", ""),
      k("/a", "", undefined, "bc"),
    ]);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe("keying: per-user scope", () => {
  test("with a scope, each user gets their own entry and never another's", async () => {
    const h = harness({ scope: (r) => r.headers.get("authorization") ?? undefined });
    const o = origin(
      "/me",
      (r) => new Response(`answer for ${r.headers.get("authorization")}`, { headers: { "cache-control": "max-age=60" } }),
    );
    expect(await (await h.send(post("/me", "{}", { authorization: "alice" }))).text()).toBe("answer for alice");
    await h.settle();
    const bob = await h.send(post("/me", "{}", { authorization: "bob" }));
    expect(status(bob)).toMatch(/uri-miss/);
    expect(await bob.text()).toBe("answer for bob");
    await h.settle();
    const alice = await h.send(post("/me", "{}", { authorization: "alice" }));
    expect(status(alice)).toMatch(/hit/);
    expect(await alice.text()).toBe("answer for alice");
    expect(o.calls).toBe(2);
  });
});

describe("keying: canonical JSON", () => {
  test("off by default: key order makes a different key", async () => {
    const h = harness();
    const o = origin();
    await h.send(post("/search", '{"a":1,"b":2}'));
    await h.settle();
    expect(status(await h.send(post("/search", '{"b":2,"a":1}')))).toMatch(/uri-miss/);
    expect(o.calls).toBe(2);
  });

  test("on: key order and whitespace share a key, and the origin gets the client's own bytes", async () => {
    const h = harness({ bodyKey: canonicalJsonKey() });
    const o = origin();
    await h.send(post("/search", '{"a":1,"b":[1,2]}'));
    await h.settle();
    expect(status(await h.send(post("/search", '{ "b": [1, 2],\n  "a": 1 }')))).toMatch(/hit/);
    expect(o.calls).toBe(1);
    expect(new TextDecoder().decode(o.bodies[0])).toBe('{"a":1,"b":[1,2]}');
  });

  test("on: ignored fields do not change the key; other fields still do", async () => {
    const h = harness({ bodyKey: canonicalJsonKey({ ignoreFields: ["requestId", "meta.sentAt"] }) });
    const o = origin();
    await h.send(post("/search", '{"q":"x","requestId":"1","meta":{"sentAt":1,"v":2}}'));
    await h.settle();
    expect(status(await h.send(post("/search", '{"q":"x","requestId":"2","meta":{"sentAt":2,"v":2}}')))).toMatch(/hit/);
    expect(status(await h.send(post("/search", '{"q":"x","requestId":"2","meta":{"sentAt":2,"v":3}}')))).toMatch(/uri-miss/);
    expect(o.calls).toBe(2);
  });

  test("on: invalid JSON is keyed by its raw bytes", async () => {
    const h = harness({ bodyKey: canonicalJsonKey() });
    const o = origin();
    await h.send(post("/search", '{"a":1'));
    await h.settle();
    expect(status(await h.send(post("/search", '{"a":1')))).toMatch(/hit/);
    expect(status(await h.send(post("/search", '{"a": 1')))).toMatch(/uri-miss/);
    expect(o.calls).toBe(2);
  });

  test("on: non-JSON content types are keyed by raw bytes", async () => {
    const h = harness({ bodyKey: canonicalJsonKey() });
    const o = origin();
    await h.send(post("/search", '{"a":1,"b":2}', { "content-type": "text/plain" }));
    await h.settle();
    expect(status(await h.send(post("/search", '{"b":2,"a":1}', { "content-type": "text/plain" })))).toMatch(/uri-miss/);
    expect(o.calls).toBe(2);
  });
});

describe("keying: values from another realm (the Edge Runtime runs code in a VM context)", () => {
  test("a hasher whose promise is not this realm's Promise still keys each body apart", async () => {
    const { runInNewContext } = await import("node:vm");
    const ForeignPromise = runInNewContext("Promise") as PromiseConstructor;
    const sha256 = (parts: readonly Uint8Array[]) =>
      new ForeignPromise<Uint8Array>((resolve) => {
        const hash = createHash("sha256");
        for (const part of parts) hash.update(part);
        resolve(new Uint8Array(hash.digest()));
      }) as Promise<Uint8Array>;
    expect(sha256([]) instanceof Promise).toBe(false);
    const o = resolveOptions({ sha256 });
    const url = new URL(`${ORIGIN}/search`);
    const key = (body: string) => cacheKey("POST", url, new Headers(), new TextEncoder().encode(body), undefined, o);
    const [a, b] = await Promise.all([key('{"q":1}'), key('{"q":2}')]);
    expect(a.hex).toMatch(/^[0-9a-f]{64}$/);
    expect(a.hex).not.toBe(b.hex);
    expect(a).toEqual(
      await cacheKey("POST", url, new Headers(), new TextEncoder().encode('{"q":1}'), undefined, resolveOptions()),
    );
  });

  test("a store returning a body made in another realm is still an entry", async () => {
    const { runInNewContext } = await import("node:vm");
    const h = harness();
    const o = origin("/search", () => new Response("answer", { headers: { "cache-control": "max-age=60" } }));
    const base = h.store;
    const foreign = {
      ...base,
      name: "foreign",
      get: async (key: string) => {
        const entry = await base.get(key);
        if (!entry) return undefined;
        const body = runInNewContext(`new Uint8Array([${[...entry.body].join(",")}])`) as Uint8Array;
        expect(body instanceof Uint8Array).toBe(false);
        return { ...entry, body };
      },
    };
    const h2 = harness({}, foreign);
    await (await h2.send(post("/search"))).text();
    await h2.settle();
    const hit = await h2.send(post("/search"));
    expect(status(hit)).toMatch(/hit/);
    expect(await hit.text()).toBe("answer");
    expect(o.calls).toBe(1);
  });
});
