import { describe, expect, test } from "bun:test";
import { harness, post, status } from "../core/harness.ts";

describe("coalescing under load", () => {
  test("1,000 concurrent identical misses: one origin call, 1,000 identical bodies", async () => {
    let calls = 0;
    const body = new Uint8Array(64 * 1024).map((_, i) => (i * 31) & 255);
    const h = harness({}, undefined, async () => {
      calls++;
      await Bun.sleep(50);
      return new Response(body, { headers: { "cache-control": "max-age=60" } });
    });
    const responses = await Promise.all(Array.from({ length: 1000 }, () => h.send(post("/search", '{"q":"load"}'))));
    const bodies = await Promise.all(responses.map((r) => r.arrayBuffer()));
    expect(calls).toBe(1);
    for (const b of bodies) expect(Buffer.compare(Buffer.from(b), Buffer.from(body))).toBe(0);
    expect(responses.filter((r) => /collapsed/.test(status(r))).length).toBe(999);
  });

  test("when the one origin call fails, waiters with a stale copy get it, not the failure", async () => {
    let calls = 0;
    let failing = false;
    const h = harness({}, undefined, async () => {
      calls++;
      await Bun.sleep(30);
      if (failing) return new Response("down", { status: 503 });
      return new Response("good old answer", { headers: { "cache-control": "max-age=10, stale-if-error=600" } });
    });
    await (await h.send(post("/search"))).text();
    await h.settle();
    h.clock.advance(60);
    failing = true;
    calls = 0;
    const responses = await Promise.all(Array.from({ length: 200 }, () => h.send(post("/search"))));
    expect(responses.map((r) => r.status)).toEqual(Array(200).fill(200));
    const texts = await Promise.all(responses.map((r) => r.text()));
    expect(new Set(texts)).toEqual(new Set(["good old answer"]));
    expect(calls).toBe(1);
    // One leader asked the origin; the other 199 waited on it. Which one led depends on scheduling.
    for (const r of responses)
      expect(status(r)).toMatch(/^postcache; fwd=stale; fwd-status=503; ttl=-50; (collapsed; )?detail=stale-if-error$/);
    expect(responses.filter((r) => /collapsed/.test(status(r))).length).toBe(199);
  });

  test("when the one origin call fails and nothing is stale, the waiters ask for themselves", async () => {
    let calls = 0;
    const h = harness({}, undefined, async () => {
      calls++;
      await Bun.sleep(20);
      return calls === 1
        ? new Response("down", { status: 503 })
        : new Response("recovered", { headers: { "cache-control": "max-age=60" } });
    });
    const responses = await Promise.all(Array.from({ length: 20 }, () => h.send(post("/search"))));
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 503).length).toBe(1);
    expect(calls).toBeGreaterThan(1);
    expect(calls).toBeLessThanOrEqual(20);
  });
});
