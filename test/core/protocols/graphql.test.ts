/**
 * GraphQL over POST through the engine: queries are cached under their meaning (normalised document,
 * canonical variables, operation name, persisted-query hash), everything else reaches the origin, and
 * answers that must not be reused (errors, persisted-query "not found") are not stored.
 */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { classifyBody, type PostcacheOptions } from "../../../core/index.ts";
import { LEARNED_HASHES } from "../../../core/protocols/graphql.ts";
import { type GraphqlOptions, graphql } from "../../../core/protocols/index.ts";
import { HttpResponse, harness, origin, post, status, useOrigin } from "../harness.ts";

useOrigin();

const CACHEABLE = { "cache-control": "max-age=60" };

/** A GraphQL origin at /graphql answering `{ data: { call } }`, or what `answer` says. */
function graphqlOrigin(answer: (call: number) => unknown = (call) => ({ data: { call } }), headers = CACHEABLE) {
  return origin("/graphql", (_request, call) => HttpResponse.json(answer(call) as object, { headers }));
}

function gql(body: unknown, headers: Record<string, string> = {}, path = "/graphql") {
  return post(path, typeof body === "string" ? body : JSON.stringify(body), headers);
}

function setup(options: GraphqlOptions = {}, more: PostcacheOptions = {}) {
  return harness({ protocols: [graphql(options)], ...more });
}

/** Sends each body in turn, settling in between; returns the Cache-Status of each. */
async function sendAll(h: ReturnType<typeof setup>, bodies: unknown[], headers: Record<string, string> = {}) {
  const statuses: string[] = [];
  for (const body of bodies) {
    const response = await h.send(gql(body, headers));
    await response.arrayBuffer();
    statuses.push(status(response));
    await h.settle();
  }
  return statuses;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

describe("graphql: queries are cached under what they mean", () => {
  test("a query: MISS and stored, then HIT with the same answer, one origin call", async () => {
    const h = setup();
    const o = graphqlOrigin();
    const first = await h.send(gql({ query: "{ viewer { name } }" }));
    expect(status(first)).toBe("postcache; fwd=uri-miss; fwd-status=200; stored");
    expect(await first.json()).toEqual({ data: { call: 1 } });
    await h.settle();
    const second = await h.send(gql({ query: "{ viewer { name } }" }));
    expect(status(second)).toMatch(/^postcache; hit; ttl=60$/);
    expect(await second.json()).toEqual({ data: { call: 1 } });
    expect(o.calls).toBe(1);
  });

  test("the origin receives the client's body byte for byte: normalisation is for the key only", async () => {
    const h = setup();
    const o = graphqlOrigin();
    const body = '{"query":"query Q {\\n  a # why\\n}","variables":{"b":1,"a":2}}';
    await (await h.send(gql(body))).arrayBuffer();
    expect(new TextDecoder().decode(o.bodies[0])).toBe(body);
  });

  test("white space, comments and commas do not change the key", async () => {
    const h = setup();
    const o = graphqlOrigin();
    const statuses = await sendAll(h, [
      { query: "query Q { a b }" },
      { query: "query Q{a,b}" },
      { query: "# list\nquery Q {\n  a # first\n  b\n}\n" },
      { query: "\ufeffquery Q {\r\n\ta,\r\n\tb,\r\n}" },
    ]);
    expect(statuses[0]).toMatch(/stored/);
    for (const s of statuses.slice(1)) expect(s).toMatch(/hit/);
    expect(o.calls).toBe(1);
  });

  test("what is inside strings is significant: a # or spaces in a string make another key", async () => {
    const h = setup();
    const o = graphqlOrigin();
    const statuses = await sendAll(h, [
      { query: '{ search(q: "a b") { id } }' },
      { query: '{ search(q: "a  b") { id } }' },
      { query: '{ search(q: "a b #c") { id } }' },
      { query: '{ search(q: """a b""") { id } }' },
    ]);
    for (const s of statuses) expect(s).toMatch(/uri-miss/);
    expect(o.calls).toBe(4);
  });

  test("variables in any member order and spacing share a key", async () => {
    const h = setup();
    const o = graphqlOrigin();
    const query = "query Q($a: Int, $b: In) { f(a: $a, b: $b) }";
    const statuses = await sendAll(h, [
      `{"query":${JSON.stringify(query)},"variables":{"a":1,"b":{"x":true,"y":[1,2]}}}`,
      `{"variables":{ "b":{"y":[1, 2],"x":true}, "a":1 },"query":${JSON.stringify(query)}}`,
    ]);
    expect(statuses[1]).toMatch(/hit/);
    expect(o.calls).toBe(1);
  });

  test("different variables, or numbers written differently, are a MISS", async () => {
    const h = setup();
    const o = graphqlOrigin();
    const query = "query Q($a: Float) { f(a: $a) }";
    const statuses = await sendAll(h, [
      { query, variables: { a: 1 } },
      { query, variables: { a: 2 } },
      `{"query":${JSON.stringify(query)},"variables":{"a":1.0}}`,
      { query, variables: { a: 1 }, extensions: { tracing: true } },
    ]);
    for (const s of statuses) expect(s).toMatch(/uri-miss/);
    expect(o.calls).toBe(4);
  });

  test("operationName is part of the key", async () => {
    const h = setup();
    const o = graphqlOrigin();
    const query = "query A { a } query B { b }";
    const statuses = await sendAll(h, [
      { query, operationName: "A" },
      { query, operationName: "B" },
      { query, operationName: "A" },
    ]);
    expect(statuses.map((s) => (/hit/.test(s) ? "hit" : "miss"))).toEqual(["miss", "miss", "hit"]);
    expect(o.calls).toBe(2);
  });

  test("concurrent identical queries make one origin call", async () => {
    const h = setup();
    const o = origin("/graphql", async (_r, call) => {
      await Bun.sleep(20);
      return HttpResponse.json({ data: { call } }, { headers: CACHEABLE });
    });
    const responses = await Promise.all(Array.from({ length: 10 }, () => h.send(gql({ query: "{ slow }" }))));
    for (const r of responses) expect(await r.json()).toEqual({ data: { call: 1 } });
    expect(o.calls).toBe(1);
  });

  test("application/graphql bodies are the document itself, normalised the same way", async () => {
    const h = setup();
    const o = graphqlOrigin();
    const send = async (doc: string) => {
      const r = await h.send(post("/graphql", doc, { "content-type": "application/graphql" }));
      await r.arrayBuffer();
      await h.settle();
      return status(r);
    };
    expect(await send("{ a b }")).toMatch(/stored/);
    expect(await send("{a,b} # same")).toMatch(/hit/);
    expect(await send("mutation { a }")).toMatch(/detail=graphql-mutation/);
    expect(o.calls).toBe(2);
  });
});

describe("graphql: what is not a cacheable query goes to the origin", () => {
  test("mutations and subscriptions bypass, every time", async () => {
    const h = setup();
    const o = graphqlOrigin();
    const statuses = await sendAll(h, [
      { query: "mutation { like(id: 1) }" },
      { query: "mutation { like(id: 1) }" },
      { query: "subscription { ticks }" },
    ]);
    expect(statuses).toEqual([
      "postcache; fwd=bypass; detail=graphql-mutation",
      "postcache; fwd=bypass; detail=graphql-mutation",
      "postcache; fwd=bypass; detail=graphql-subscription",
    ]);
    expect(o.calls).toBe(3);
    expect(h.postcache.stats().bypassReasons).toEqual({ "graphql-mutation": 2, "graphql-subscription": 1 });
  });

  test("a document with several operations is judged by the one operationName picks; absent or unknown, never guessed", async () => {
    const h = setup();
    const o = graphqlOrigin();
    const query = "query Read { a } mutation Write { b }";
    const statuses = await sendAll(h, [
      { query, operationName: "Read" },
      { query, operationName: "Read" },
      { query, operationName: "Write" },
      { query },
      { query, operationName: null },
      { query, operationName: "Other" },
      { query: "query Only { a }", operationName: "Other" },
    ]);
    expect(statuses[0]).toMatch(/stored/);
    expect(statuses[1]).toMatch(/hit/);
    expect(statuses[2]).toMatch(/detail=graphql-mutation/);
    for (const s of statuses.slice(3)) expect(s).toMatch(/fwd=bypass; detail=graphql-operation-unknown/);
    expect(o.calls).toBe(6);
  });

  test("documents that are not executable, or not GraphQL at all, bypass", async () => {
    const h = setup();
    graphqlOrigin();
    const cases: [string, Record<string, string>, string][] = [
      [JSON.stringify({ query: "{ a(" }), {}, "graphql-invalid"],
      [JSON.stringify({ query: "type Query { a: Int }" }), {}, "graphql-invalid"],
      [JSON.stringify({ query: 42 }), {}, "graphql-invalid"],
      [JSON.stringify({ variables: {} }), {}, "graphql-invalid"],
      [JSON.stringify({ query: "{ a }", operationName: 7 }), {}, "graphql-invalid"],
      ['{"query":"{ a }","query":"mutation { b }"}', {}, "graphql-invalid"],
      ["not json", {}, "graphql-invalid"],
      ["[]", {}, "graphql-invalid"],
      [JSON.stringify({ query: "{ a }" }), { "content-type": "text/plain" }, "graphql-content-type"],
      [
        "--x\r\nContent-Disposition: form-data\r\n",
        { "content-type": "multipart/form-data; boundary=x" },
        "graphql-content-type",
      ],
    ];
    for (const [body, headers, detail] of cases) {
      const r = await h.send(gql(body, headers));
      await r.arrayBuffer();
      expect(status(r), body).toBe(`postcache; fwd=bypass; detail=${detail}`);
    }
  });

  test("only the configured paths are judged as GraphQL", async () => {
    const h = setup({ paths: ["/api/gql"] });
    const other = origin("/graphql");
    const gqlOrigin = origin("/api/gql");
    // At /graphql this is just a body: cached like any other (the lead's path rules still apply).
    const r1 = await h.send(gql({ query: "mutation { a }" }));
    expect(status(r1)).toMatch(/stored/);
    const r2 = await h.send(gql({ query: "mutation { a }" }, {}, "/api/gql"));
    expect(status(r2)).toBe("postcache; fwd=bypass; detail=graphql-mutation");
    expect(other.calls + gqlOrigin.calls).toBe(2);
  });

  test("batches are cached only when every operation is a cacheable query", async () => {
    const h = setup();
    const o = graphqlOrigin((call) => [{ data: { call } }, { data: { call } }]);
    const statuses = await sendAll(h, [
      [{ query: "{ a }" }, { query: "query B { b }", variables: { x: 1 } }],
      [{ query: "{a}" }, { variables: { x: 1 }, query: "query B {b}" }],
      [{ query: "{ a }" }, { query: "mutation { b }" }],
      [{ query: "{ a }" }, { query: "query A { a } query B { b }" }],
    ]);
    expect(statuses[0]).toMatch(/stored/);
    expect(statuses[1]).toMatch(/hit/);
    expect(statuses[2]).toBe("postcache; fwd=bypass; detail=graphql-mutation");
    expect(statuses[3]).toBe("postcache; fwd=bypass; detail=graphql-operation-unknown");
    expect(o.calls).toBe(3);
  });
});

describe("graphql: operation-name allow and deny lists", () => {
  test("denyOperations: matching operations always reach the origin", async () => {
    const h = setup({ denyOperations: ["Viewer*", /^Admin$/] });
    const o = graphqlOrigin();
    const statuses = await sendAll(h, [
      { query: "query ViewerProfile { me }" },
      { query: "query ViewerProfile { me }" },
      { query: "query Admin { all }" },
      { query: "query Public { news }" },
      { query: "query Public { news }" },
    ]);
    expect(statuses.slice(0, 3)).toEqual([
      "postcache; fwd=bypass; detail=graphql-denied",
      "postcache; fwd=bypass; detail=graphql-denied",
      "postcache; fwd=bypass; detail=graphql-denied",
    ]);
    expect(statuses[4]).toMatch(/hit/);
    expect(o.calls).toBe(4);
  });

  test("allowOperations: only the named queries are cached; anonymous ones are not; mutations never", async () => {
    const h = setup({ allowOperations: ["Public", "List*"] });
    graphqlOrigin();
    const statuses = await sendAll(h, [
      { query: "query Public { news }" },
      { query: "query Public { news }" },
      { query: "query ListItems { items }" },
      { query: "query Other { x }" },
      { query: "{ x }" },
      { query: "mutation Public { x }" },
    ]);
    expect(statuses[1]).toMatch(/hit/);
    expect(statuses[2]).toMatch(/stored/);
    expect(statuses[3]).toBe("postcache; fwd=bypass; detail=graphql-not-allowed");
    expect(statuses[4]).toBe("postcache; fwd=bypass; detail=graphql-not-allowed");
    expect(statuses[5]).toBe("postcache; fwd=bypass; detail=graphql-mutation");
  });
});

describe("graphql: answers that must not be reused are not stored", () => {
  test("a non-empty `errors` is not stored by default, and Cache-Status says so", async () => {
    const h = setup();
    const o = graphqlOrigin((call) => ({ data: { a: null }, errors: [{ message: `boom ${call}` }] }));
    const statuses = await sendAll(h, [{ query: "{ a }" }, { query: "{ a }" }]);
    expect(statuses).toEqual([
      "postcache; fwd=uri-miss; fwd-status=200; detail=graphql-errors",
      "postcache; fwd=uri-miss; fwd-status=200; detail=graphql-errors",
    ]);
    expect(o.calls).toBe(2);
  });

  test("an empty `errors` list is no error", async () => {
    const h = setup();
    const o = graphqlOrigin((call) => ({ data: { call }, errors: [] }));
    const statuses = await sendAll(h, [{ query: "{ a }" }, { query: "{ a }" }]);
    expect(statuses[1]).toMatch(/hit/);
    expect(o.calls).toBe(1);
  });

  test("storeErrors: true stores partial results", async () => {
    const h = setup({ storeErrors: true });
    const o = graphqlOrigin((call) => ({ data: { call, b: null }, errors: [{ message: "b failed", path: ["b"] }] }));
    const statuses = await sendAll(h, [{ query: "{ call b }" }, { query: "{ call b }" }]);
    expect(statuses[1]).toMatch(/hit/);
    expect(o.calls).toBe(1);
  });

  for (const [name, error] of [
    ["code", { message: "not here", extensions: { code: "PERSISTED_QUERY_NOT_FOUND" } }],
    ["message", { message: "PersistedQueryNotFound" }],
    ["Apollo's usual form", { message: "PersistedQueryNotFound", extensions: { code: "PERSISTED_QUERY_NOT_FOUND" } }],
  ] as const) {
    test(`PERSISTED_QUERY_NOT_FOUND (by ${name}) is never stored, even with storeErrors`, async () => {
      const h = setup({ storeErrors: true, allowOperations: ["GetUser"] });
      const o = graphqlOrigin(() => ({ errors: [error] }));
      const body = { operationName: "GetUser", extensions: { persistedQuery: { version: 1, sha256Hash: "ab".repeat(32) } } };
      const statuses = await sendAll(h, [body, body]);
      for (const s of statuses)
        expect(s).toBe("postcache; fwd=uri-miss; fwd-status=200; detail=graphql-persisted-query-not-found");
      expect(o.calls).toBe(2);
    });
  }

  test("a batch answer with an error in any element is not stored", async () => {
    const h = setup();
    const o = graphqlOrigin((call) => [{ data: { call } }, { errors: [{ message: "no" }] }]);
    const batch = [{ query: "{ a }" }, { query: "{ b }" }];
    const statuses = await sendAll(h, [batch, batch]);
    for (const s of statuses) expect(s).toMatch(/detail=graphql-errors/);
    expect(o.calls).toBe(2);
  });

  test("answers that are not JSON (incremental delivery, an HTML error page) are not stored", async () => {
    const h = setup();
    const o = origin(
      "/graphql",
      () =>
        new Response("--graphql\r\n\r\n{}", { headers: { "content-type": 'multipart/mixed; boundary="graphql"', ...CACHEABLE } }),
    );
    const statuses = await sendAll(h, [{ query: "{ a @defer }" }, { query: "{ a @defer }" }]);
    for (const s of statuses) expect(s).toMatch(/detail=graphql-not-json/);
    expect(o.calls).toBe(2);
  });

  test("an answer past maxResponseBytes reaches the client whole and is not stored", async () => {
    const h = setup({}, { maxResponseBytes: 1000 });
    const o = graphqlOrigin((call) => ({ data: { call, big: "x".repeat(5000) } }));
    const first = await h.send(gql({ query: "{ big }" }));
    expect((await first.json()).data.big).toHaveLength(5000);
    await h.settle();
    const second = await h.send(gql({ query: "{ big }" }));
    expect(status(second)).toMatch(/uri-miss/);
    expect((await second.json()).data.call).toBe(2);
    expect(o.calls).toBe(2);
  });

  test("waiters on an answer that is not stored ask the origin themselves", async () => {
    const h = setup();
    const o = origin("/graphql", async (_r, call) => {
      await Bun.sleep(20);
      return HttpResponse.json({ errors: [{ message: `e${call}` }] }, { headers: CACHEABLE });
    });
    const responses = await Promise.all(Array.from({ length: 3 }, () => h.send(gql({ query: "{ a }" }))));
    for (const r of responses) expect(status(r)).toMatch(/detail=graphql-errors/);
    expect(o.calls).toBe(3);
  });
});

describe("graphql: Apollo automatic persisted queries", () => {
  const query = "query GetUser($id: ID!) { user(id: $id) { name } }";
  const hash = sha256(query);
  const apq = (h: string, extra: object = {}) => ({
    operationName: "GetUser",
    variables: { id: "1" },
    extensions: { persistedQuery: { version: 1, sha256Hash: h } },
    ...extra,
  });

  test("a hash this engine has never seen, with no allow list, reaches the origin (it could name a mutation)", async () => {
    const h = setup();
    const o = graphqlOrigin();
    const statuses = await sendAll(h, [apq(hash), apq(hash)]);
    for (const s of statuses) expect(s).toBe("postcache; fwd=bypass; detail=graphql-persisted-unknown");
    expect(o.calls).toBe(2);
  });

  test("the APQ round trip: once the query is registered with its hash, hash-only requests are cached, keyed by hash", async () => {
    const h = setup();
    const o = graphqlOrigin((call) => (call === 1 ? { errors: [{ message: "PersistedQueryNotFound" }] } : { data: { call } }));
    const statuses = await sendAll(h, [
      apq(hash), // the client tries the hash: unknown here, the origin says "not found"
      apq(hash, { query }), // the client registers: a normal query, and the hash is learned
      apq(hash), // hash only: now known to be a query
      apq(hash),
      apq(hash, { variables: { id: "2" } }),
    ]);
    expect(statuses[0]).toBe("postcache; fwd=bypass; detail=graphql-persisted-unknown");
    expect(statuses[1]).toMatch(/stored/);
    expect(statuses[2]).toMatch(/uri-miss.*stored/);
    expect(statuses[3]).toMatch(/hit/);
    expect(statuses[4]).toMatch(/uri-miss/);
    expect(o.calls).toBe(4);
  });

  test("a registration whose hash is not the query's teaches nothing", async () => {
    const h = setup();
    graphqlOrigin();
    const wrong = sha256("query GetUser { somethingElse }");
    const statuses = await sendAll(h, [apq(wrong, { query }), apq(wrong)]);
    expect(statuses[1]).toBe("postcache; fwd=bypass; detail=graphql-persisted-unknown");
  });

  test("a learned hash for a mutation keeps bypassing", async () => {
    const h = setup();
    graphqlOrigin();
    const mutation = "mutation Like { like }";
    const body = { extensions: { persistedQuery: { version: 1, sha256Hash: sha256(mutation) } } };
    const statuses = await sendAll(h, [{ ...body, query: mutation }, body]);
    expect(statuses).toEqual([
      "postcache; fwd=bypass; detail=graphql-mutation",
      "postcache; fwd=bypass; detail=graphql-mutation",
    ]);
  });

  test("with the operation on the allow list, unseen hashes are cached, each hash its own key", async () => {
    const h = setup({ allowOperations: ["GetUser"] });
    const o = graphqlOrigin();
    const other = "cd".repeat(32);
    const statuses = await sendAll(h, [apq(hash), apq(hash), apq(other), apq(hash, { operationName: "Other" })]);
    expect(statuses[0]).toMatch(/stored/);
    expect(statuses[1]).toMatch(/hit/);
    expect(statuses[2]).toMatch(/uri-miss/);
    // Another name is not on the list: nothing vouches for it.
    expect(statuses[3]).toBe("postcache; fwd=bypass; detail=graphql-not-allowed");
    expect(o.calls).toBe(3);
  });

  test("the learned hashes are bounded, oldest forgotten first", async () => {
    const protocol = graphql();
    const context = {
      sha256: (parts: readonly Uint8Array[]) => new Uint8Array(createHash("sha256").update(parts[0]).digest()),
      mutationVerbs: new Set<string>(),
    };
    const url = new URL("https://api.example.test/graphql");
    const headers = new Headers({ "content-type": "application/json" });
    for (let i = 0; i < LEARNED_HASHES + 5; i++) {
      const q = `{ f${i} }`;
      const body = JSON.stringify({ query: q, extensions: { persistedQuery: { version: 1, sha256Hash: sha256(q) } } });
      expect(
        (await classifyBody([protocol], url, headers, new TextEncoder().encode(body), context, () => {}))?.bypass,
      ).toBeUndefined();
    }
    expect(protocol.settings.learned.size).toBe(LEARNED_HASHES);
    expect(protocol.settings.learned.has(sha256("{ f4 }"))).toBe(false);
    expect(protocol.settings.learned.has(sha256("{ f5 }"))).toBe(true);
  });
});
