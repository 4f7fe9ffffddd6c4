/**
 * Cache poisoning: a header the origin uses but the key ignores would let one client plant an answer
 * that others receive. For each such header, an attacker sends it, then a victim sends the same request
 * without it: the victim must get the origin's answer for the victim's own request.
 */
import { describe, expect, test } from "bun:test";
import { DEFAULT_FORWARDED_HEADERS } from "../../core/index.ts";
import { harness, ORIGIN, post, status } from "../core/harness.ts";

/** An origin that builds its answer from every header a framework might trust for URL building. */
async function reflectingOrigin(request: Request): Promise<Response> {
  const h = request.headers;
  const url = new URL(h.get("x-original-url") ?? h.get("x-rewrite-url") ?? request.url, request.url);
  const host = h.get("x-forwarded-host") ?? h.get("x-host") ?? url.host;
  const proto = h.get("x-forwarded-proto") ?? h.get("x-forwarded-scheme") ?? "https";
  const prefix = h.get("x-forwarded-prefix") ?? "";
  const port = h.get("x-forwarded-port") ?? "";
  const forwarded = h.get("forwarded") ?? "";
  const method = h.get("x-http-method-override") ?? request.method;
  const text = `${method} ${proto}://${host}${port && `:${port}`}${prefix}${url.pathname} ${forwarded}`;
  return new Response(text, { headers: { "cache-control": "public, max-age=300" } });
}

const attacks: [string, string][] = [
  ["x-forwarded-host", "evil.example"],
  ["x-forwarded-proto", "http"],
  ["x-forwarded-scheme", "http"],
  ["x-forwarded-port", "666"],
  ["x-forwarded-prefix", "/evil"],
  ["x-host", "evil.example"],
  ["forwarded", "host=evil.example;proto=http"],
  ["x-original-url", "/admin"],
  ["x-rewrite-url", "/admin"],
  ["x-http-method-override", "DELETE"],
];

describe("cache poisoning: an attacker's header never reaches a victim's answer", () => {
  for (const [header, value] of attacks) {
    test(header, async () => {
      const h = harness({}, undefined, reflectingOrigin);
      const attacker = await h.send(post("/search", '{"q":1}', { [header]: value }));
      const planted = await attacker.text();
      await h.settle();
      const victim = await h.send(post("/search", '{"q":1}'));
      const expected = await (await reflectingOrigin(post("/search", '{"q":1}'))).text();
      expect(await victim.text()).toBe(expected);
      expect(expected).not.toBe(planted);
      expect(status(victim)).not.toMatch(/hit/);
    });
  }

  test("every header above is on the default forwarded-headers list (or bypasses)", () => {
    for (const [header] of attacks) {
      if (header === "x-http-method-override") continue;
      expect(DEFAULT_FORWARDED_HEADERS).toContain(header);
    }
  });

  test("two clients sending the same forwarded value share one entry", async () => {
    const h = harness({}, undefined, reflectingOrigin);
    await h.send(post("/search", "{}", { "x-forwarded-host": "shop.example" }));
    await h.settle();
    const again = await h.send(post("/search", "{}", { "x-forwarded-host": "shop.example" }));
    expect(status(again)).toMatch(/hit/);
    expect(await again.text()).toBe(`POST https://shop.example/search `);
  });

  test("the Host is part of the key: one host's answer never serves another", async () => {
    const h = harness({}, undefined, reflectingOrigin);
    await h.send(new Request(`${ORIGIN}/search`, { method: "POST", body: "{}" }));
    await h.settle();
    const other = await h.send(new Request("https://other.example.test/search", { method: "POST", body: "{}" }));
    expect(await other.text()).toBe("POST https://other.example.test/search ");
  });
});
