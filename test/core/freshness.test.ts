import { describe, expect, test } from "bun:test";
import { HttpResponse, harness, origin, post, status, useOrigin } from "./harness.ts";

useOrigin();

/** An origin whose answers are `v1`, `v2`, ... with the given Cache-Control (or failing from call 2). */
function versioned(cacheControl: string | null, failFrom?: { call: number; with: "503" | "network" }) {
  return origin("/search", (_r, call) => {
    if (failFrom && call >= failFrom.call)
      return failFrom.with === "503" ? new Response("down", { status: 503 }) : HttpResponse.error();
    return new Response(`v${call}`, { headers: cacheControl ? { "cache-control": cacheControl } : {} });
  });
}

async function prime(h: ReturnType<typeof harness>) {
  await (await h.send(post("/search"))).text();
  await h.settle();
}

describe("freshness: how long an entry is served (RFC 9111 §4.2)", () => {
  test("max-age sets the lifetime; past it the origin is asked again", async () => {
    const h = harness();
    const o = versioned("max-age=30");
    await prime(h);
    h.clock.advance(29);
    const hit = await h.send(post("/search"));
    expect(status(hit)).toBe("postcache; hit; ttl=1");
    expect(hit.headers.get("age")).toBe("29");
    h.clock.advance(2);
    const after = await h.send(post("/search"));
    expect(await after.text()).toBe("v2");
    expect(o.calls).toBe(2);
  });

  test("s-maxage wins over max-age for a shared cache", async () => {
    const h = harness();
    versioned("max-age=5, s-maxage=100");
    await prime(h);
    h.clock.advance(50);
    expect(status(await h.send(post("/search")))).toBe("postcache; hit; ttl=50");
  });

  test("Expires minus Date, when there is no max-age", async () => {
    const h = harness();
    origin(
      "/search",
      () =>
        new Response("x", {
          headers: { date: "Sat, 21 Nov 2026 00:00:00 GMT", expires: "Sat, 21 Nov 2026 00:02:00 GMT" },
        }),
    );
    await prime(h);
    expect(status(await h.send(post("/search")))).toBe("postcache; hit; ttl=120");
  });

  test("the origin's Age counts against the lifetime", async () => {
    const h = harness();
    origin("/search", () => new Response("x", { headers: { "cache-control": "max-age=100", age: "40" } }));
    await prime(h);
    const hit = await h.send(post("/search"));
    expect(status(hit)).toBe("postcache; hit; ttl=60");
    expect(hit.headers.get("age")).toBe("40");
  });

  test("with no freshness from the origin, defaultTtl applies", async () => {
    const h = harness({ defaultTtl: 7 });
    versioned(null);
    await prime(h);
    expect(status(await h.send(post("/search")))).toBe("postcache; hit; ttl=7");
  });

  test("a rule's TTL overrides the origin's, but never its no-store", async () => {
    const h = harness({ rules: [{ match: "/search", ttl: 500 }] });
    versioned("max-age=5");
    await prime(h);
    h.clock.advance(100);
    expect(status(await h.send(post("/search")))).toBe("postcache; hit; ttl=400");
    const h2 = harness({ rules: [{ match: "/search", ttl: 500 }] });
    versioned("no-store");
    const res = await h2.send(post("/search"));
    expect(status(res)).toMatch(/detail=no-store/);
  });
});

describe("stale-while-revalidate (RFC 5861 §3)", () => {
  test("inside the window: stale answer at once, marked as such, refreshed in the background", async () => {
    const h = harness();
    const o = versioned("max-age=10, stale-while-revalidate=30");
    await prime(h);
    h.clock.advance(15);
    const stale = await h.send(post("/search"));
    expect(await stale.text()).toBe("v1");
    expect(status(stale)).toBe("postcache; fwd=stale; ttl=-5; detail=stale-while-revalidate");
    expect(stale.headers.get("warning")).toBe('110 - "Response is Stale"');
    expect(stale.headers.get("age")).toBe("15");
    expect(h.results.at(-1)?.outcome).toBe("STALE");
    await h.settle();
    expect(o.calls).toBe(2);
    const fresh = await h.send(post("/search"));
    expect(status(fresh)).toMatch(/hit/);
    expect(await fresh.text()).toBe("v2");
  });

  test("from config when the origin gives none; Warning can be switched off", async () => {
    const h = harness({ staleWhileRevalidate: 30, staleWarning: false });
    versioned("max-age=10");
    await prime(h);
    h.clock.advance(15);
    const stale = await h.send(post("/search"));
    expect(status(stale)).toMatch(/fwd=stale/);
    expect(stale.headers.has("warning")).toBe(false);
  });

  test("past the window: the origin answers before the client does", async () => {
    const h = harness();
    // Past the stale-while-revalidate window but inside stale-if-error, so the store still holds it.
    const o = versioned("max-age=10, stale-while-revalidate=5, stale-if-error=60");
    await prime(h);
    h.clock.advance(20);
    const res = await h.send(post("/search"));
    expect(await res.text()).toBe("v2");
    expect(status(res)).toBe("postcache; fwd=stale; fwd-status=200; stored");
    expect(o.calls).toBe(2);
  });

  test("must-revalidate forbids serving stale (RFC 9111 §5.2.2.2)", async () => {
    const h = harness({ staleWhileRevalidate: 30 });
    versioned("max-age=10, must-revalidate");
    await prime(h);
    h.clock.advance(15);
    expect(await (await h.send(post("/search"))).text()).toBe("v2");
  });
});

describe("stale-if-error (RFC 5861 §4)", () => {
  for (const failure of ["503", "network"] as const) {
    test(`an origin ${failure === "503" ? "5xx" : "network error"} inside the window serves the stale copy`, async () => {
      const h = harness();
      versioned("max-age=10, stale-if-error=60", { call: 2, with: failure });
      await prime(h);
      h.clock.advance(30);
      const res = await h.send(post("/search"));
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("v1");
      const fwdStatus = failure === "503" ? "fwd-status=503; " : "";
      expect(status(res)).toBe(`postcache; fwd=stale; ${fwdStatus}ttl=-20; detail=stale-if-error`);
      expect(res.headers.get("warning")).toMatch(/^110/);
    });
  }

  test("past every window the entry is gone, and the failure reaches the client", async () => {
    const h = harness({ staleIfError: 10 });
    versioned("max-age=10", { call: 2, with: "503" });
    await prime(h);
    h.clock.advance(30);
    const res = await h.send(post("/search"));
    expect(res.status).toBe(503);
    expect(status(res)).toBe("postcache; fwd=uri-miss; fwd-status=503; detail=status");
  });

  test("with no stale copy, an unreachable origin is a clear 502", async () => {
    const h = harness();
    origin("/search", () => HttpResponse.error());
    const res = await h.send(post("/search"));
    expect(res.status).toBe(502);
    expect(await res.text()).toMatch(/postcache: the origin could not be reached/);
    expect(status(res)).toMatch(/detail=origin-error/);
  });

  test("an origin slower than originTimeoutMs is a 504, or the stale copy", async () => {
    const h = harness({ originTimeoutMs: 50, staleIfError: 60 });
    origin("/search", async (_r, call) => {
      if (call > 1) await Bun.sleep(1000);
      return new Response(`v${call}`, { headers: { "cache-control": "max-age=10" } });
    });
    const none = harness({ originTimeoutMs: 50 });
    await prime(h);
    h.clock.advance(20);
    const stale = await h.send(post("/search"));
    expect(await stale.text()).toBe("v1");
    expect(status(stale)).toMatch(/fwd=stale; ttl=-10; detail=stale-if-error/);
    const started = performance.now();
    const timedOut = await none.send(post("/search", '{"other":1}'));
    expect(timedOut.status).toBe(504);
    expect(status(timedOut)).toMatch(/detail=origin-timeout/);
    expect(performance.now() - started).toBeLessThan(900);
  });
});

describe("request directives", () => {
  test("only-if-cached with nothing cached is a 504 (RFC 9111 §5.2.1.7)", async () => {
    const h = harness();
    const o = versioned("max-age=60");
    const res = await h.send(post("/search", '{"q":1}', { "cache-control": "only-if-cached" }));
    expect(res.status).toBe(504);
    expect(o.calls).toBe(0);
    await prime(h);
    const hit = await h.send(post("/search", '{"q":1}', { "cache-control": "only-if-cached" }));
    expect(hit.status).toBe(200);
  });
});

describe("explicit freshness by default (RFC 9110 §9.3.3)", () => {
  test("an answer without s-maxage, max-age or Expires is not stored: detail=no-freshness", async () => {
    const h = harness();
    const o = versioned(null);
    const first = await h.send(post("/search"));
    expect(status(first)).toBe("postcache; fwd=uri-miss; fwd-status=200; detail=no-freshness");
    await h.settle();
    expect(await (await h.send(post("/search"))).text()).toBe("v2");
    expect(o.calls).toBe(2);
  });

  test("an error answer without freshness is not stored, even with defaultTtl (a GraphQL server's 404)", async () => {
    for (const code of [404, 405, 410, 414]) {
      const h = harness({ defaultTtl: 300 });
      const o = origin("/graphql", () => new Response("no", { status: code }));
      const first = await h.send(post("/graphql"));
      expect({ code, status: status(first) }).toEqual({ code, status: expect.stringMatching(/detail=no-freshness$/) });
      await h.settle();
      await h.send(post("/graphql"));
      expect({ code, calls: o.calls }).toEqual({ code, calls: 2 });
    }
  });

  test("defaultTtl gives freshness to 200, 203 and 204", async () => {
    for (const code of [200, 203, 204]) {
      const h = harness({ defaultTtl: 30 });
      origin("/search", () => new Response(code === 204 ? null : "ok", { status: code }));
      await (await h.send(post("/search"))).text();
      await h.settle();
      expect({ code, status: status(await h.send(post("/search"))) }).toEqual({ code, status: "postcache; hit; ttl=30" });
    }
  });

  test("a rule's ttl is the operator's freshness too, on the same terms", async () => {
    const h = harness({ rules: [{ match: "/search", ttl: 90 }] });
    versioned(null);
    await prime(h);
    expect(status(await h.send(post("/search")))).toBe("postcache; hit; ttl=90");
    const h404 = harness({ rules: [{ match: "/search", ttl: 90 }] });
    origin("/search", () => new Response("gone", { status: 404 }));
    expect(status(await h404.send(post("/search")))).toMatch(/detail=no-freshness/);
  });

  test("a 404 with explicit freshness is stored", async () => {
    const h = harness();
    origin("/search", () => new Response("gone", { status: 404, headers: { "cache-control": "max-age=20" } }));
    await prime(h);
    expect(status(await h.send(post("/search")))).toBe("postcache; hit; ttl=20");
  });
});

describe("request max-stale, min-fresh and max-age (RFC 9111 §5.2.1)", () => {
  test("max-stale=N: a stale entry within N seconds is served, marked stale; past N the origin is asked", async () => {
    const h = harness();
    const o = versioned("max-age=10, stale-if-error=600");
    await prime(h);
    h.clock.advance(40);
    const stale = await h.send(post("/search", '{"q":1}', { "cache-control": "max-stale=60" }));
    expect(await stale.text()).toBe("v1");
    expect(status(stale)).toBe("postcache; hit; ttl=-30; detail=max-stale");
    expect(stale.headers.get("warning")).toMatch(/^110/);
    const tooOld = await h.send(post("/search", '{"q":1}', { "cache-control": "max-stale=20" }));
    expect(await tooOld.text()).toBe("v2");
    expect(o.calls).toBe(2);
  });

  test("a bare max-stale accepts any staleness the store still holds", async () => {
    const h = harness();
    versioned("max-age=10, stale-if-error=600");
    await prime(h);
    h.clock.advance(500);
    expect(await (await h.send(post("/search", '{"q":1}', { "cache-control": "max-stale" }))).text()).toBe("v1");
  });

  test("max-stale never serves what must-revalidate, proxy-revalidate or s-maxage forbids serving stale", async () => {
    for (const cc of ["max-age=10, must-revalidate", "max-age=10, proxy-revalidate", "s-maxage=10"]) {
      const h = harness({ staleIfError: 600 });
      versioned(cc);
      await prime(h);
      h.clock.advance(20);
      const res = await h.send(post("/search", '{"q":1}', { "cache-control": "max-stale" }));
      expect({ cc, text: await res.text() }).toEqual({ cc, text: "v2" });
    }
  });

  test("min-fresh=N: an entry with less than N seconds left goes to the origin (fwd=request)", async () => {
    const h = harness();
    const o = versioned("max-age=60");
    await prime(h);
    h.clock.advance(40);
    const enough = await h.send(post("/search", '{"q":1}', { "cache-control": "min-fresh=10" }));
    expect(status(enough)).toBe("postcache; hit; ttl=20");
    const notEnough = await h.send(post("/search", '{"q":1}', { "cache-control": "min-fresh=30" }));
    expect(status(notEnough)).toBe("postcache; fwd=request; fwd-status=200; stored");
    expect(await notEnough.text()).toBe("v2");
    expect(o.calls).toBe(2);
  });

  test("max-age=N: an entry older than N seconds goes to the origin", async () => {
    const h = harness();
    versioned("max-age=60");
    await prime(h);
    h.clock.advance(30);
    expect(status(await h.send(post("/search", '{"q":1}', { "cache-control": "max-age=40" })))).toMatch(/hit/);
    expect(status(await h.send(post("/search", '{"q":1}', { "cache-control": "max-age=20" })))).toMatch(/fwd=request/);
  });
});
