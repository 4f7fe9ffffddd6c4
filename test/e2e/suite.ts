/**
 * The one end-to-end suite every provider's built bundle passes in its own runtime. A provider's test
 * file starts its runtime (with ORIGIN pointing at the test origin) and calls `e2eSuite`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestOrigin, type TestOrigin } from "./origin.ts";
import { rawRequest } from "./raw-http.ts";

export interface RunningTarget {
  /** Where the postcache entry under test listens, e.g. `http://127.0.0.1:41234`. */
  url: string;
  stop(): Promise<void>;
}

/** Starts the provider's bundle in its runtime, in front of `originUrl`. */
export type StartTarget = (originUrl: string) => Promise<RunningTarget>;

/** RFC 9112 §3.2.2-3.2.3: request-target forms a proxy's clients may send besides the origin form. */
export type TargetForm = "absolute-form" | "authority-form" | "bad-host" | "leading-slashes" | "encoded-slashes" | "query";

export interface E2eOptions {
  /** Time allowed to start the runtime, in ms. Default 60000. */
  startTimeoutMs?: number;
  /** Skip the suite, with the reason printed (e.g. a runtime that cannot run here). */
  skip?: string;
  /** `false` for an entry that reaches its origin some other way than the configured ORIGIN (a
   * deployment's own routes): the request-target matrix, which checks that only ORIGIN is reached,
   * does not apply. Default true. */
  forwardsToOrigin?: boolean;
  /** Requests of the matrix that the local runtime's own HTTP server answers (a 500, an empty 200, or
   * nothing) before the entry runs: a bug of the emulator, not postcache's. kind → why. The matrix then
   * checks only that such a request reached nobody and that no answer came from postcache. */
  runtimeRefuses?: Partial<Record<TargetForm, string>>;
  /** Request targets whose path the runtime's own HTTP server rewrites before the entry sees it (a bug of
   * the local runtime), with the reason: the matrix then checks only that ORIGIN alone was reached. */
  runtimeRewritesPath?: Partial<Record<TargetForm, string>>;
}

const nonce = `${Date.now()}-${Math.random().toString(36).slice(2)}`;

export function e2eSuite(provider: string, start: StartTarget, options: E2eOptions = {}): void {
  describe.skipIf(Boolean(options.skip))(`e2e in the real runtime: ${provider}`, () => {
    let origin: TestOrigin;
    let target: RunningTarget;

    beforeAll(async () => {
      origin = await startTestOrigin();
      target = await start(origin.url);
    }, options.startTimeoutMs ?? 60_000);

    afterAll(async () => {
      await target?.stop();
      await origin?.stop();
    });

    const post = (path: string, body: string, headers: Record<string, string> = {}) =>
      fetch(target.url + path, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });

    /** Cache writes may finish after the response (waitUntil): ask again until a HIT, briefly. */
    async function untilHit(path: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
      let last: Response | undefined;
      for (let i = 0; i < 20; i++) {
        last = await post(path, body, headers);
        if (/;\s*hit\b/.test(last.headers.get("cache-status") ?? "")) return last;
        await last.arrayBuffer();
        await Bun.sleep(100);
      }
      return last as Response;
    }

    test("the same body: MISS, then HIT, with one origin call", async () => {
      const body = JSON.stringify({ query: "lamp", nonce });
      const first = await post("/search", body);
      expect(first.status).toBe(200);
      expect(first.headers.get("cache-status")).toMatch(/fwd=uri-miss/);
      const firstJson = await first.json();
      const second = await untilHit("/search", body);
      expect(second.headers.get("cache-status")).toMatch(/;\s*hit\b/);
      expect(await second.json()).toEqual(firstJson);
      expect(origin.calls("POST", "/search", body)).toBe(1);
    });

    test("a different body is a MISS and reaches the origin", async () => {
      const a = JSON.stringify({ query: "desk", nonce });
      const b = JSON.stringify({ query: "chair", nonce });
      await (await post("/search", a)).arrayBuffer();
      const other = await post("/search", b);
      expect(other.headers.get("cache-status")).toMatch(/fwd=uri-miss/);
      expect((await other.json()).path).toBe("/search");
      expect(origin.calls("POST", "/search", b)).toBe(1);
    });

    test("a mutation-style path bypasses the cache", async () => {
      const body = JSON.stringify({ sku: "lamp", nonce });
      for (let i = 0; i < 2; i++) {
        const res = await post("/cart/add", body);
        expect(res.headers.get("cache-status")).toMatch(/fwd=bypass; detail=mutation/);
        await res.arrayBuffer();
      }
      expect(origin.calls("POST", "/cart/add", body)).toBe(2);
    });

    test("a no-store answer is never stored", async () => {
      const body = JSON.stringify({ q: "fresh", nonce });
      for (let i = 0; i < 2; i++) {
        const res = await post("/nostore", body);
        expect(res.headers.get("cache-status")).toMatch(/detail=no-store/);
        expect(res.headers.get("cache-status")).not.toMatch(/;\s*hit\b/);
        await res.arrayBuffer();
        await Bun.sleep(50);
      }
      expect(origin.calls("POST", "/nostore", body)).toBe(2);
    });

    test("GET passes through untouched", async () => {
      const path = `/hello?n=${nonce}`;
      const res = await fetch(target.url + path);
      expect(res.status).toBe(200);
      expect((await res.json()).method).toBe("GET");
      expect(res.headers.get("cache-status") ?? "").not.toMatch(/postcache/);
      expect(origin.calls("GET", path)).toBe(1);
    });

    test("a gzip answer reads the same on the MISS and the HIT", async () => {
      const body = JSON.stringify({ gzip: true, nonce });
      const headers = { "accept-encoding": "gzip" };
      const miss = await post("/gzip", body, headers);
      expect(miss.status).toBe(200);
      const first = await miss.json();
      expect(first.path).toBe("/gzip");
      const hit = await untilHit("/gzip", body, headers);
      expect(hit.headers.get("cache-status")).toMatch(/;\s*hit\b/);
      expect(await hit.json()).toEqual(first);
      expect(origin.calls("POST", "/gzip", body)).toBe(1);
    });

    // RFC 9111 §4.4, in each runtime's own store (memory, Cache API index, Runtime Cache).
    test("a successful PUT purges the POST answers stored for its URI", async () => {
      const path = `/items/${nonce}`;
      const body = JSON.stringify({ item: true, nonce });
      await (await post(path, body)).arrayBuffer();
      const hit = await untilHit(path, body);
      expect(hit.headers.get("cache-status")).toMatch(/;\s*hit\b/);
      await hit.arrayBuffer();
      const put = await fetch(target.url + path, { method: "PUT", body: "{}", headers: { "content-type": "application/json" } });
      expect(put.status).toBe(200);
      await put.arrayBuffer();
      const after = await post(path, body);
      expect(after.headers.get("cache-status")).toMatch(/fwd=uri-miss/);
      await after.arrayBuffer();
      expect(origin.calls("POST", path, body)).toBe(2);
    });

    test("every POST answer carries a postcache Cache-Status", async () => {
      const res = await post("/search", JSON.stringify({ status: true, nonce }));
      expect(res.headers.get("cache-status")).toMatch(/^(.*, )?postcache; /);
      await res.arrayBuffer();
    });

    // Last, because some local emulators exit on the malformed requests it sends (edge-runtime does).
    // The upstream is ORIGIN plus the request's path and query, whatever the request target or Host
    // says: a path starting with `//` must not become a host (server-side request forgery).
    test.skipIf(options.forwardsToOrigin === false)(
      "request targets and Host values never choose the upstream: only ORIGIN is reached, with the path as parsed",
      async () => {
        const canary = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("canary") });
        let canaryCalls = 0;
        canary.reload({
          fetch: () => {
            canaryCalls++;
            return new Response("canary", { headers: { "cache-control": "max-age=60" } });
          },
        });
        const elsewhere = `127.0.0.1:${canary.port}`;
        const originHost = new URL(origin.url).host;
        /** The path and query the URL standard gives `target` on an http origin. */
        const parsed = (target: string) => {
          const url = new URL(`http://placeholder${target}`);
          return url.pathname + url.search;
        };
        // `invalid`: not a valid HTTP/1.1 request target (RFC 9112 §3.2), so a runtime may close the
        // connection or never answer; it must still reach nobody.
        const cases: {
          target: string;
          host?: string | null;
          path?: string;
          version?: "HTTP/1.0";
          invalid?: true;
          kind?: TargetForm;
        }[] = [
          { target: `//${elsewhere}/x`, kind: "leading-slashes" },
          { target: `///${elsewhere}/x?q=1`, kind: "leading-slashes" },
          { target: `/%2F%2F${elsewhere}/x`, kind: "encoded-slashes" },
          { target: "/a%2Fb;c=d@e", kind: "encoded-slashes" },
          { target: `/@${elsewhere}/x` },
          { target: "/a/../b/./c" },
          { target: "/a\\b", invalid: true },
          { target: `/search?next=//${elsewhere}/x`, kind: "query" },
          { target: `http://${elsewhere}/absolute?q=1`, path: "/absolute?q=1", kind: "absolute-form" },
          { target: elsewhere, path: "", invalid: true, kind: "authority-form" },
          { target: "/by-host", host: elsewhere },
          { target: "/by-host-name", host: "evil.example" },
          // Hosts no URL can hold: a clear 4xx (or the runtime's own default host), never a 500.
          ...["a/b", "a#b", "a@b", "[::1", "a:99999", ""].map((host) => ({
            target: "/bad-host",
            host,
            kind: "bad-host" as const,
          })),
          { target: "/no-host", host: null, version: "HTTP/1.0" as const, kind: "bad-host" as const },
        ];
        try {
          for (const [i, c] of cases.entries()) {
            const body = JSON.stringify({ requestTarget: i, nonce });
            const sent = Date.now();
            const res = await rawRequest(target.url, {
              target: c.target,
              host: c.host,
              version: c.version,
              body,
              headers: { "content-type": "application/json" },
              timeoutMs: c.invalid ? 3_000 : 10_000,
            });
            const label = `${c.target} (Host: ${c.host === null ? "none" : (c.host ?? "the listener's")}) answered ${res.status}${res.status >= 500 ? `: ${res.body.slice(0, 200)}` : ""}`;
            if (Date.now() - sent > 1000)
              console.log(`${label} after ${Date.now() - sent} ms${res.timedOut ? " (timed out)" : ""}`);
            const refused = c.kind && options.runtimeRefuses?.[c.kind];
            const ours = res.headers.has("cache-status") || res.body.includes("postcache");
            if (refused && !ours) {
              expect({ label, reached: origin.seen.filter((s) => s.body === body) }).toEqual({ label, reached: [] });
              continue;
            }
            expect({ label, answered: res.status > 0 || Boolean(c.invalid), below500: res.status < 500 }).toEqual({
              label,
              answered: true,
              below500: true,
            });
            const reached = origin.seen.filter((s) => s.body === body);
            if (res.status >= 400 || res.status === 0) {
              // Refused before it went anywhere (the runtime's parser, or postcache's 400).
              expect({ label, reached }).toEqual({ label, reached: [] });
              continue;
            }
            if (c.kind && options.runtimeRewritesPath?.[c.kind]) {
              expect({ label, reached: reached.map((s) => s.host) }).toEqual({ label, reached: [originHost] });
              continue;
            }
            const expected = c.path ?? parsed(c.target);
            expect({ label, reached: reached.map((s) => `${s.host} ${s.path}`) }).toEqual({
              label,
              reached: [`${originHost} ${expected}`],
            });
          }
          expect(canaryCalls).toBe(0);
        } finally {
          canary.stop(true);
        }
      },
      60_000,
    );
  });
}
