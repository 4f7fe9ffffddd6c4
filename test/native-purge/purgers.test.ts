/**
 * The provider purgers against local stand-ins of their APIs: each test checks the request a purger
 * sends (method, path, headers, body) against the shape the provider documents, and what it makes of
 * the documented answers. These are stand-ins, not the providers: they prove the request is the one the
 * docs describe, not that a provider accepts it (docs/purge.md#provider-purges).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { NativePurgeError } from "../../core/native-purge.ts";
import { cloudflarePurger } from "../../core/native-purges/cloudflare.ts";
import {
  edgeOnePurger,
  tc3Authorization,
  tc3CanonicalRequest,
  tc3Signature,
  tc3StringToSign,
  utcDate,
} from "../../core/native-purges/edgeone.ts";
import { netlifyPurger } from "../../core/native-purges/netlify.ts";
import { type StandIn, standIn } from "./stand-in.ts";

const ZONE = "023e105f4ecef8ad9ca31a8372d0c353"; // Cloudflare's docs' example zone id
const open: StandIn[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.stop();
});
function serve(answer: Parameters<typeof standIn>[0]): StandIn {
  const s = standIn(answer);
  open.push(s);
  return s;
}
const cfOk = () => Response.json({ success: true, errors: [], messages: [], result: { id: "9a7806061c88ada191ed06f989cc3dac" } });

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

describe("cloudflarePurger: POST /zones/{zone_id}/purge_cache", () => {
  test("purge by tag, by URL and everything send the documented bodies with the bearer token", async () => {
    const api = serve(cfOk);
    const purger = cloudflarePurger({ token: "cf-secret", zoneId: ZONE, apiBase: api.base });
    await purger.purgeTags(["product:42", "catalog"]);
    await purger.purgeUrls?.(["https://api.example.com/.postcache/key/ab"]);
    await purger.purgeAll();
    expect(api.requests.map((r) => [r.method, r.path])).toEqual([
      ["POST", `/zones/${ZONE}/purge_cache`],
      ["POST", `/zones/${ZONE}/purge_cache`],
      ["POST", `/zones/${ZONE}/purge_cache`],
    ]);
    expect(api.requests.map((r) => r.json)).toEqual([
      { tags: ["product:42", "catalog"] },
      { files: ["https://api.example.com/.postcache/key/ab"] },
      { purge_everything: true },
    ]);
    for (const r of api.requests) {
      expect(r.headers.get("authorization")).toBe("Bearer cf-secret");
      expect(r.headers.get("content-type")).toBe("application/json");
    }
  });

  test("at most 100 tags per request (every plan's limit), one request after another, duplicates once", async () => {
    const api = serve(cfOk);
    const tags = Array.from({ length: 250 }, (_, i) => `t${i}`);
    await cloudflarePurger({ token: "x", zoneId: ZONE, apiBase: api.base }).purgeTags([...tags, "t0"]);
    expect(api.requests.map((r) => (r.json as { tags: string[] }).tags.length)).toEqual([100, 100, 50]);
    expect(api.requests.flatMap((r) => (r.json as { tags: string[] }).tags)).toEqual(tags);
  });

  test("success: false fails even on a 200, with Cloudflare's error codes; a 403 fails; the token never shows", async () => {
    const api = serve(() =>
      Response.json({ success: false, errors: [{ code: 10000, message: "Authentication error cf-secret" }] }),
    );
    const purger = cloudflarePurger({ token: "cf-secret", zoneId: ZONE, apiBase: api.base });
    const error = await rejection(purger.purgeTags(["a"]));
    expect(error).toBeInstanceOf(NativePurgeError);
    expect(error.message).toContain("10000 Authentication error");
    expect(error.message).not.toContain("cf-secret");
    api.answer = () =>
      new Response('{"success":false,"errors":[{"code":9109,"message":"Invalid access token"}]}', { status: 403 });
    const forbidden = (await rejection(purger.purgeAll())) as NativePurgeError;
    expect(forbidden.status).toBe(403);
    expect(forbidden.message).toContain("HTTP 403");
  });

  test("a batch failing stops the rest (the rate limit is a token bucket)", async () => {
    const api = serve(() => new Response('{"success":false,"errors":[{"code":971,"message":"rate limited"}]}', { status: 429 }));
    const error = await rejection(
      cloudflarePurger({ token: "x", zoneId: ZONE, apiBase: api.base }).purgeTags(Array.from({ length: 150 }, (_, i) => `t${i}`)),
    );
    expect((error as NativePurgeError).status).toBe(429);
    expect(api.requests.length).toBe(1);
  });

  test("options are checked when the purger is made", () => {
    expect(() => cloudflarePurger({ token: "", zoneId: ZONE })).toThrow(/token/);
    expect(() => cloudflarePurger({ token: "x", zoneId: "my-zone" })).toThrow(/32-hex/);
    expect(() => cloudflarePurger({ token: "x", zoneId: ZONE, apiBase: "ftp://x" })).toThrow(/http/);
    expect(() => cloudflarePurger({ token: "x", zoneId: ZONE, maxPerRequest: 0 })).toThrow(/maxPerRequest/);
    expect(() => cloudflarePurger({ token: "x", zoneId: ZONE, timeoutMs: -1 })).toThrow(/timeoutMs/);
  });
});

describe("netlifyPurger: POST /api/v1/purge (operation purgeCache)", () => {
  test("purge by tag sends site_id and cache_tags; everything sends site_id alone; 202 is success", async () => {
    const api = serve(() => new Response(null, { status: 202 }));
    const purger = netlifyPurger({ token: "nf-secret", siteId: "site-1", apiBase: api.base });
    expect(purger.purgeUrls).toBeUndefined(); // Netlify purges by tag or site, not by URL
    await purger.purgeTags(["product:42", "catalog", "catalog"]);
    await purger.purgeAll();
    expect(api.requests.map((r) => [r.method, r.path, r.json])).toEqual([
      ["POST", "/api/v1/purge", { site_id: "site-1", cache_tags: ["product:42", "catalog"] }],
      ["POST", "/api/v1/purge", { site_id: "site-1" }],
    ]);
    for (const r of api.requests) {
      expect(r.headers.get("authorization")).toBe("Bearer nf-secret");
      expect(r.headers.get("content-type")).toBe("application/json; charset=utf-8");
    }
  });

  test("a 404 (unknown site) fails with its status; the token is redacted from an echoed answer", async () => {
    const api = serve(() => new Response("no site for token nf-secret", { status: 404 }));
    const error = (await rejection(
      netlifyPurger({ token: "nf-secret", siteId: "s", apiBase: api.base }).purgeAll(),
    )) as NativePurgeError;
    expect(error.status).toBe(404);
    expect(error.message).toContain("[redacted]");
    expect(error.message).not.toContain("nf-secret");
  });

  test("every wait is bounded: a stand-in that never answers fails after timeoutMs", async () => {
    const api = serve(() => "hang");
    const started = performance.now();
    const error = await rejection(
      netlifyPurger({ token: "nf-secret", siteId: "s", apiBase: api.base, timeoutMs: 200 }).purgeTags(["a"]),
    );
    expect(error.message).toContain("no answer within 200 ms");
    expect(performance.now() - started).toBeLessThan(5000);
  });

  test("a network error names no credential", async () => {
    const api = serve(cfOk);
    const base = api.base;
    await api.stop();
    open.splice(0);
    const error = await rejection(netlifyPurger({ token: "nf-secret", siteId: "s", apiBase: base }).purgeAll());
    expect(error.message).toContain("network error");
    expect(error.message).not.toContain("nf-secret");
  });
});

describe("edgeOnePurger: TencentCloud API 3.0 CreatePurgeTask, TC3-HMAC-SHA256", () => {
  // The worked example of Tencent's "Signature v3" page (CVM DescribeInstances, 2019-02-25).
  const EXAMPLE_PAYLOAD = '{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}';

  test("the signature steps reproduce Tencent's worked example", async () => {
    const canonical = await tc3CanonicalRequest(
      [
        ["content-type", "application/json; charset=utf-8"],
        ["host", "cvm.tencentcloudapi.com"],
      ],
      EXAMPLE_PAYLOAD,
    );
    expect(canonical).toBe(
      "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\n" +
        "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064",
    );
    const toSign = await tc3StringToSign(1551113065, "cvm", canonical);
    expect(toSign).toBe(
      "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031",
    );
    expect(await tc3Signature("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", "2019-02-25", "cvm", toSign)).toBe(
      "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168",
    );
  });

  test("the date is UTC: 00:44 in UTC+8 on the 26th is still the 25th", () => {
    expect(utcDate(1551113065)).toBe("2019-02-25");
  });

  test("purge by tag, URL and everything: the documented action, version, body and a signature over them", async () => {
    const api = serve(() => Response.json({ Response: { JobId: "job-1", FailedList: [], RequestId: "r" } }));
    const now = () => 1551113065_000;
    const purger = edgeOnePurger({
      secretId: "AKIDexample",
      secretKey: "eo-secret",
      zoneId: "zone-2qtuhspy7cr6",
      endpoint: api.base,
      now,
    });
    await purger.purgeTags(["product:42"]);
    await purger.purgeUrls?.(["https://api.example.com/.postcache/key/ab"]);
    await purger.purgeAll();
    expect(api.requests.map((r) => [r.method, r.path, r.json])).toEqual([
      ["POST", "/", { ZoneId: "zone-2qtuhspy7cr6", Type: "purge_cache_tag", Targets: ["product:42"], Method: "delete" }],
      [
        "POST",
        "/",
        {
          ZoneId: "zone-2qtuhspy7cr6",
          Type: "purge_url",
          Targets: ["https://api.example.com/.postcache/key/ab"],
          Method: "delete",
        },
      ],
      ["POST", "/", { ZoneId: "zone-2qtuhspy7cr6", Type: "purge_all", Method: "delete" }],
    ]);
    const host = new URL(api.base).host;
    for (const r of api.requests) {
      expect(r.headers.get("x-tc-action")).toBe("CreatePurgeTask");
      expect(r.headers.get("x-tc-version")).toBe("2022-09-01");
      expect(r.headers.get("x-tc-timestamp")).toBe("1551113065");
      expect(r.headers.get("content-type")).toBe("application/json; charset=utf-8");
      // What a verifying server recomputes from the request as received, host included.
      const expected = await tc3Authorization({
        secretId: "AKIDexample",
        secretKey: "eo-secret",
        service: "teo",
        host,
        action: "CreatePurgeTask",
        payload: r.body,
        timestamp: 1551113065,
      });
      expect(r.headers.get("authorization")).toBe(expected);
      expect(expected).toStartWith(
        "TC3-HMAC-SHA256 Credential=AKIDexample/2019-02-25/teo/tc3_request, SignedHeaders=content-type;host;x-tc-action, Signature=",
      );
      expect(r.body).not.toContain("eo-secret");
    }
  });

  test("method invalidate is passed through; anything else is refused", async () => {
    const api = serve(() => Response.json({ Response: { JobId: "j", FailedList: [], RequestId: "r" } }));
    await edgeOnePurger({ secretId: "i", secretKey: "k", zoneId: "z", endpoint: api.base, method: "invalidate" }).purgeTags([
      "a",
    ]);
    expect((api.requests[0].json as { Method: string }).Method).toBe("invalidate");
    expect(() => edgeOnePurger({ secretId: "i", secretKey: "k", zoneId: "z", method: "purge" as "delete" })).toThrow(/delete/);
  });

  test("an Error in the 200 answer, or a FailedList, is a failure; the secret key never shows", async () => {
    const api = serve(() =>
      Response.json({ Response: { Error: { Code: "AuthFailure.SignatureFailure", Message: "bad eo-secret" }, RequestId: "r" } }),
    );
    const purger = edgeOnePurger({ secretId: "i", secretKey: "eo-secret", zoneId: "z", endpoint: api.base });
    const error = await rejection(purger.purgeTags(["a"]));
    expect(error.message).toContain("AuthFailure.SignatureFailure");
    expect(error.message).not.toContain("eo-secret");
    api.answer = () => Response.json({ Response: { JobId: "j", FailedList: [{ Target: "a" }], RequestId: "r" } });
    expect((await rejection(purger.purgeTags(["a"]))).message).toContain("failed targets");
    api.answer = () => Response.json({ unexpected: true });
    expect((await rejection(purger.purgeAll())).message).toContain("no Response");
  });
});
