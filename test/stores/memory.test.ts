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

test("memory store keeps its own copy: changing an entry after set changes nothing stored", async () => {
  const store = memoryStore();
  const key = uniqueKey();
  const original = tagged(["t"], { vary: [["accept", "a"]] });
  await store.set(key, original, 60);
  original.body[0] = 0;
  original.headers[0][1] = "changed/by-caller";
  original.headers.push(["x-added", "1"]);
  (original.tags as string[]).push("added");
  const got = await store.get(key);
  expect(new TextDecoder().decode(got?.body)).toBe("hello");
  expect(got?.headers).toEqual(entry().headers);
  expect(got?.tags).toEqual(tagged(["t"]).tags);
  expect(got?.vary).toEqual([["accept", "a"]]);
});

test("memory store accounts an entry's tags and vary as well as its headers", async () => {
  const plain = memoryStore();
  await plain.set(uniqueKey(), entry(), 60);
  const many = memoryStore();
  const tags = Array.from({ length: 100 }, (_, i) => `tag-${i}-${"x".repeat(90)}`);
  await many.set(uniqueKey(), tagged(tags, { vary: [["accept-language", "y".repeat(1000)]] }), 60);
  expect(many.bytes - plain.bytes).toBeGreaterThan(100 * 96 + 1000);
});

test("memory store: a decoded entry it keeps for the next get never outlives an overwrite, delete, purge or expiry", async () => {
  const clock = new TestClock();
  const store = memoryStore({ now: clock.now });
  const text = async (key: string) => {
    const got = await store.get(key);
    return got && new TextDecoder().decode(got.body);
  };
  const [a, b, c, d] = Array.from({ length: 4 }, () => uniqueKey());
  await store.set(a, entry({ body: new TextEncoder().encode("a1") }), 60);
  expect(await text(a)).toBe("a1");
  await store.set(a, entry({ body: new TextEncoder().encode("a2") }), 60);
  expect(await text(a)).toBe("a2");
  expect(await store.delete(a)).toBe(true);
  // The next set takes the slot `a` had; its get must not answer what `a` held.
  await store.set(b, entry({ body: new TextEncoder().encode("b") }), 60);
  expect(await text(a)).toBeUndefined();
  expect(await text(b)).toBe("b");
  const tag = uniqueTag();
  await store.set(c, tagged([tag], { body: new TextEncoder().encode("c") }), 60);
  expect(await text(c)).toBe("c");
  expect(await store.deleteTag(tag)).toBe(1);
  expect(await text(c)).toBeUndefined();
  await store.set(d, entry({ body: new TextEncoder().encode("d") }), 1);
  expect(await text(d)).toBe("d");
  clock.advance(2);
  expect(await text(d)).toBeUndefined();
  await store.clear();
  expect(await text(b)).toBeUndefined();
});

test("memory store: many entries read in turn, more than it keeps decoded, each answer its own", async () => {
  const store = memoryStore();
  const keys = Array.from({ length: 600 }, () => uniqueKey());
  for (const [i, key] of keys.entries()) await store.set(key, entry({ body: new TextEncoder().encode(`v${i}`) }), 60);
  for (let round = 0; round < 2; round++) {
    for (const [i, key] of keys.entries()) expect(new TextDecoder().decode((await store.get(key))?.body)).toBe(`v${i}`);
  }
});
