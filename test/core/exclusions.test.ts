import { describe, expect, test } from "bun:test";
import { DEFAULT_MUTATION_VERBS, isMutationPath } from "../../core/index.ts";
import { harness, origin, post, status, useOrigin } from "./harness.ts";

useOrigin();

/** Sends the request twice and checks both bypass with `detail` and both reach the origin. */
async function expectBypass(h: ReturnType<typeof harness>, make: () => Request, detail: string, path = "/search") {
  const o = origin(path);
  for (let i = 0; i < 2; i++) {
    const res = await h.send(make());
    expect(status(res)).toBe(`postcache; fwd=bypass; detail=${detail}`);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    await h.settle();
  }
  expect(o.calls).toBe(2);
  expect(h.results.map((r) => r.outcome)).toEqual(["BYPASS", "BYPASS"]);
}

describe("exclusions: each reason bypasses the cache and says why", () => {
  test("the do-not-cache list (globs and RegExps)", async () => {
    await expectBypass(harness({ exclude: ["/search*"] }), () => post("/search?x=1"), "excluded");
    await expectBypass(harness({ exclude: [/^\/graph/] }), () => post("/graphql"), "excluded", "/graphql");
  });

  test("an include list leaves everything else uncached", async () => {
    await expectBypass(harness({ include: ["/api/*"] }), () => post("/search"), "not-included");
    const h = harness({ include: ["/api/*"] });
    origin("/api/search");
    expect(status(await h.send(post("/api/search")))).toMatch(/uri-miss; fwd-status=200; stored/);
  });

  test("mutation-style names bypass by default", async () => {
    await expectBypass(harness(), () => post("/cart/addItem"), "mutation", "/cart/addItem");
    await expectBypass(harness(), () => post("/users.delete"), "mutation", "/users.delete");
    await expectBypass(harness(), () => post("/pkg.Svc/CreateUser"), "mutation", "/pkg.Svc/CreateUser");
  });

  test("mutation verbs are configurable and can be switched off", async () => {
    await expectBypass(harness({ mutationVerbs: ["archive"] }), () => post("/archive_all"), "mutation", "/archive_all");
    const h = harness({ mutationVerbs: false });
    origin("/cart/add");
    expect(status(await h.send(post("/cart/add")))).toMatch(/uri-miss/);
  });

  test("method override headers bypass", async () => {
    await expectBypass(harness(), () => post("/search", "{}", { "x-http-method-override": "DELETE" }), "method-override");
  });

  test("a request Cache-Control: no-store bypasses", async () => {
    await expectBypass(harness(), () => post("/search", "{}", { "cache-control": "no-store" }), "no-store-request");
  });

  test("Authorization or Cookie bypass without a scope", async () => {
    await expectBypass(harness(), () => post("/search", "{}", { authorization: "Bearer x" }), "credentials");
    await expectBypass(harness(), () => post("/search", "{}", { cookie: "sid=1" }), "credentials");
  });

  test("a scope that gives no value for a credentialed request bypasses", async () => {
    await expectBypass(harness({ scope: () => undefined }), () => post("/search", "{}", { cookie: "sid=1" }), "credentials");
  });

  test("a custom predicate bypasses, with its own reason", async () => {
    await expectBypass(
      harness({ bypass: (r) => r.headers.has("x-debug") }),
      () => post("/search", "{}", { "x-debug": "1" }),
      "custom",
    );
    await expectBypass(harness({ bypass: () => "beta-users" }), () => post("/search"), "beta-users");
  });

  test("a hook that throws bypasses (fail safe) and is reported", async () => {
    const h = harness({ scope: () => Promise.reject(new Error("boom")) });
    await expectBypass(h, () => post("/search"), "hook-error");
    expect(h.errors.map((e) => e.where)).toEqual(["scope", "scope"]);
  });
});

describe("exclusions: revalidation requests go to the origin and refresh the entry", () => {
  for (const [name, headers] of [
    ["Cache-Control: no-cache", { "cache-control": "no-cache" }],
    ["Cache-Control: max-age=0", { "cache-control": "max-age=0" }],
    ["Pragma: no-cache", { pragma: "no-cache" }],
  ] as const) {
    test(name, async () => {
      const h = harness();
      const o = origin("/search", (_r, call) => new Response(`v${call}`, { headers: { "cache-control": "max-age=60" } }));
      await h.send(post("/search"));
      await h.settle();
      const fresh = await h.send(post("/search", '{"q":1}', headers));
      expect(status(fresh)).toBe("postcache; fwd=request; fwd-status=200; stored");
      expect(await fresh.text()).toBe("v2");
      await h.settle();
      const after = await h.send(post("/search"));
      expect(status(after)).toMatch(/hit/);
      expect(await after.text()).toBe("v2");
      expect(o.calls).toBe(2);
    });
  }
});

describe("mutation names", () => {
  const verbs = new Set(DEFAULT_MUTATION_VERBS);
  test.each([
    ["/cart/add", true],
    ["/cart/addItem", true],
    ["/cart/add-item", true],
    ["/set_price", true],
    ["/users.delete", true],
    ["/rpc/user:update", true],
    ["/DELETE_ITEM", true],
    ["/Svc/CreateUser", true],
    ["/del%65te", true],
    ["/settings", false],
    ["/address/search", false],
    ["/updates", false],
    ["/search", false],
    ["/graphql", false],
    ["/", false],
  ])("%s → %p", (path, expected) => {
    expect(isMutationPath(path, verbs)).toBe(expected);
  });
});
