/**
 * The one end-to-end suite every provider's built bundle passes in its own runtime. A provider's test
 * file starts its runtime (with ORIGIN pointing at the test origin) and calls `e2eSuite`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestOrigin, type TestOrigin } from "./origin.ts";

export interface RunningTarget {
  /** Where the postcache entry under test listens, e.g. `http://127.0.0.1:41234`. */
  url: string;
  stop(): Promise<void>;
}

/** Starts the provider's bundle in its runtime, in front of `originUrl`. */
export type StartTarget = (originUrl: string) => Promise<RunningTarget>;

export interface E2eOptions {
  /** Time allowed to start the runtime, in ms. Default 60000. */
  startTimeoutMs?: number;
  /** Skip the suite, with the reason printed (e.g. a runtime that cannot run here). */
  skip?: string;
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

    test("every POST answer carries a postcache Cache-Status", async () => {
      const res = await post("/search", JSON.stringify({ status: true, nonce }));
      expect(res.headers.get("cache-status")).toMatch(/^(.*, )?postcache; /);
      await res.arrayBuffer();
    });
  });
}
