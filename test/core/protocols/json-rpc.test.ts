/**
 * JSON-RPC 2.0 through the engine: calls are judged by method, keyed without their `id`, and every
 * answer served from the cache carries the `id` of the request it answers (§5).
 */
import { describe, expect, test } from "bun:test";
import type { PostcacheOptions } from "../../../core/index.ts";
import { type JsonRpcOptions, jsonRpc } from "../../../core/protocols/index.ts";
import { HttpResponse, harness, origin, post, status, useOrigin } from "../harness.ts";

useOrigin();

const CACHEABLE = { "cache-control": "max-age=60" };

/** A JSON-RPC origin at /rpc: answers `result: {method, params, call}` with the request's own id, as
 * written (so large ids keep their digits), or an error for methods starting with `fail`. */
function rpcOrigin(delayMs = 0) {
  return origin("/rpc", async (request, call) => {
    const text = await request.text();
    const call_ = JSON.parse(text);
    const id = /"id"\s*:\s*("[^"]*"|[-\d.eE+]+|null)/.exec(text)?.[1] ?? "null";
    if (delayMs) await Bun.sleep(delayMs);
    const member = String(call_.method).startsWith("fail")
      ? `"error":{"code":-32000,"message":"failed ${call}"}`
      : `"result":${JSON.stringify({ method: call_.method, params: call_.params, call })}`;
    return new Response(`{"jsonrpc":"2.0",${member},"id":${id}}`, {
      headers: { "content-type": "application/json", ...CACHEABLE },
    });
  });
}

const rpc = (body: unknown) => post("/rpc", typeof body === "string" ? body : JSON.stringify(body));

function setup(settings: JsonRpcOptions = {}, more: PostcacheOptions = {}) {
  return harness({ protocols: [jsonRpc(settings)], ...more });
}

async function send(h: ReturnType<typeof setup>, body: unknown) {
  const response = await h.send(rpc(body));
  const text = await response.text();
  await h.settle();
  return { status: status(response), text, json: JSON.parse(text), response };
}

describe("json-rpc: the id is not in the key, and every answer carries the caller's id", () => {
  test("the same method and params with another id: a HIT whose id is the second request's", async () => {
    const h = setup();
    const o = rpcOrigin();
    const first = await send(h, { jsonrpc: "2.0", method: "eth_getBalance", params: ["0xabc", "latest"], id: 1 });
    expect(first.status).toMatch(/stored/);
    expect(first.json.id).toBe(1);
    const second = await send(h, { jsonrpc: "2.0", method: "eth_getBalance", params: ["0xabc", "latest"], id: 2 });
    expect(second.status).toMatch(/hit/);
    expect(second.json).toEqual({ ...first.json, id: 2 });
    const third = await send(h, { jsonrpc: "2.0", method: "eth_getBalance", params: ["0xabc", "latest"], id: "abc-7" });
    expect(third.json.id).toBe("abc-7");
    expect(o.calls).toBe(1);
  });

  test("ids are copied as written: large numbers keep every digit, strings their escapes, null stays null", async () => {
    const h = setup();
    rpcOrigin();
    await send(h, { jsonrpc: "2.0", method: "get", params: [1], id: 1 });
    for (const id of ["12345678901234567890123", '"a\\"b"', "null", "-0.5e3"]) {
      const hit = await send(h, `{"jsonrpc":"2.0","method":"get","params":[1],"id":${id}}`);
      expect(hit.status).toMatch(/hit/);
      expect(hit.text).toEndWith(`,"id":${id}}`);
    }
  });

  test("only the id changes: the rest of the answer is the origin's, byte for byte", async () => {
    const h = setup();
    origin("/rpc", async (request) => {
      const { id } = await request.json();
      return new Response(
        `{ "jsonrpc" : "2.0", "id" : ${JSON.stringify(id)} ,\n "result" : {"id": 99, "n": 1.50, "big": 123456789012345678901} }`,
        {
          headers: { "content-type": "application/json", ...CACHEABLE },
        },
      );
    });
    await send(h, { jsonrpc: "2.0", method: "m", id: 1 });
    const hit = await send(h, { jsonrpc: "2.0", method: "m", id: "two" });
    expect(hit.status).toMatch(/hit/);
    expect(hit.text).toBe(
      `{ "jsonrpc" : "2.0", "id" : "two" ,\n "result" : {"id": 99, "n": 1.50, "big": 123456789012345678901} }`,
    );
  });

  test("collapsed waiters each get their own id", async () => {
    const h = setup();
    const o = rpcOrigin(20);
    const ids = [10, 11, 12, 13, 14];
    const responses = await Promise.all(ids.map((id) => h.send(rpc({ jsonrpc: "2.0", method: "slow", params: {}, id }))));
    const bodies = await Promise.all(responses.map((r) => r.json()));
    expect(bodies.map((b) => b.id)).toEqual(ids);
    for (const b of bodies) expect(b.result).toEqual(bodies[0].result);
    expect(o.calls).toBe(1);
  });

  test("a stale answer served while revalidating carries the caller's id too", async () => {
    const h = setup({}, { staleWhileRevalidate: 30 });
    rpcOrigin();
    await send(h, { jsonrpc: "2.0", method: "get", id: 1 });
    h.clock.advance(61);
    const stale = await send(h, { jsonrpc: "2.0", method: "get", id: 2 });
    expect(stale.status).toMatch(/fwd=stale/);
    expect(stale.json.id).toBe(2);
  });

  test("a rewritten answer carries no ETag (it is not the stored representation), so no 304 either", async () => {
    const h = setup();
    rpcOrigin();
    await send(h, { jsonrpc: "2.0", method: "get", id: 1 });
    const hit = await h.send(post("/rpc", JSON.stringify({ jsonrpc: "2.0", method: "get", id: 2 }), { "if-none-match": "*" }));
    expect(hit.status).toBe(200);
    expect(hit.headers.get("etag")).toBeNull();
    expect((await hit.json()).id).toBe(2);
  });

  test("params in any member order share a key; different params are a MISS", async () => {
    const h = setup();
    const o = rpcOrigin();
    await send(h, { jsonrpc: "2.0", method: "find", params: { a: 1, b: [1, 2] }, id: 1 });
    expect((await send(h, '{"params":{"b":[1, 2],"a":1},"id":2,"method":"find","jsonrpc":"2.0"}')).status).toMatch(/hit/);
    expect((await send(h, { jsonrpc: "2.0", method: "find", params: { a: 2, b: [1, 2] }, id: 3 })).status).toMatch(/uri-miss/);
    expect((await send(h, { jsonrpc: "2.0", method: "find", params: [1], id: 4 })).status).toMatch(/uri-miss/);
    expect(o.calls).toBe(3);
  });
});

describe("json-rpc: what must reach the origin does", () => {
  test("mutation methods bypass, by the verb rule on the method's words", async () => {
    const h = setup();
    const o = rpcOrigin();
    for (const method of [
      "eth_sendTransaction",
      "eth_sendRawTransaction",
      "user.create",
      "createUser",
      "Orders.Delete",
      "cart/addItem",
    ]) {
      const r = await send(h, { jsonrpc: "2.0", method, params: [], id: 1 });
      expect(r.status, method).toBe("postcache; fwd=bypass; detail=jsonrpc-mutation");
      expect(r.json.id).toBe(1);
    }
    for (const method of ["eth_getBalance", "eth_call", "settings.get", "user.address"]) {
      expect((await send(h, { jsonrpc: "2.0", method, id: 1 })).status, method).toMatch(/stored/);
    }
    expect(o.calls).toBe(10);
  });

  test("notifications (no id) bypass: the server acts and the client expects nothing back", async () => {
    const h = setup();
    const o = rpcOrigin();
    for (let i = 0; i < 2; i++) {
      const r = await h.send(rpc({ jsonrpc: "2.0", method: "log", params: ["x"] }));
      expect(status(r)).toBe("postcache; fwd=bypass; detail=jsonrpc-notification");
    }
    expect(o.calls).toBe(2);
  });

  test("batches bypass", async () => {
    const h = setup();
    origin("/rpc", () => HttpResponse.json([], { headers: CACHEABLE }));
    const batch = [
      { jsonrpc: "2.0", method: "get", id: 1 },
      { jsonrpc: "2.0", method: "get", id: 2 },
    ];
    for (let i = 0; i < 2; i++) expect(status(await h.send(rpc(batch)))).toBe("postcache; fwd=bypass; detail=jsonrpc-batch");
  });

  test("error answers are not stored, and Cache-Status says so", async () => {
    const h = setup();
    const o = rpcOrigin();
    const first = await send(h, { jsonrpc: "2.0", method: "failSoftly", id: 1 });
    const second = await send(h, { jsonrpc: "2.0", method: "failSoftly", id: 2 });
    expect(first.status).toBe("postcache; fwd=uri-miss; fwd-status=200; detail=jsonrpc-error");
    expect(second.status).toBe("postcache; fwd=uri-miss; fwd-status=200; detail=jsonrpc-error");
    expect(second.json.error.message).toBe("failed 2");
    expect(o.calls).toBe(2);
  });

  test('`"error": null` beside a result (JSON-RPC 1.0 style) is no error: stored', async () => {
    const h = setup();
    const o = origin("/rpc", async (request) => {
      const { id } = await request.json();
      return HttpResponse.json({ jsonrpc: "2.0", result: 5, error: null, id }, { headers: CACHEABLE });
    });
    await send(h, { jsonrpc: "2.0", method: "get", id: 1 });
    const hit = await send(h, { jsonrpc: "2.0", method: "get", id: 2 });
    expect(hit.status).toMatch(/hit/);
    expect(hit.json).toEqual({ jsonrpc: "2.0", result: 5, error: null, id: 2 });
    expect(o.calls).toBe(1);
  });

  test("answers that are not a JSON-RPC result are not stored", async () => {
    const h = setup();
    origin("/rpc", () => new Response("<html>oops</html>", { headers: { "content-type": "text/html", ...CACHEABLE } }));
    expect(await h.send(rpc({ jsonrpc: "2.0", method: "get", id: 1 })).then(status)).toMatch(/detail=jsonrpc-not-json/);
    origin("/rpc", () => HttpResponse.json({ jsonrpc: "2.0", id: 1 }, { headers: CACHEABLE }));
    expect(await h.send(rpc({ jsonrpc: "2.0", method: "get", id: 1 })).then(status)).toMatch(/detail=jsonrpc-invalid-answer/);
  });

  test("bodies without the jsonrpc marker are cached as any body (id and all); other versions and invalid calls bypass", async () => {
    const h = setup();
    const o = rpcOrigin();
    // A REST body with `method` and `id` members is not JSON-RPC: its id stays in the key.
    expect((await send(h, { method: "card", params: [], id: 1 })).status).toMatch(/stored/);
    expect((await send(h, { method: "card", params: [], id: 2 })).status).toMatch(/uri-miss/);
    expect((await send(h, { q: "lamp" })).status).toMatch(/stored/);
    expect((await h.send(rpc({ jsonrpc: "1.0", method: "getinfo", id: 1 }))).headers.get("cache-status")).toMatch(
      /detail=jsonrpc-version/,
    );
    expect((await h.send(rpc({ jsonrpc: "2.0", method: 7, id: 1 }))).headers.get("cache-status")).toMatch(
      /detail=jsonrpc-invalid/,
    );
    // JSON.parse keeps the last `method`, other parsers the first: refused rather than guessed.
    expect((await h.send(rpc('{"jsonrpc":"2.0","method":"delete","method":"get","id":1}'))).headers.get("cache-status")).toMatch(
      /detail=jsonrpc-invalid/,
    );
    expect(o.calls).toBe(6);
  });

  test("a JSON-RPC key never meets a raw-body key, even with nothing but the body keyed", async () => {
    const h = setup({}, { keyHeaders: [], forwardedHeaders: [] });
    const o = origin("/rpc", async (request) => {
      const body = await request.text();
      const id = body.startsWith("{") && JSON.parse(body).id;
      return new Response(`{"jsonrpc":"2.0","result":"for json-rpc","id":${JSON.stringify(id ?? null)}}`, {
        headers: { "content-type": "application/json", ...CACHEABLE },
      });
    });
    await send(h, { jsonrpc: "2.0", method: "get", id: 1 });
    // Exactly the bytes the JSON-RPC call is keyed on, sent as text: another request, another key.
    const raw = await h.send(post("/rpc", '{"jsonrpc":"2.0","method":"get"}', { "content-type": "text/plain" }));
    expect(status(raw)).toMatch(/uri-miss/);
    expect(o.calls).toBe(2);
  });
});

describe("json-rpc: method rules", () => {
  test("denyMethods: never cached", async () => {
    const h = setup({ denyMethods: ["eth_get*", /^debug_/] });
    rpcOrigin();
    expect((await send(h, { jsonrpc: "2.0", method: "eth_getBlockByNumber", id: 1 })).status).toBe(
      "postcache; fwd=bypass; detail=jsonrpc-denied",
    );
    expect((await send(h, { jsonrpc: "2.0", method: "debug_traceCall", id: 1 })).status).toMatch(/jsonrpc-denied/);
    expect((await send(h, { jsonrpc: "2.0", method: "eth_chainId", id: 1 })).status).toMatch(/stored/);
  });

  test("allowMethods: exactly those are cached, and the verb rule is not consulted", async () => {
    const h = setup({ allowMethods: ["user.get", "reports.generate*"] });
    rpcOrigin();
    expect((await send(h, { jsonrpc: "2.0", method: "user.get", id: 1 })).status).toMatch(/stored/);
    expect((await send(h, { jsonrpc: "2.0", method: "reports.generateMonthly", id: 1 })).status).toMatch(/stored/);
    expect((await send(h, { jsonrpc: "2.0", method: "user.list", id: 1 })).status).toBe(
      "postcache; fwd=bypass; detail=jsonrpc-not-allowed",
    );
  });

  test("mutationVerbs: its own list, or false to switch the rule off; the engine's list by default", async () => {
    const own = setup({ mutationVerbs: ["mint"] });
    rpcOrigin();
    expect((await send(own, { jsonrpc: "2.0", method: "nft_mintToken", id: 1 })).status).toMatch(/jsonrpc-mutation/);
    expect((await send(own, { jsonrpc: "2.0", method: "user.create", id: 1 })).status).toMatch(/stored/);
    const off = setup({ mutationVerbs: false });
    expect((await send(off, { jsonrpc: "2.0", method: "user.delete", id: 1 })).status).toMatch(/stored/);
    const engine = setup({}, { mutationVerbs: ["frobnicate"] });
    expect((await send(engine, { jsonrpc: "2.0", method: "frobnicate_all", id: 1 })).status).toMatch(/jsonrpc-mutation/);
  });

  test("paths: only where JSON-RPC is served", async () => {
    const h = setup({ paths: ["/eth"] });
    const o = rpcOrigin();
    // /rpc is not a JSON-RPC path here: a body like any other, judged by the path rules only.
    expect((await send(h, { jsonrpc: "2.0", method: "eth_sendTransaction", id: 1 })).status).toMatch(/stored/);
    expect(o.calls).toBe(1);
  });
});

describe("json-rpc: differential, many ids against one origin", () => {
  test("every answer equals the origin's answer to that very request, id included", async () => {
    const h = setup();
    rpcOrigin(1);
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    let hits = 0;
    for (let round = 0; round < 20; round++) {
      const requests = Array.from({ length: 15 }, (_, i) => {
        const method = ["get", "list", "find"][Math.floor(random() * 3)];
        const params = [Math.floor(random() * 3)];
        const id = random() < 0.5 ? round * 100 + i : `r${round}-${i}`;
        return { jsonrpc: "2.0", method, params, id };
      });
      const answers = await Promise.all(requests.map((r) => h.send(rpc(r))));
      for (const [i, answer] of answers.entries()) {
        const body = await answer.json();
        const { method, params, id } = requests[i];
        expect(body.id).toBe(id);
        expect(body.result.method).toBe(method);
        expect(body.result.params).toEqual(params);
        if (/hit/.test(status(answer))) hits++;
      }
      await h.settle();
    }
    expect(hits).toBeGreaterThan(100);
  });
});
