import { describe, expect, test } from "bun:test";
import { harness, origin, post, status, useOrigin } from "./harness.ts";

useOrigin();

describe("coalescing: concurrent identical misses make one origin request", () => {
  test("50 concurrent identical misses: one origin call, 50 identical answers", async () => {
    const h = harness();
    const o = origin("/search", async (_r, call) => {
      await Bun.sleep(30);
      return new Response(`answer ${call}`, { headers: { "cache-control": "max-age=60" } });
    });
    const responses = await Promise.all(Array.from({ length: 50 }, () => h.send(post("/search"))));
    const bodies = await Promise.all(responses.map((r) => r.text()));
    expect(o.calls).toBe(1);
    expect(new Set(bodies)).toEqual(new Set(["answer 1"]));
    const collapsed = responses.filter((r) => /collapsed/.test(status(r)));
    expect(collapsed.length).toBe(49);
    expect(h.results.filter((r) => r.collapsed).length).toBe(49);
  });

  test("an answer that may not be stored is not shared: each waiter asks for itself", async () => {
    const h = harness();
    const o = origin("/search", async (r, call) => {
      await Bun.sleep(20);
      return new Response(`for ${r.headers.get("x-user")} #${call}`, { headers: { "cache-control": "private" } });
    });
    const responses = await Promise.all(["a", "b", "c"].map((u) => h.send(post("/search", "{}", { "x-user": u }))));
    const bodies = await Promise.all(responses.map((r) => r.text()));
    expect(o.calls).toBe(3);
    expect(bodies.map((b) => b.split(" #")[0]).sort()).toEqual(["for a", "for b", "for c"]);
  });

  test("different bodies are never collapsed together", async () => {
    const h = harness();
    const o = origin("/search", async (r) => {
      await Bun.sleep(20);
      return new Response(await r.text(), { headers: { "cache-control": "max-age=60" } });
    });
    const responses = await Promise.all(["1", "2", "1", "2"].map((b) => h.send(post("/search", b))));
    expect(await Promise.all(responses.map((r) => r.text()))).toEqual(["1", "2", "1", "2"]);
    expect(o.calls).toBe(2);
  });

  test("coalesce: false sends every miss to the origin", async () => {
    const h = harness({ coalesce: false });
    const o = origin("/search", async () => {
      await Bun.sleep(20);
      return new Response("x", { headers: { "cache-control": "max-age=60" } });
    });
    await Promise.all(Array.from({ length: 5 }, () => h.send(post("/search")).then((r) => r.text())));
    expect(o.calls).toBe(5);
  });
});
