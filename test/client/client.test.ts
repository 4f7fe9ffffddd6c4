/**
 * postcache/client's own rules, against a scripted edge (a `fetch` option that answers in-process):
 * which requests take part, what each body type digests to, once-only resend, the answer cache's
 * bounds, and what is handed back untouched.
 */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { createPostcacheClient, type FetchLike } from "../../core/client.ts";
import { BODY_REQUIRED_PROBLEM } from "../../core/handshake.ts";

const URL_ = "https://api.example/search";
const BIG = "b".repeat(2048);
const digestOf = (bytes: string | Uint8Array) => `sha-256=:${createHash("sha256").update(bytes).digest("base64")}:`;

interface Sent {
  method: string;
  headers: Headers;
  body: Uint8Array;
}

/** The edge's 412, as core/handler.ts words it: `reason` is what a client acts on. */
const bodyRequired = (reason = "unknown-body", detail = "this body is not known here") =>
  new Response(JSON.stringify({ type: BODY_REQUIRED_PROBLEM, title: "Send the full request", status: 412, detail, reason }), {
    status: 412,
    headers: { "content-type": "application/problem+json" },
  });

/** An edge scripted by `answer`, which sees each request with its body read. */
function scripted(answer: (sent: Sent, index: number) => Response | Promise<Response>): { fetch: FetchLike; sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    sent,
    fetch: async (request) => {
      const s = { method: request.method, headers: request.headers, body: new Uint8Array(await request.arrayBuffer()) };
      sent.push(s);
      return answer(s, sent.length - 1);
    },
  };
}

/** Like postcache: 412 for a digest alone unless it knows the body; answers with an ETag per body. */
function fakeEdge(etag = true) {
  const known = new Set<string>();
  return scripted((s) => {
    const digest = s.headers.get("content-digest") ?? "";
    if (s.headers.get("postcache-body") === "omitted" && !known.has(digest)) return bodyRequired();
    if (s.body.byteLength > 0 && digest) known.add(digest);
    const tag = `"${digest.slice(10, 20)}"`;
    if (etag && s.headers.get("if-none-match") === tag)
      return new Response(null, { status: 304, headers: { etag: tag, age: "9" } });
    return new Response(`answer ${digest}`, {
      headers: { "content-type": "text/plain", ...(etag ? { etag: tag } : {}), age: "1" },
    });
  });
}

describe("which requests take part", () => {
  test.each([
    ["string", () => BIG, new TextEncoder().encode(BIG)],
    ["Uint8Array", () => new Uint8Array(2000).fill(7), new Uint8Array(2000).fill(7)],
    ["ArrayBuffer", () => new Uint8Array(2000).fill(8).buffer, new Uint8Array(2000).fill(8)],
    ["DataView", () => new DataView(new Uint8Array(2000).fill(9).buffer), new Uint8Array(2000).fill(9)],
    ["Blob", () => new Blob([BIG.slice(0, 1500), BIG.slice(1500)]), new TextEncoder().encode(BIG)],
    [
      "URLSearchParams",
      () => new URLSearchParams({ q: BIG }),
      new TextEncoder().encode(new URLSearchParams({ q: BIG }).toString()),
    ],
  ] as const)("a %s body: the digest of its bytes, then those bytes once", async (_, make, bytes) => {
    const { fetch, sent } = scripted((_, i) => (i === 0 ? bodyRequired() : new Response("ok")));
    const res = await createPostcacheClient({ fetch })(URL_, { method: "POST", body: make() as BodyInit });
    expect(await res.text()).toBe("ok");
    expect(sent).toHaveLength(2);
    expect(sent[0].body.byteLength).toBe(0);
    expect(sent[0].headers.get("content-digest")).toBe(digestOf(bytes));
    expect(sent[1].body).toEqual(new Uint8Array(bytes));
    expect(sent[1].headers.get("content-digest")).toBe(digestOf(bytes));
    expect(sent[1].headers.has("postcache-body")).toBe(false);
  });

  test("FormData, bodies over maxBodyBytes, other methods and filtered URLs go out as given", async () => {
    const { fetch, sent } = scripted(() => new Response("ok"));
    const client = createPostcacheClient({ fetch, maxBodyBytes: 4096, filter: (r) => !r.url.includes("/private/") });
    const form = new FormData();
    form.set("q", BIG);
    await client(URL_, { method: "POST", body: form });
    await client(URL_, { method: "POST", body: "z".repeat(5000) });
    await client(URL_, { method: "PUT", body: BIG });
    await client("https://api.example/private/search", { method: "POST", body: BIG });
    expect(sent.map((s) => [s.method, s.body.byteLength > 2000, s.headers.has("content-digest")])).toEqual([
      ["POST", true, false],
      ["POST", true, false],
      ["PUT", true, false],
      ["POST", true, false],
    ]);
  });

  test("minBodyBytes sets where the handshake starts", async () => {
    const { fetch, sent } = scripted(() => new Response("ok"));
    const client = createPostcacheClient({ fetch, minBodyBytes: 10 });
    await client(URL_, { method: "POST", body: "123456789" });
    await client(URL_, { method: "POST", body: "1234567890" });
    expect(sent.map((s) => s.headers.get("postcache-body"))).toEqual([null, "omitted"]);
  });

  test("a used Request is an error; a used Request with a new body in init is fine, as with fetch", async () => {
    const { fetch, sent } = scripted(() => new Response("ok"));
    const client = createPostcacheClient({ fetch });
    const used = new Request(URL_, { method: "POST", body: BIG });
    await used.arrayBuffer();
    await expect(client(used)).rejects.toThrow(TypeError);
    expect(sent).toHaveLength(0);
    await client(used, { body: BIG });
    expect(sent[0].headers.get("content-digest")).toBe(digestOf(BIG));
  });

  test("bad options fail at creation, naming the option", () => {
    expect(() => createPostcacheClient({ minBodyBytes: -1 })).toThrow(/option "minBodyBytes"/);
    expect(() => createPostcacheClient({ answerCache: { maxEntries: 1.5 } })).toThrow(/option "answerCache.maxEntries"/);
  });
});

describe("the resend", () => {
  test("once only: an edge that keeps asking gets one full request, and the caller its second answer", async () => {
    const { fetch, sent } = scripted(() => bodyRequired());
    const res = await createPostcacheClient({ fetch })(URL_, { method: "POST", body: BIG });
    expect(res.status).toBe(412);
    expect(sent.map((s) => s.body.byteLength)).toEqual([0, BIG.length]);
  });

  test("a 412 that is not postcache's body-required problem is the caller's answer, unread", async () => {
    for (const foreign of [
      () => new Response("precondition failed", { status: 412 }),
      () =>
        new Response(JSON.stringify({ type: "urn:example:other" }), {
          status: 412,
          headers: { "content-type": "application/problem+json" },
        }),
    ]) {
      const { fetch, sent } = scripted(foreign);
      const res = await createPostcacheClient({ fetch })(URL_, { method: "POST", body: BIG });
      expect(res.status).toBe(412);
      expect((await res.text()).length).toBeGreaterThan(0);
      expect(sent).toHaveLength(1);
    }
  });

  test("'switched off' is remembered per origin for rememberOffMs; other reasons are not", async () => {
    const { fetch, sent } = scripted((s) =>
      s.headers.get("postcache-body") === "omitted"
        ? bodyRequired(s.headers.get("x-reason") ?? "handshake-off")
        : new Response("ok"),
    );
    const client = createPostcacheClient({ fetch, rememberOffMs: 40 });
    const post = (url: string, headers: Record<string, string> = {}) => client(url, { method: "POST", body: BIG, headers });
    await post("https://b.example/x", { "x-reason": "not-cached" });
    await post("https://b.example/x");
    await post("https://a.example/x");
    await post("https://a.example/y");
    await post("https://b.example/x");
    await Bun.sleep(60);
    await post("https://a.example/x");
    const perCall = [
      ["omitted", "full"], // b: "not cached here", nothing remembered
      ["omitted", "full"], // b: switched off
      ["omitted", "full"], // a: switched off
      ["full"], // a, another path: remembered per origin
      ["full"], // b: remembered
      ["omitted", "full"], // a: forgotten after rememberOffMs
    ];
    expect(sent.map((s) => s.headers.get("postcache-body") ?? "full")).toEqual(perCall.flat());
  });
});

describe("the answer cache", () => {
  test("off by default: no If-None-Match is ever added", async () => {
    const { fetch, sent } = fakeEdge();
    const client = createPostcacheClient({ fetch });
    for (let i = 0; i < 3; i++) await (await client(URL_, { method: "POST", body: BIG })).text();
    expect(sent.some((s) => s.headers.has("if-none-match"))).toBe(false);
  });

  test("a 304 becomes the remembered 200, with the 304's fresher headers", async () => {
    const { fetch, sent } = fakeEdge();
    const client = createPostcacheClient({ fetch, answerCache: true });
    const first = await (await client(URL_, { method: "POST", body: BIG })).text();
    const again = await client(URL_, { method: "POST", body: BIG });
    expect(sent.at(-1)?.headers.get("if-none-match")).toMatch(/^"/);
    // Else fetch itself would add `Cache-Control: no-cache` (Fetch standard), and the edge would go to the origin.
    expect(sent.at(-1)?.headers.get("cache-control")).toBe("min-fresh=0");
    expect(again.status).toBe(200);
    expect(again.headers.get("age")).toBe("9");
    expect(again.headers.get("content-type")).toBe("text/plain");
    expect(await again.text()).toBe(first);
    const mine = await client(URL_, { method: "POST", body: BIG, headers: { "cache-control": "max-stale=5" } });
    expect(await mine.text()).toBe(first);
    expect(sent.at(-1)?.headers.get("cache-control")).toBe("max-stale=5");
  });

  test("works for small bodies too (sent whole, with If-None-Match)", async () => {
    const { fetch, sent } = fakeEdge();
    const client = createPostcacheClient({ fetch, answerCache: true });
    const first = await (await client(URL_, { method: "POST", body: "{}" })).text();
    const again = await client(URL_, { method: "POST", body: "{}" });
    expect(await again.text()).toBe(first);
    expect(sent.map((s) => [s.body.byteLength, s.headers.has("if-none-match"), s.headers.has("postcache-body")])).toEqual([
      [2, false, false],
      [2, true, false],
    ]);
  });

  test("keeps only 200s with an ETag and without no-store; a caller's own If-None-Match gets its 304", async () => {
    const noEtag = fakeEdge(false);
    const client = createPostcacheClient({ fetch: noEtag.fetch, answerCache: true });
    for (let i = 0; i < 2; i++) await (await client(URL_, { method: "POST", body: BIG })).text();
    expect(noEtag.sent.some((s) => s.headers.has("if-none-match"))).toBe(false);

    const noStore = scripted(() => new Response("x", { headers: { etag: '"e"', "cache-control": "no-store" } }));
    const c2 = createPostcacheClient({ fetch: noStore.fetch, answerCache: true, minBodyBytes: 1e6 });
    for (let i = 0; i < 2; i++) await (await c2(URL_, { method: "POST", body: BIG })).text();
    expect(noStore.sent.some((s) => s.headers.has("if-none-match"))).toBe(false);

    const edge = fakeEdge();
    const c3 = createPostcacheClient({ fetch: edge.fetch, answerCache: true });
    const etag = (await c3(URL_, { method: "POST", body: BIG })).headers.get("etag") as string;
    const mine = await c3(URL_, { method: "POST", body: BIG, headers: { "if-none-match": etag } });
    expect(mine.status).toBe(304);
  });

  test("bounded: the least recently used answer goes first, and one over maxBytes is never kept", async () => {
    const { fetch, sent } = fakeEdge();
    const client = createPostcacheClient({ fetch, answerCache: { maxEntries: 2, maxBytes: 10_000 } });
    const post = async (body: string) => {
      await (await client(URL_, { method: "POST", body: body.padEnd(1500, ".") })).text();
      return sent.at(-1)?.headers.has("if-none-match");
    };
    await post("a");
    await post("b");
    expect(await post("a")).toBe(true); // a is now the most recent
    await post("c"); // evicts b
    expect(await post("b")).toBe(false);
    expect(await post("a")).toBe(false); // keeping b again evicted a, then the least recent
    const big = createPostcacheClient({ fetch, answerCache: { maxBytes: 10 } });
    for (let i = 0; i < 2; i++) await (await big(URL_, { method: "POST", body: BIG })).text();
    expect(sent.at(-1)?.headers.has("if-none-match")).toBe(false);
  });
});
