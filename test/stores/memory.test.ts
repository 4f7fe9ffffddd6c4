import { expect, test } from "bun:test";
import { memoryStore } from "../../core/stores/memory.ts";
import { entry, TestClock, tagged, testStore, uniqueKey, uniqueTag } from "./conformance.ts";

testStore("memory", {
  create: (clock) => memoryStore({ now: clock.now, maxBytes: 8 * 1024 * 1024 }),
  capabilities: { tags: true, clear: true },
});

/** What one entry of `body` bytes under a key like uniqueKey() counts for, as the store accounts it. */
async function entrySize(body: Uint8Array): Promise<number> {
  const probe = memoryStore();
  await probe.set(uniqueKey(), entry({ body }), 60);
  return probe.bytes;
}

test("memory store evicts the least recently used entries past maxBytes", async () => {
  const clock = new TestClock();
  const body = new Uint8Array(900);
  const maxBytes = Math.floor((await entrySize(body)) * 3.5); // room for three entries, not four
  const store = memoryStore({ now: clock.now, maxBytes });
  const keys = Array.from({ length: 4 }, () => uniqueKey());
  for (const key of keys.slice(0, 3)) await store.set(key, entry({ body }), 60);
  await store.get(keys[0]); // now most recently used
  await store.set(keys[3], entry({ body }), 60);
  expect(store.bytes).toBeLessThanOrEqual(maxBytes);
  expect(await store.get(keys[0])).toBeDefined();
  expect(await store.get(keys[1])).toBeUndefined();
  expect(await store.get(keys[3])).toBeDefined();
});

test("memory store: entries evicted past maxBytes leave the tag index", async () => {
  const store = memoryStore({ maxBytes: Math.floor((await entrySize(new Uint8Array(900))) * 3.5) });
  const tag = uniqueTag();
  const keys = Array.from({ length: 4 }, () => uniqueKey());
  for (const key of keys) await store.set(key, tagged([tag], { body: new Uint8Array(900) }), 60);
  expect(await store.get(keys[0])).toBeUndefined(); // evicted by the fourth
  expect(await store.deleteTag(tag)).toBe(3);
  expect(store.size).toBe(0);
  expect(store.bytes).toBe(0);
});

test("memory store refuses an entry larger than its whole budget", async () => {
  const store = memoryStore({ maxBytes: 1000 });
  const key = uniqueKey();
  await store.set(key, entry({ body: new Uint8Array(2000) }), 60);
  expect(await store.get(key)).toBeUndefined();
  expect(store.bytes).toBe(0);
});

test("memory store rejects a bad maxBytes, naming it", () => {
  expect(() => memoryStore({ maxBytes: 0 })).toThrow(/\[postcache\] \[memory\] option "maxBytes"/);
});
