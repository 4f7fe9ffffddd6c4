/** Bad input gets a clear answer or a safe bypass, never a crash, a cache-made 500, or a wrong answer. */

import { describe, expect, test } from "bun:test";
import { adminEndpoints } from "../../core/admin.ts";
import { harness, ORIGIN, post, status } from "../core/harness.ts";

const echo = async (request: Request) => {
  const body = new Uint8Array(await request.arrayBuffer());
  return new Response(`${new URL(request.url).pathname}${new URL(request.url).search} ${body.byteLength}`, {
    headers: { "cache-control": "max-age=60" },
  });
};

describe("bad input", () => {
  test("a Content-Length that is not a number is ignored; the body is read under the cap", async () => {
    const h = harness({}, undefined, echo);
    for (const length of ["abc", "-1", "1e3", "99999999999999999999999"]) {
      const res = await h.send(post("/search", "12345", { "content-length": length }));
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("/search 5");
    }
  });

  test("a huge declared Content-Length bypasses without reading the body", async () => {
    const h = harness({ maxBodyBytes: 1000 }, undefined, echo);
    const res = await h.send(post("/search", "tiny", { "content-length": "900000000000" }));
    expect(status(res)).toBe("postcache; fwd=bypass; detail=body-too-large");
  });

  test("thousands of headers: keyed on the configured ones, answered normally", async () => {
    const h = harness({}, undefined, echo);
    const headers: Record<string, string> = {};
    for (let i = 0; i < 5000; i++) headers[`x-h-${i}`] = `v${i}`;
    const first = await h.send(post("/search", "{}", headers));
    expect(first.status).toBe(200);
    await h.settle();
    expect(status(await h.send(post("/search", "{}", { ...headers, "x-h-1": "other" })))).toMatch(/hit/);
  });

  test("odd URLs stay distinct: encoded slashes, unicode, dot segments, a very long query", async () => {
    const h = harness({}, undefined, echo);
    const paths = ["/a%2Fb", "/a/b", "/caf%C3%A9", "/café", "/x/../search", `/search?q=${"z".repeat(16_000)}`, "/search?q=%00"];
    const answers = new Map<string, string>();
    for (const path of paths) {
      const res = await h.send(new Request(ORIGIN + path, { method: "POST", body: "{}" }));
      expect(res.status).toBe(200);
      answers.set(path, await res.text());
      await h.settle();
    }
    // Each is answered for its own URL, as the URL standard parses it; a second pass hits.
    for (const path of paths) {
      const res = await h.send(new Request(ORIGIN + path, { method: "POST", body: "{}" }));
      expect(await res.text()).toBe(answers.get(path) as string);
      expect(status(res)).toMatch(/hit/);
    }
    expect(answers.get("/a%2Fb")).not.toBe(answers.get("/a/b"));
  });
});

describe("faults", () => {
  test("a slowly streaming origin streams to the client: the first bytes arrive before the last are sent", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const h = harness({}, undefined, async () => {
      const body = new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(new TextEncoder().encode("first,"));
          await gate;
          controller.enqueue(new TextEncoder().encode("last"));
          controller.close();
        },
      });
      return new Response(body, { headers: { "cache-control": "max-age=60" } });
    });
    const res = await h.send(post("/search"));
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe("first,");
    release();
    let rest = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    expect(rest).toBe("last");
    await h.settle();
    const hit = await h.send(post("/search"));
    expect(await hit.text()).toBe("first,last");
  });

  test("an origin body that breaks mid-stream is not stored, and the next request asks again", async () => {
    let calls = 0;
    const h = harness({}, undefined, async () => {
      calls++;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode("partial"));
          controller.error(new Error("connection reset"));
        },
      });
      return new Response(body, { headers: { "cache-control": "max-age=60" } });
    });
    const res = await h.send(post("/search"));
    await res.text().catch(() => "");
    await h.settle();
    const again = await h.send(post("/search"));
    await again.text().catch(() => "");
    expect(calls).toBe(2);
    expect(status(again)).not.toMatch(/hit/);
    expect(h.errors.some((e) => e.where === "response-body")).toBe(true);
  });
});

/** A request as a server hands it over when its `Host` cannot make a URL (Bun gives `/x` for `Host: a/b`). */
function withUrl(url: string, method = "POST"): Request {
  const request = new Request(`${ORIGIN}/x`, { method, body: method === "GET" || method === "HEAD" ? null : "{}" });
  Object.defineProperty(request, "url", { value: url });
  return request;
}

describe("a request whose URL cannot be parsed", () => {
  for (const method of ["POST", "QUERY", "GET", "HEAD", "PUT", "DELETE"]) {
    test(`${method}: a 400 with a short problem body, and the origin is not asked`, async () => {
      let calls = 0;
      const h = harness({}, undefined, async () => {
        calls++;
        return new Response("origin");
      });
      for (const url of ["/x", "http://a:99999/x", "http://[::1/x", "", "ftp://example.test/x"]) {
        const res = await h.send(withUrl(url, method));
        expect(res.status).toBe(400);
        if (method !== "HEAD") {
          const problem = await res.json();
          expect(problem.type).toBe("urn:postcache:problem:bad-request-url");
          expect(JSON.stringify(problem)).not.toMatch(/at |\.ts|\/work/);
        }
      }
      expect(calls).toBe(0);
    });
  }

  test("the admin endpoints do not make it reject either", async () => {
    const h = harness({ admin: adminEndpoints({ token: "0123456789abcdef" }) });
    expect((await h.send(withUrl("/.postcache/stats", "GET"))).status).toBe(400);
  });
});

describe("handle() never rejects", () => {
  test("a throwing onResult hook: the request is answered, the error reported", async () => {
    const errors: string[] = [];
    const h = harness(
      {
        onResult: () => {
          throw new Error("hook exploded");
        },
        onError: (_e, where) => errors.push(where),
      },
      undefined,
      echo,
    );
    const res = await h.send(post("/search"));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("/search 7");
    await h.settle(); // a miss is reported once its copy is stored
    expect(errors).toContain("onResult");
  });

  test("a throwing onError hook is swallowed too", async () => {
    const h = harness(
      {
        onError: () => {
          throw new Error("onError exploded");
        },
      },
      undefined,
      async () => {
        throw new Error("origin down");
      },
    );
    const res = await h.send(post("/search"));
    expect(res.status).toBe(502);
  });
});

describe("a Host that is not a host", () => {
  test("is a 400 even where the runtime folded it into a valid URL (Deno: `Host: a/b` becomes the path /b/...)", async () => {
    let calls = 0;
    const h = harness({}, undefined, async () => {
      calls++;
      return new Response("origin", { headers: { "cache-control": "max-age=60" } });
    });
    for (const host of ["a/b", "a#b", "a@b", "a?b", "a b", "a:99999", "", "[::1", "a\\b"]) {
      const request = new Request(`http://a/b/x`, { method: "POST", body: "{}", headers: { host } });
      expect({ host, status: (await h.send(request)).status }).toEqual({ host, status: 400 });
    }
    for (const host of ["api.example.test", "api.example.test:8443", "[::1]:8787", "127.0.0.1", "xn--caf-dma.example"]) {
      const request = new Request(`${ORIGIN}/search`, { method: "POST", body: "{}", headers: { host } });
      expect({ host, status: (await h.send(request)).status }).toEqual({ host, status: 200 });
    }
    expect(calls).toBe(1); // one URL, so one origin call; the rest are hits
  });
});
