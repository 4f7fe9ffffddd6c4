import { describe, expect, test } from "bun:test";
import { createPostcache, PostcacheOptionError, type PostcacheOptions, resolveOptions } from "../../core/index.ts";
import { nearestName } from "../../core/suggest.ts";

describe("options: validated once, at factory time, naming the option", () => {
  const bad: [string, unknown, RegExp][] = [
    ["maxBodyBytes", -1, /option "maxBodyBytes" must be an integer >= 0 \(got -1\)/],
    ["maxBodyBytes", "1mb", /option "maxBodyBytes" must be an integer/],
    ["defaultTtl", 1.5, /option "defaultTtl"/],
    ["keyHeaders", ["content type"], /option "keyHeaders" has "content type", not a header name/],
    ["exclude", ["search"], /option "exclude" must hold path globs starting with "\/"/],
    ["cacheableStatuses", [200, 206], /may not include 206/],
    ["cacheableStatuses", [99], /status codes 100-599/],
    ["scope", "user", /option "scope" must be a function/],
    ["bodyKey", "yes", /option "bodyKey" must be a function/],
    ["admin", { token: "0123456789abcdef" }, /option "admin" must come from adminEndpoints/],
    ["cacheName", "my cache", /option "cacheName" must be a Structured Fields token/],
    ["rules", [{ ttl: 5 }], /option "rules\[0\]" must be an object with a match pattern/],
    ["rules", [{ match: "/a", ttl: -5 }], /option "rules\[0\].ttl"/],
    ["storeTimeoutMs", 0, /option "storeTimeoutMs" must be an integer >= 1/],
    ["mutationVerbs", [""], /option "mutationVerbs" must be an array of non-empty strings/],
  ];
  for (const [name, value, message] of bad) {
    test(`${name}: ${JSON.stringify(value)}`, () => {
      expect(() => createPostcache({ [name]: value } as PostcacheOptions)).toThrow(message);
      expect(() => createPostcache({ [name]: value } as PostcacheOptions)).toThrow(PostcacheOptionError);
    });
  }

  test("an unknown option is refused, not ignored (a typo must not silently cache)", () => {
    expect(() => createPostcache({ defaultTTL: 5 } as unknown as PostcacheOptions)).toThrow(
      /option "defaultTTL" is not a postcache option/,
    );
  });

  test("an unknown option near a known one suggests it; one near none suggests nothing", () => {
    expect(() => createPostcache({ defaultTTL: 5 } as unknown as PostcacheOptions)).toThrow(
      'option "defaultTTL" is not a postcache option (did you mean "defaultTtl"?)',
    );
    expect(() => createPostcache({ staleWhileRevalidation: 5 } as unknown as PostcacheOptions)).toThrow(
      /did you mean "staleWhileRevalidate"\?/,
    );
    expect(() => createPostcache({ excludes: [] } as unknown as PostcacheOptions)).toThrow(/did you mean "exclude"\?/);
    expect(() => createPostcache({ zzzzzzzz: 1 } as unknown as PostcacheOptions)).toThrow(/is not a postcache option$/);
  });

  test("nearestName: edit distance, case-insensitive, within a third of the name", () => {
    const names = ["defaultTtl", "maxBodyBytes", "exclude", "include"];
    expect(nearestName("defaultttl", names)).toBe("defaultTtl");
    expect(nearestName("exlude", names)).toBe("exclude");
    expect(nearestName("colour", names)).toBeUndefined();
  });

  test("defaults", () => {
    const o = resolveOptions();
    expect(o.maxBodyBytes).toBe(1024 * 1024);
    expect(o.keyHeaders).toEqual(["accept", "accept-encoding", "accept-language"]);
    expect(o.keyedHeaders.slice(0, 5)).toEqual([
      "content-type",
      "content-encoding",
      "accept",
      "accept-encoding",
      "accept-language",
    ]);
    expect([...o.cacheableStatuses]).toEqual([200, 203, 204, 300, 301, 404, 405, 410, 414, 501]);
    // RFC 9110 §9.3.3: no freshness unless the origin or the operator gives one.
    expect(o.defaultTtl).toBeUndefined();
    expect(o.originBodyTimeoutMs).toBe(10_000);
    expect(o.coalesceTimeoutMs).toBe(5_000);
    expect(o.uriInvalidation).toBe(true);
    expect(o.credentialHeaders).toContain("authorization");
    expect(o.credentialHeaders).toContain("cookie");
  });

  test("header names are case-insensitive", () => {
    expect(resolveOptions({ keyHeaders: ["X-Tenant"] }).keyHeaders).toEqual(["x-tenant"]);
  });
});
