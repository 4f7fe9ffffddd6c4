/**
 * originFetcher: the upstream URL is the configured origin plus the request's path and query, joined
 * as strings. Nothing in the request (its path, its Host, an absolute-form target) can choose the
 * scheme, host or port the request goes to.
 */
import { describe, expect, test } from "bun:test";
import { originFetcher } from "../../adapters/origin.ts";

/** The URLs a fetcher built for `origin` asks for, and the Host headers it sends. */
function recorder(origin: string) {
  const seen: { url: string; forwardedHost: string | null; host: string | null }[] = [];
  const fetcher = originFetcher(origin, {}, async (request) => {
    seen.push({ url: request.url, forwardedHost: request.headers.get("x-forwarded-host"), host: request.headers.get("host") });
    return new Response("ok");
  });
  return { seen, fetcher };
}

describe("originFetcher: the client never chooses where a request goes", () => {
  // Paths as the runtime's Request.url holds them (already parsed by the URL standard).
  const paths = [
    "//127.0.0.1:9999/x",
    "//evil.example/x?y=1",
    "///evil.example/x",
    "/a%2Fb",
    "/%2F%2Fevil.example/x",
    "/a;b=c",
    "/@evil.example/x",
    "/x@evil.example:81/y",
    "/a/%2e%2e/b",
    "/search?next=//evil.example&at=@x",
    "/",
  ];
  for (const path of paths) {
    test(`${path} reaches the configured origin, path and query unchanged`, async () => {
      const { seen, fetcher } = recorder("http://127.0.0.1:3000");
      await fetcher(new Request(`http://edge.example${path}`, { method: "POST", body: "{}" }));
      const upstream = new URL(seen[0].url);
      expect(upstream.origin).toBe("http://127.0.0.1:3000");
      expect(upstream.pathname + upstream.search).toBe(
        new URL(`http://edge.example${path}`).pathname + new URL(`http://edge.example${path}`).search,
      );
    });
  }

  test("a base path on the origin is kept in front of the request's path, even one starting with //", async () => {
    const { seen, fetcher } = recorder("https://api.example.com/v2/");
    await fetcher(new Request("http://edge.example//evil.example/x?q=1"));
    expect(seen[0].url).toBe("https://api.example.com/v2//evil.example/x?q=1");
  });

  test("the request's host travels only as X-Forwarded-Host, never as the upstream host", async () => {
    const { seen, fetcher } = recorder("http://127.0.0.1:3000");
    await fetcher(new Request("http://127.0.0.1:9999/x", { headers: { host: "127.0.0.1:9999" } }));
    expect(new URL(seen[0].url).host).toBe("127.0.0.1:3000");
    expect(seen[0].forwardedHost).toBe("127.0.0.1:9999");
  });

  test("an origin with a query or fragment is refused at creation", () => {
    expect(() => originFetcher("http://127.0.0.1:3000/?a=1")).toThrow(/origin/);
    expect(() => originFetcher("http://127.0.0.1:3000/#x")).toThrow(/origin/);
    expect(() => originFetcher("ftp://127.0.0.1/")).toThrow(/origin/);
    expect(() => originFetcher("not a url")).toThrow(/origin/);
  });
});
