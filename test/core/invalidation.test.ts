/**
 * RFC 9111 §4.4: a successful unsafe request invalidates what is stored for its target URI, and for the
 * same-origin URIs in its answer's Location and Content-Location.
 */
import { describe, expect, test } from "bun:test";
import { graphql } from "../../core/protocols/index.ts";
import { harness, ORIGIN, post, status } from "./harness.ts";

/** An origin whose POST answers are numbered per path, and whose writes answer `write` (status, headers). */
function numbered(write: { status?: number; headers?: Record<string, string> } = {}) {
  const calls = new Map<string, number>();
  return async (request: Request) => {
    const url = new URL(request.url);
    await request.arrayBuffer();
    if (request.method !== "POST" || url.pathname.includes("/add") || request.headers.has("x-http-method-override")) {
      return new Response("written", { status: write.status ?? 200, headers: write.headers });
    }
    const n = (calls.get(url.pathname + url.search) ?? 0) + 1;
    calls.set(url.pathname + url.search, n);
    return new Response(`${url.pathname}${url.search} v${n}`, { headers: { "cache-control": "max-age=300" } });
  };
}

async function fill(h: ReturnType<typeof harness>, path: string) {
  await (await h.send(post(path))).text();
  await h.settle();
  const hit = await h.send(post(path));
  expect(status(hit)).toMatch(/hit/);
  return hit.text();
}

async function read(h: ReturnType<typeof harness>, path: string) {
  const res = await h.send(post(path));
  const text = await res.text();
  await h.settle();
  return { status: status(res), text };
}

describe("URI invalidation (RFC 9111 §4.4)", () => {
  for (const method of ["PUT", "PATCH", "DELETE"]) {
    test(`a successful ${method} purges the stored answers for its URI, and only those`, async () => {
      const h = harness({}, undefined, numbered());
      await fill(h, "/items/42");
      await fill(h, "/items/42?view=full");
      await fill(h, "/items/43");
      const write = await h.send(new Request(`${ORIGIN}/items/42`, { method, body: method === "DELETE" ? null : "{}" }));
      expect(write.status).toBe(200);
      expect(await read(h, "/items/42")).toEqual({ status: expect.stringMatching(/fwd=uri-miss/), text: "/items/42 v2" });
      expect((await read(h, "/items/42?view=full")).status).toMatch(/hit/); // another URI (its query differs)
      expect((await read(h, "/items/43")).status).toMatch(/hit/);
    });
  }

  test("a POST bypassed as a mutation purges its URI and its same-origin Location and Content-Location", async () => {
    const h = harness(
      {},
      undefined,
      numbered({ status: 303, headers: { location: "/cart", "content-location": `${ORIGIN}/cart/summary` } }),
    );
    await fill(h, "/cart");
    await fill(h, "/cart/summary");
    await fill(h, "/catalog");
    const added = await h.send(post("/cart/add"));
    expect(status(added)).toMatch(/detail=mutation/);
    expect((await read(h, "/cart")).status).toMatch(/uri-miss/);
    expect((await read(h, "/cart/summary")).status).toMatch(/uri-miss/);
    expect((await read(h, "/catalog")).status).toMatch(/hit/);
  });

  test("a POST with a method-override header invalidates its URI", async () => {
    const h = harness({}, undefined, numbered());
    await fill(h, "/items/7");
    await h.send(post("/items/7", "{}", { "x-http-method-override": "DELETE" }));
    expect((await read(h, "/items/7")).status).toMatch(/uri-miss/);
  });

  test("a Location on another origin is left alone", async () => {
    const h = harness({}, undefined, numbered({ headers: { location: "https://other.example.test/items/1" } }));
    const other = "https://other.example.test/items/1";
    await (await h.send(new Request(other, { method: "POST", body: "{}" }))).text();
    await h.settle();
    await h.send(new Request(`${ORIGIN}/items/1`, { method: "PUT", body: "{}" }));
    expect(status(await h.send(new Request(other, { method: "POST", body: "{}" })))).toMatch(/hit/);
  });

  test("a failed write (4xx, 5xx) invalidates nothing", async () => {
    for (const code of [400, 409, 500]) {
      const h = harness({}, undefined, numbered({ status: code }));
      await fill(h, "/items/1");
      await h.send(new Request(`${ORIGIN}/items/1`, { method: "PUT", body: "{}" }));
      expect({ code, status: (await read(h, "/items/1")).status }).toEqual({ code, status: expect.stringMatching(/hit/) });
    }
  });

  test("a POST bypassed for its credentials invalidates nothing", async () => {
    const h = harness({}, undefined, numbered());
    await fill(h, "/items/1");
    const res = await h.send(post("/items/1", "{}", { authorization: "Bearer x" }));
    expect(status(res)).toMatch(/detail=credentials/);
    expect((await read(h, "/items/1")).status).toMatch(/hit/);
  });

  test("a GraphQL mutation does not wipe the cached queries at /graphql", async () => {
    const h = harness({ protocols: [graphql()] }, undefined, async (request) => {
      await request.text();
      return Response.json({ data: { ok: true } }, { headers: { "cache-control": "max-age=300" } });
    });
    const query = JSON.stringify({ query: "{ items { id } }" });
    await (await h.send(post("/graphql", query))).text();
    await h.settle();
    const mutation = await h.send(post("/graphql", JSON.stringify({ query: "mutation { add(id: 1) { id } }" })));
    expect(status(mutation)).toMatch(/detail=graphql-mutation/);
    expect(status(await h.send(post("/graphql", query)))).toMatch(/hit/);
  });

  test("uriInvalidation: false switches it off", async () => {
    const h = harness({ uriInvalidation: false }, undefined, numbered());
    await fill(h, "/items/1");
    await h.send(new Request(`${ORIGIN}/items/1`, { method: "PUT", body: "{}" }));
    expect((await read(h, "/items/1")).status).toMatch(/hit/);
  });

  test("the write's answer waits for the purge, so the client's next read sees the change", async () => {
    const h = harness({}, undefined, numbered());
    await fill(h, "/items/1");
    // No settle between the write and the read.
    await h.send(new Request(`${ORIGIN}/items/1`, { method: "PUT", body: "{}" }));
    expect(status(await h.send(post("/items/1")))).toMatch(/uri-miss/);
  });
});
