/**
 * An origin that sends its headers and part of its body, then goes silent, must not strand anyone: the
 * body has an idle timeout, a waiter never waits on a leader past a bound, nothing partial is stored,
 * and what is reported (onResult, stats) says what really happened.
 */
import { describe, expect, test } from "bun:test";
import { harness, post, status } from "./harness.ts";

const enc = new TextEncoder();

/** An origin answer: `first` at once, then (unless `stall`) `rest` after `delayMs`. */
function answer(
  first: string,
  rest: string,
  { stall = false, delayMs = 0, length }: { stall?: boolean; delayMs?: number; length?: number } = {},
) {
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(enc.encode(first));
      if (stall) return; // never another byte, never closed
      await Bun.sleep(delayMs);
      controller.enqueue(enc.encode(rest));
      controller.close();
    },
  });
  const headers: Record<string, string> = { "cache-control": "max-age=60" };
  if (length !== undefined) headers["content-length"] = String(length);
  return new Response(body, { headers });
}

async function readAll(response: Response): Promise<{ text: string; error?: string }> {
  try {
    return { text: await response.text() };
  } catch (error) {
    return { text: "", error: (error as Error).name };
  }
}

describe("a stalled origin body", () => {
  test("is cut off after originBodyTimeoutMs; nothing is stored; the report says why", async () => {
    let calls = 0;
    const h = harness({ originBodyTimeoutMs: 100 }, undefined, async () => {
      calls++;
      return answer("x".repeat(100), "", { stall: true });
    });
    const started = performance.now();
    const res = await h.send(post("/search"));
    expect(res.status).toBe(200);
    const read = await readAll(res);
    expect(read.error).toBeDefined();
    expect(performance.now() - started).toBeLessThan(2000);
    await h.settle();
    expect(h.results.at(-1)).toMatchObject({ outcome: "MISS", stored: false, detail: "origin-body-timeout" });
    expect(h.postcache.stats().stored).toBe(0);
    // Nothing partial was stored: the next request asks the origin again.
    const again = await h.send(post("/search"));
    expect(status(again)).toMatch(/fwd=uri-miss/);
    await readAll(again);
    expect(calls).toBe(2);
  });

  test("a slow reader is not a stalled origin: the clock runs only while the origin is awaited", async () => {
    const h = harness({ originBodyTimeoutMs: 100 }, undefined, async () => answer("a", "b", { delayMs: 50 }));
    const res = await h.send(post("/search"));
    await Bun.sleep(300); // the client reads late; the origin was never silent for 100 ms
    expect(await res.text()).toBe("ab");
    await h.settle();
    expect(h.results.at(-1)).toMatchObject({ stored: true });
  });

  test("waiters stop waiting after coalesceTimeoutMs and ask the origin themselves", async () => {
    let calls = 0;
    const h = harness({ coalesceTimeoutMs: 100, originBodyTimeoutMs: 5_000 }, undefined, async () => {
      calls++;
      // The leader's origin stalls; the waiters' own calls answer at once.
      return calls === 1 ? answer("partial", "", { stall: true }) : answer("who", "le", {});
    });
    const leader = await h.send(post("/search"));
    const started = performance.now();
    const waiters = await Promise.all([h.send(post("/search")), h.send(post("/search"))]);
    expect(performance.now() - started).toBeLessThan(2_000);
    for (const waiter of waiters) {
      expect(await waiter.text()).toBe("whole");
      expect(status(waiter)).not.toMatch(/collapsed/);
    }
    expect(calls).toBe(3);
    leader.body?.cancel();
  });

  test("a waiter past the bound takes a stale-if-error copy when there is one", async () => {
    let calls = 0;
    const h = harness({ coalesceTimeoutMs: 100, originBodyTimeoutMs: 5_000, staleIfError: 600 }, undefined, async () => {
      calls++;
      if (calls === 1) return new Response("v1", { headers: { "cache-control": "max-age=10" } });
      return answer("partial", "", { stall: true });
    });
    await (await h.send(post("/search"))).text();
    await h.settle();
    h.clock.advance(20);
    const leader = await h.send(post("/search"));
    const waiter = await h.send(post("/search"));
    expect(await waiter.text()).toBe("v1");
    expect(status(waiter)).toMatch(/fwd=stale; ttl=-10; collapsed; detail=stale-if-error/);
    expect(calls).toBe(2);
    leader.body?.cancel();
  });

  test("a leader whose client disconnects leaves its waiters their answer", async () => {
    let calls = 0;
    const h = harness({}, undefined, async () => {
      calls++;
      return answer("first half,", "second half", { delayMs: 50 });
    });
    const leader = await h.send(post("/search"));
    const waiter = h.send(post("/search"));
    await leader.body?.cancel(); // the leader's client goes away mid-answer
    const waited = await waiter;
    expect(await waited.text()).toBe("first half,second half");
    expect(status(waited)).toMatch(/collapsed/);
    expect(calls).toBe(1);
  });
});

describe("what `stored` means", () => {
  test("a Content-Length over maxResponseBytes is never announced as stored", async () => {
    const h = harness({ maxResponseBytes: 10 }, undefined, async () => answer("0123456789", "abcdef", { length: 16 }));
    const res = await h.send(post("/search"));
    expect(status(res)).toBe("postcache; fwd=uri-miss; fwd-status=200; detail=too-large");
    expect(await res.text()).toBe("0123456789abcdef");
  });

  test("without a length, `stored` announces the attempt; onResult and stats report the outcome", async () => {
    const h = harness({ maxResponseBytes: 10 }, undefined, async () => answer("0123456789", "abcdef"));
    const res = await h.send(post("/search"));
    expect(status(res)).toBe("postcache; fwd=uri-miss; fwd-status=200; stored");
    expect(await res.text()).toBe("0123456789abcdef");
    await h.settle();
    expect(h.results.at(-1)).toMatchObject({ outcome: "MISS", stored: false, detail: "too-large" });
    expect(h.postcache.stats()).toMatchObject({ misses: 1, stored: 0 });
    expect(status(await h.send(post("/search")))).toMatch(/fwd=uri-miss/);
  });

  test("a stored answer is reported stored once its copy is written", async () => {
    const h = harness({}, undefined, async () => answer("a", "b"));
    await (await h.send(post("/search"))).text();
    await h.settle();
    expect(h.results.at(-1)).toMatchObject({ outcome: "MISS", stored: true });
    expect(h.postcache.stats()).toMatchObject({ misses: 1, stored: 1 });
  });
});
