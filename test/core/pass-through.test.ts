import { describe, expect, test } from "bun:test";
import { handlePost } from "../../core/index.ts";
import { memoryStore } from "../../core/stores/memory.ts";
import { HttpResponse, harness, ORIGIN, origin, useOrigin } from "./harness.ts";

useOrigin();

describe("pass-through: every other method is untouched", () => {
  for (const method of ["GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
    test(method, async () => {
      const h = harness();
      const o = origin(
        "/thing",
        () => new Response(method === "HEAD" ? null : "origin says hi", { headers: { "x-origin": "1" } }),
        "all",
      );
      const body = method === "GET" || method === "HEAD" || method === "OPTIONS" ? null : "payload";
      for (let i = 0; i < 2; i++) {
        const res = await h.send(new Request(`${ORIGIN}/thing`, { method, body }));
        expect(res.headers.get("x-origin")).toBe("1");
        expect(res.headers.has("cache-status")).toBe(false);
        if (method !== "HEAD") expect(await res.text()).toBe("origin says hi");
      }
      expect(o.calls).toBe(2);
      expect(h.results).toEqual([]);
    });
  }

  test("an unreachable origin on a passed-through request is a clear 502, not a crash", async () => {
    const h = harness();
    origin("/thing", () => HttpResponse.error(), "all");
    const res = await h.send(new Request(`${ORIGIN}/thing`));
    expect(res.status).toBe(502);
  });
});

describe("handlePost", () => {
  test("with plain options, reuses one engine per options object (so coalescing works)", async () => {
    const options = { defaultTtl: 60 };
    const store = memoryStore();
    const o = origin("/search", async () => {
      await Bun.sleep(20);
      return new Response("x");
    });
    const send = () =>
      handlePost(new Request(`${ORIGIN}/search`, { method: "POST", body: "{}" }), store, (r) => fetch(r), options).then((r) =>
        r.text(),
      );
    await Promise.all([send(), send(), send()]);
    expect(o.calls).toBe(1);
  });
});
