/**
 * The core test harness: msw plays the origin (counting calls), a memory store on a controlled clock
 * holds entries, and every background task postcache hands to `waitUntil` can be awaited.
 */
import { afterAll, afterEach, beforeAll } from "bun:test";
import { type HttpHandler, HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { createPostcache, type PostcacheOptions } from "../../core/index.ts";
import { memoryStore } from "../../core/stores/memory.ts";
import type { CacheStore, Fetcher, ResultInfo } from "../../core/types.ts";
import { TestClock } from "../stores/conformance.ts";

export const ORIGIN = "https://api.example.test";
export const server = setupServer();
export { HttpResponse, http };

/** Registers msw for the current test file; unhandled requests fail the test. */
export function useOrigin(): void {
  beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
  afterEach(() => server.resetHandlers());
  afterAll(() => server.close());
}

/** An origin at ORIGIN+path answering with `respond` (default: a JSON echo of the body's length and a
 * call number) and counting its calls. */
export function origin(
  path = "/search",
  respond: (request: Request, call: number) => Response | Promise<Response> = async (request, call) =>
    HttpResponse.json({ call, length: (await request.arrayBuffer()).byteLength }, { headers: { "cache-control": "max-age=60" } }),
  method: "post" | "all" = "post",
) {
  const counter = { calls: 0, bodies: [] as Uint8Array[] };
  const handler: HttpHandler = http[method](ORIGIN + path, async ({ request }) => {
    counter.calls++;
    counter.bodies.push(new Uint8Array(await request.clone().arrayBuffer()));
    return respond(request, counter.calls);
  });
  server.use(handler);
  return counter;
}

export function post(path: string, body: BodyInit | null = '{"q":1}', headers: Record<string, string> = {}, method = "POST") {
  return new Request(ORIGIN + path, { method, body, headers: { "content-type": "application/json", ...headers } });
}

export function harness(options: PostcacheOptions = {}, store?: CacheStore, fetcher: Fetcher = (request) => fetch(request)) {
  const clock = new TestClock();
  const s = store ?? memoryStore({ now: clock.now });
  const errors: { error: unknown; where: string }[] = [];
  const results: ResultInfo[] = [];
  const pending: Promise<unknown>[] = [];
  const postcache = createPostcache({
    now: clock.now,
    onError: (error, where) => errors.push({ error, where }),
    onResult: (info) => results.push(info),
    ...options,
  });
  return {
    clock,
    store: s,
    errors,
    results,
    postcache,
    /** Handles one request, then waits for its background work (cache writes, refreshes). */
    async send(request: Request): Promise<Response> {
      const response = await postcache.handle(request, s, fetcher, { waitUntil: (p) => pending.push(p) });
      return response;
    },
    /** Waits for every background task handed to waitUntil so far. */
    async settle(): Promise<void> {
      while (pending.length > 0) await Promise.all(pending.splice(0));
    },
  };
}

/** The Cache-Status member postcache added. */
export function status(response: Response): string {
  return (response.headers.get("cache-status") ?? "").split(", ").find((m) => m.startsWith("postcache")) ?? "";
}
