/**
 * Per-provider origin timeouts: under each platform's own limit, so that postcache answers first (a 504,
 * or a stale copy under stale-if-error) instead of the platform cutting the request off.
 * - Netlify's proxy gives up on an origin at about 26 s (https://docs.netlify.com/manage/routing/redirects/rewrites-proxies/).
 * - Vercel middleware must begin its response within 25 s (https://vercel.com/docs/edge-middleware/limitations).
 * Fake timers: the origin never answers, and the clock is moved past each limit.
 */
import { afterEach, expect, jest, test } from "bun:test";
import { postcacheNetlify } from "../../adapters/netlify.ts";
import { postcacheVercel } from "../../adapters/vercel.ts";
import { memoryStore } from "../../core/index.ts";

const realFetch = globalThis.fetch;
afterEach(() => {
  jest.useRealTimers();
  globalThis.fetch = realFetch;
});

/** Answers `request` through `handle` with an origin that never answers; the status once `ms` have passed. */
async function statusAfter(handle: (request: Request) => Promise<Response>, ms: number): Promise<number | "pending"> {
  let reached: () => void = () => {};
  const fetched = new Promise<void>((resolve) => {
    reached = resolve;
  });
  globalThis.fetch = (() => {
    reached();
    return new Promise<Response>(() => {});
  }) as unknown as typeof fetch;
  jest.useFakeTimers();
  let settled: number | "pending" = "pending";
  const answer = handle(new Request("https://edge.example/search", { method: "POST", body: '{"q":1}' })).then((r) => {
    settled = r.status;
  });
  await fetched;
  jest.advanceTimersByTime(ms);
  for (let i = 0; i < 20; i++) await Promise.resolve();
  if (settled === "pending") {
    jest.advanceTimersByTime(60_000);
    await answer;
    return "pending";
  }
  return settled;
}

const context = { next: () => new Promise<Response>(() => {}), waitUntil() {} };
const netlify = () => {
  const fn = postcacheNetlify({ origin: "https://api.example.com", store: memoryStore() });
  return (request: Request) => fn(request, context);
};
const vercel = () => postcacheVercel({ origin: "https://api.example.com", store: memoryStore() });

test.each([
  ["netlify", netlify],
  ["vercel", vercel],
])("%s: a silent origin is a 504 after 20 s, not before", async (_, make) => {
  expect(await statusAfter(make(), 19_900)).toBe("pending");
  expect(await statusAfter(make(), 20_100)).toBe(504);
});

test("an explicit originTimeoutMs still wins", async () => {
  const fn = postcacheNetlify({ origin: "https://api.example.com", store: memoryStore(), originTimeoutMs: 5_000 });
  expect(await statusAfter((r) => fn(r, context), 5_100)).toBe(504);
});
