/**
 * postcache/client against the Bun adapter on a real Bun.serve, in front of a real counting origin:
 * what the client sends, what the edge answers, what the caller sees.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { createPostcacheClient } from "../../core/client.ts";
import { BODY_REQUIRED_PROBLEM } from "../../core/handshake.ts";
import { type Edge, HIT, jsonBody, recorder, startEdge } from "./edge.ts";

const digestOf = (body: string) => `sha-256=:${createHash("sha256").update(body).digest("base64")}:`;
const JSON_HEADERS = { "content-type": "application/json" };

describe("postcache/client with the Bun edge", () => {
  let edge: Edge;
  beforeAll(async () => {
    edge = await startEdge();
  });
  afterAll(() => edge.stop());

  const post = (client: ReturnType<typeof createPostcacheClient>, body: string, path = "/search") =>
    client(`${edge.url}${path}`, { method: "POST", body, headers: JSON_HEADERS });

  test("first call: digest only, 412, the full body once; the caller sees one 200 and the origin one call", async () => {
    const body = jsonBody("first");
    const { fetch, log } = recorder();
    const res = await post(createPostcacheClient({ fetch }), body);
    expect(res.status).toBe(200);
    expect((await res.json()).digest).toBe(createHash("sha256").update(body).digest("hex"));
    expect(log.map((e) => [e.status, e.bodyBytes, e.headers["postcache-body"] ?? "full"])).toEqual([
      [412, 0, "omitted"],
      [200, body.length, "full"],
    ]);
    // The digest the client computes is the body's: the edge verifies it on the full request and keeps it.
    expect(log[0].headers["content-digest"]).toBe(digestOf(body));
    expect(log[1].headers["content-digest"]).toBe(digestOf(body));
    expect(log[1].headers["content-type"]).toBe("application/json");
    expect(log[1].cacheStatus).toMatch(/fwd=uri-miss; fwd-status=200; stored/);
    expect(edge.origin.calls("POST", "/search", body)).toBe(1);
  });

  test("a fresh client: the digest alone, answered from cache, the body never sent", async () => {
    const body = jsonBody("fresh");
    const first = await (await post(createPostcacheClient(), body)).text();
    const { fetch, log } = recorder();
    const res = await post(createPostcacheClient({ fetch }), body);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-status")).toMatch(HIT);
    expect(await res.text()).toBe(first);
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ bodyBytes: 0, status: 200, headers: { "postcache-body": "omitted" } });
    expect(edge.origin.calls("POST", "/search", body)).toBe(1);
  });

  test("when the answer expired but the edge kept the body, the digest alone still gets an answer", async () => {
    const body = jsonBody("private-ttl");
    // /private answers `private`: not stored, so every request reaches the origin, which needs the body.
    await (await post(createPostcacheClient(), body, "/private")).text();
    const { fetch, log } = recorder();
    const res = await post(createPostcacheClient({ fetch }), body, "/private");
    expect(res.status).toBe(200);
    expect((await res.json()).digest).toBe(createHash("sha256").update(body).digest("hex"));
    expect(log.map((e) => [e.status, e.bodyBytes])).toEqual([[200, 0]]);
    expect(edge.origin.calls("POST", "/private", body)).toBe(2);
  });

  test("with the answer cache: If-None-Match, a 304 on the wire, the remembered 200 for the caller", async () => {
    const body = jsonBody("revalidate");
    const { fetch, log } = recorder();
    const client = createPostcacheClient({ fetch, answerCache: true });
    const first = await post(client, body);
    const answer = await first.text();
    // A miss carries no ETag (the edge computes it while storing); the first hit does.
    const hit = await post(client, body);
    const etag = hit.headers.get("etag");
    expect(etag).toMatch(/^"pc-/);
    expect(await hit.text()).toBe(answer);
    const third = await post(client, body);
    expect(third.status).toBe(200);
    expect(third.headers.get("etag")).toBe(etag);
    expect(third.headers.get("content-type")).toBe("application/json");
    expect(third.headers.get("cache-status")).toMatch(HIT);
    expect(await third.text()).toBe(answer);
    expect(log.map((e) => e.status)).toEqual([412, 200, 200, 304]);
    expect(log[3]).toMatchObject({ bodyBytes: 0, headers: { "if-none-match": etag, "postcache-body": "omitted" } });
    expect(edge.origin.calls("POST", "/search", body)).toBe(1);
  });

  test("a forged digest cannot be planted: the edge rejects the mismatch, keeps nothing, calls no origin", async () => {
    const body = jsonBody("forged");
    const lie = digestOf(jsonBody("something else"));
    const forged = await fetch(`${edge.url}/search`, {
      method: "POST",
      body,
      headers: { ...JSON_HEADERS, "content-digest": lie },
    });
    expect(forged.status).toBe(400);
    expect((await forged.json()).type).toBe("urn:postcache:problem:digest-mismatch");
    const probe = await fetch(`${edge.url}/search`, {
      method: "POST",
      headers: { ...JSON_HEADERS, "content-digest": lie, "postcache-body": "omitted" },
    });
    expect(probe.status).toBe(412);
    expect((await probe.json()).type).toBe(BODY_REQUIRED_PROBLEM);
    expect(edge.origin.calls("POST", "/search", body)).toBe(0);
    expect(edge.origin.calls("POST", "/search", "")).toBe(0);
  });

  test("GET passes through untouched", async () => {
    const { fetch, log } = recorder();
    const res = await createPostcacheClient({ fetch })(`${edge.url}/items?id=7`, { headers: { accept: "application/json" } });
    expect(res.status).toBe(200);
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ method: "GET", bodyBytes: 0, headers: { accept: "application/json" } });
    expect(log[0].headers["content-digest"]).toBeUndefined();
    expect(edge.origin.calls("GET", "/items?id=7")).toBe(1);
  });

  test("a small body travels whole, with no handshake headers", async () => {
    const body = JSON.stringify({ q: "small" });
    const { fetch, log } = recorder();
    const res = await post(createPostcacheClient({ fetch }), body);
    expect(res.status).toBe(200);
    expect(log).toHaveLength(1);
    expect(log[0].bodyBytes).toBe(body.length);
    expect(log[0].headers["content-digest"]).toBeUndefined();
    expect(log[0].headers["postcache-body"]).toBeUndefined();
    expect(edge.origin.calls("POST", "/search", body)).toBe(1);
  });

  test("a stream body passes through untouched", async () => {
    const body = jsonBody("stream");
    const half = body.length >> 1;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(body.slice(0, half)));
        controller.enqueue(new TextEncoder().encode(body.slice(half)));
        controller.close();
      },
    });
    const { fetch, log } = recorder(false);
    const client = createPostcacheClient({ fetch });
    const res = await client(`${edge.url}/search`, { method: "POST", body: stream, duplex: "half" } as RequestInit);
    expect(res.status).toBe(200);
    expect(log).toHaveLength(1);
    expect(log[0].headers["content-digest"]).toBeUndefined();
    expect(log[0].headers["postcache-body"]).toBeUndefined();
    expect(edge.origin.calls("POST", "/search", body)).toBe(1);
  });

  test("QUERY takes part like POST", async () => {
    const body = jsonBody("query-method");
    const { fetch, log } = recorder();
    const client = createPostcacheClient({ fetch });
    const first = await client(`${edge.url}/search`, { method: "QUERY", body, headers: JSON_HEADERS });
    const answer = await first.text();
    const second = await client(`${edge.url}/search`, { method: "QUERY", body, headers: JSON_HEADERS });
    expect(await second.text()).toBe(answer);
    expect(log.map((e) => [e.method, e.status, e.bodyBytes])).toEqual([
      ["QUERY", 412, 0],
      ["QUERY", 200, body.length],
      ["QUERY", 200, 0],
    ]);
    expect(log[2].cacheStatus).toMatch(HIT);
    expect(edge.origin.calls("QUERY", "/search", body)).toBe(1);
  });

  test("the caller's Request: its headers and body go out; a used one is an error, nothing sent", async () => {
    const body = jsonBody("request-object");
    const { fetch, log } = recorder();
    const client = createPostcacheClient({ fetch });
    const request = new Request(`${edge.url}/search`, {
      method: "POST",
      body,
      headers: { ...JSON_HEADERS, "x-trace": "t-1" },
    });
    const res = await client(request);
    expect(res.status).toBe(200);
    expect(log.map((e) => [e.headers["x-trace"], e.bodyBytes])).toEqual([
      ["t-1", 0],
      ["t-1", body.length],
    ]);
    const used = new Request(`${edge.url}/search`, { method: "POST", body });
    await used.text();
    await expect(client(used)).rejects.toThrow(/already used/);
    expect(log).toHaveLength(2);
  });

  test("abort: before the call nothing is sent; between the 412 and the resend, the full body never goes out", async () => {
    const body = jsonBody("abort");
    const sent: string[] = [];
    let controller = new AbortController();
    const client = createPostcacheClient({
      fetch: async (request) => {
        sent.push(request.headers.get("postcache-body") ?? "full");
        const response = await fetch(request);
        if (response.status === 412) controller.abort();
        return response;
      },
    });
    controller.abort();
    const call = (signal: AbortSignal) => client(`${edge.url}/search`, { method: "POST", body, signal });
    await expect(call(controller.signal)).rejects.toMatchObject({ name: "AbortError" });
    await call(controller.signal).catch(() => {});
    expect(sent).toEqual([]);
    controller = new AbortController();
    await expect(call(controller.signal)).rejects.toMatchObject({ name: "AbortError" });
    await Bun.sleep(20);
    expect(sent).toEqual(["omitted"]);
    expect(edge.origin.calls("POST", "/search", body)).toBe(0);
  });
});

describe("postcache/client with the handshake switched off at the edge", () => {
  let edge: Edge;
  beforeAll(async () => {
    edge = await startEdge({ handshake: false });
  });
  afterAll(() => edge.stop());

  test("one 412, then the full request; remembered: no more digest-only attempts to that origin", async () => {
    const { fetch, log } = recorder();
    const client = createPostcacheClient({ fetch });
    for (const tag of ["off-1", "off-2", "off-3"]) {
      const res = await client(`${edge.url}/search`, { method: "POST", body: jsonBody(tag), headers: JSON_HEADERS });
      expect(res.status).toBe(200);
    }
    expect(log.map((e) => [e.status, e.headers["postcache-body"] ?? "full"])).toEqual([
      [412, "omitted"],
      [200, "full"],
      [200, "full"],
      [200, "full"],
    ]);
  });

  test("with rememberOffMs 0 every call tries the digest first, and still gets its answer", async () => {
    const { fetch, log } = recorder();
    const client = createPostcacheClient({ fetch, rememberOffMs: 0 });
    for (const tag of ["again-1", "again-2"]) {
      const res = await client(`${edge.url}/search`, { method: "POST", body: jsonBody(tag), headers: JSON_HEADERS });
      expect(res.status).toBe(200);
    }
    expect(log.map((e) => e.status)).toEqual([412, 200, 412, 200]);
  });
});
