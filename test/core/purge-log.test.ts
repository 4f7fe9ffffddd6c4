/**
 * withPurgeLog: two "PoPs" (two memory stores, as two data centres' caches) share one purge log; a
 * purge at one is a miss at the other once its memo is refreshed, and never before purgeCheckMs.
 */
import { describe, expect, test } from "bun:test";
import { type PurgeLog, withPurgeLog } from "../../core/purge-log.ts";
import { memoryPurgeLog } from "../../core/purge-logs/memory.ts";
import { memoryStore } from "../../core/stores/memory.ts";
import { ALL_TAG } from "../../core/tags.ts";
import { TestClock, tagged, uniqueKey, uniqueTag } from "../stores/conformance.ts";

function pops(log: PurgeLog = memoryPurgeLog(), options = {}) {
  const clock = new TestClock(Date.now());
  const make = () => {
    const local = memoryStore({ now: clock.now });
    return { local, store: withPurgeLog(local, log, { purgeCheckMs: 1000, now: clock.now, ...options }) };
  };
  return { clock, a: make(), b: make(), log };
}

/** Counts reads, and fails them while `down`. */
function flaky(inner: PurgeLog) {
  const counter = { reads: 0, down: false };
  const log: PurgeLog = {
    name: "flaky",
    record: (t, at) => (counter.down ? Promise.reject(new Error("log down")) : inner.record(t, at)),
    read: () => {
      counter.reads++;
      return counter.down ? Promise.reject(new Error("log down")) : inner.read();
    },
  };
  return { log, counter };
}

describe("withPurgeLog", () => {
  test("a tag purged at one PoP is a miss at the other after purgeCheckMs, and its local copy is deleted", async () => {
    const { clock, a, b } = pops();
    const [key, tag] = [uniqueKey(), uniqueTag()];
    const stored = tagged([tag], { storedAt: clock.ms });
    await a.store.set(key, stored, 60);
    await b.store.set(key, stored, 60);
    expect(await b.store.get(key)).toBeDefined(); // b reads the log now (empty)
    clock.advance(0.1);
    await a.store.deleteTag(tag);
    expect(await a.store.get(key)).toBeUndefined(); // purged locally at once
    clock.advance(0.5);
    expect(await b.store.get(key)).toBeDefined(); // within purgeCheckMs: b has not looked yet
    clock.advance(0.5);
    expect(await b.store.get(key)).toBeUndefined();
    expect(b.local.size).toBe(0);
  });

  test("an entry stored after the purge is served; key purges and purge-all reach every PoP", async () => {
    const { clock, a, b } = pops();
    const key = uniqueKey();
    await b.store.set(key, tagged([], { storedAt: clock.ms }), 60);
    await a.store.delete(key);
    clock.advance(1);
    expect(await b.store.get(key)).toBeUndefined();
    await b.store.set(key, tagged([], { storedAt: clock.ms + 1 }), 60);
    expect(await b.store.get(key)).toBeDefined();
    clock.advance(1);
    await a.store.clear();
    clock.advance(1);
    expect(await b.store.get(key)).toBeUndefined();
  });

  test("a URI purge (its URI tag) and a purge of ALL_TAG count as tags", async () => {
    const { clock, a, b } = pops();
    const [k1, k2] = [uniqueKey(), uniqueKey()];
    const uri = `postcache:uri:${"0".repeat(64)}`;
    await b.store.set(k1, tagged([uri], { storedAt: clock.ms }), 60);
    await b.store.set(k2, tagged([], { storedAt: clock.ms }), 60);
    clock.advance(0.01);
    await a.store.deleteTag(uri);
    clock.advance(1);
    expect(await b.store.get(k1)).toBeUndefined();
    expect(await b.store.get(k2)).toBeDefined();
    await a.store.deleteTag(ALL_TAG);
    clock.advance(1);
    expect(await b.store.get(k2)).toBeUndefined();
  });

  test("one log read per purgeCheckMs however many hits", async () => {
    const { log, counter } = flaky(memoryPurgeLog());
    const { clock, b } = pops(log);
    const key = uniqueKey();
    await b.store.set(key, tagged([], { storedAt: clock.ms }), 600);
    for (let i = 0; i < 100; i++) {
      expect(await b.store.get(key)).toBeDefined();
      clock.ms += 25; // 100 hits over 2.5 s
    }
    expect(counter.reads).toBe(3);
  });

  test("log unreadable: served from the memo for the grace, then misses, then served again once it reads", async () => {
    const { log, counter } = flaky(memoryPurgeLog());
    const errors: string[] = [];
    const { clock, b } = pops(log, { graceMs: 2000, onError: (_: unknown, during: string) => errors.push(during) });
    const key = uniqueKey();
    await b.store.set(key, tagged([], { storedAt: clock.ms }), 600);
    expect(await b.store.get(key)).toBeDefined();
    counter.down = true;
    clock.advance(2.5); // last good read 2.5 s ago: within purgeCheckMs + grace (3 s)
    expect(await b.store.get(key)).toBeDefined();
    clock.advance(1);
    expect(await b.store.get(key)).toBeUndefined();
    expect(b.local.size).toBe(1); // a miss, but the copy is kept: nothing says it was purged
    expect(errors).toContain("purge-log.read");
    counter.down = false;
    clock.advance(1);
    expect(await b.store.get(key)).toBeDefined();
  });

  test("a log read that never settles is cut off, so the memo goes on being refreshed", async () => {
    let hang = true;
    const inner = memoryPurgeLog();
    const log: PurgeLog = { name: "hanging", record: inner.record, read: () => (hang ? new Promise(() => {}) : inner.read()) };
    const errors: string[] = [];
    const { clock, b } = pops(log, { purgeCheckMs: 10, graceMs: 0, onError: (_: unknown, d: string) => errors.push(d) });
    const key = uniqueKey();
    await b.store.set(key, tagged([], { storedAt: clock.ms }), 600);
    expect(await b.store.get(key)).toBeUndefined(); // cut off after max(purgeCheckMs, 1000) ms of real time
    expect(errors).toEqual(["purge-log.read"]);
    hang = false;
    clock.advance(1);
    expect(await b.store.get(key)).toBeDefined();
  });

  test("a purge the log did not take still purges locally, then rejects (the admin answers 503)", async () => {
    const { log, counter } = flaky(memoryPurgeLog());
    const { clock, a } = pops(log);
    const key = uniqueKey();
    await a.store.set(key, tagged([], { storedAt: clock.ms }), 60);
    counter.down = true;
    await expect(a.store.delete(key)).rejects.toThrow("log down");
    expect(a.local.size).toBe(0);
    await expect(a.store.deleteTag(uniqueTag())).rejects.toThrow("log down");
  });

  test("a store without deleteTag gains purge by tag through the log", async () => {
    const { clock } = pops();
    const local = memoryStore({ now: clock.now });
    const bare = { name: "bare", get: local.get, set: local.set, delete: local.delete };
    const store = withPurgeLog(bare, memoryPurgeLog(), { now: clock.now });
    const [key, tag] = [uniqueKey(), uniqueTag()];
    await store.set(key, tagged([tag], { storedAt: clock.ms }), 60);
    expect(await store.deleteTag(tag)).toBe(-1);
    expect(await store.get(key)).toBeUndefined();
  });

  test("bad options are refused, naming them", () => {
    expect(() => withPurgeLog(memoryStore(), memoryPurgeLog(), { purgeCheckMs: -1 })).toThrow(/"purgeCheckMs"/);
    expect(() => withPurgeLog(memoryStore(), memoryPurgeLog(), { graceMs: Number.NaN })).toThrow(/"graceMs"/);
  });
});
