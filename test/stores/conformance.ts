/**
 * The one conformance suite every cache store passes. Each store's test file is a few lines that
 * call `testStore`; missing capabilities are declared, not copied around.
 */
import { describe, expect, test } from "bun:test";
import { ALL_TAG } from "../../core/tags.ts";
import type { CacheEntry, CacheStore } from "../../core/types.ts";

export interface StoreHarness {
  /** A fresh, empty store whose clock is `clock.now`. */
  create(clock: TestClock): CacheStore | Promise<CacheStore>;
  /** Called after each test. */
  cleanup?(store: CacheStore): void | Promise<void>;
  /** What the store can do beyond get/set/delete; the cases for a capability run only when it is declared. */
  capabilities?: StoreCapabilities;
}

export interface StoreCapabilities {
  /** `deleteTag` removes the entries carrying a tag, and a purge of `ALL_TAG` removes every entry. */
  tags?: boolean;
  /** `deleteTag` resolves how many entries it removed. `false`: it resolves -1, the store cannot tell. Default true. */
  tagCounts?: boolean;
  /** The store has `clear`. */
  clear?: boolean;
}

/** A controlled clock: stores under test read `now()`, tests move it. */
export class TestClock {
  constructor(public ms = Date.UTC(2026, 10, 21)) {}
  now = (): number => this.ms;
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

let counter = 0;
/** A key unique to this run, shaped like postcache's own keys. */
export function uniqueKey(suffix = ""): string {
  return `https://example.test/.postcache/v1/${Date.now().toString(16)}${(counter++).toString(16).padStart(6, "0")}${suffix}`;
}

export function entry(overrides: Partial<CacheEntry> = {}): CacheEntry {
  return {
    status: 200,
    headers: [
      ["content-type", "application/octet-stream"],
      ["link", "</a>; rel=preload"],
      ["x-multi", "one, two"],
    ],
    body: new TextEncoder().encode("hello"),
    storedAt: Date.UTC(2026, 10, 21),
    ttl: 60,
    staleWhileRevalidate: 10,
    staleIfError: 20,
    ...overrides,
  };
}

/** A tag unique to this run. */
export function uniqueTag(name = "t"): string {
  return `${name}:${Date.now().toString(36)}-${(counter++).toString(36)}`;
}

/** An entry carrying `tags`, and `ALL_TAG` as every entry postcache stores does (core/tags.ts). */
export function tagged(tags: string[], overrides: Partial<CacheEntry> = {}): CacheEntry {
  return entry({ tags: [ALL_TAG, ...tags], ...overrides });
}

/** Every byte value, twice: a body that no text decoding survives. */
export const BINARY = Uint8Array.from({ length: 512 }, (_, i) => i % 256);

export function testStore(name: string, harness: StoreHarness): void {
  describe(`store conformance: ${name}`, () => {
    async function withStore(run: (store: CacheStore, clock: TestClock) => Promise<void>): Promise<void> {
      const clock = new TestClock();
      const store = await harness.create(clock);
      try {
        await run(store, clock);
      } finally {
        await harness.cleanup?.(store);
      }
    }

    test("an absent key is a miss", () =>
      withStore(async (store) => {
        expect(await store.get(uniqueKey())).toBeUndefined();
      }));

    test("round trip keeps status, headers in order, binary body, freshness, vary and tags", () =>
      withStore(async (store) => {
        const key = uniqueKey();
        const original = entry({
          status: 404,
          body: BINARY,
          vary: [
            ["x-tenant", "a"],
            ["x-absent", null],
          ],
          tags: ["product:1", "search"],
        });
        await store.set(key, original, 60);
        const got = await store.get(key);
        expect(got).toBeDefined();
        expect(got?.status).toBe(404);
        expect(got?.headers).toEqual(original.headers);
        expect(got?.body).toBeInstanceOf(Uint8Array);
        expect([...(got?.body ?? [])]).toEqual([...BINARY]);
        expect(got?.storedAt).toBe(original.storedAt);
        expect(got?.ttl).toBe(60);
        expect(got?.staleWhileRevalidate).toBe(10);
        expect(got?.staleIfError).toBe(20);
        expect(got?.vary).toEqual(original.vary);
        expect(got?.tags).toEqual(original.tags);
      }));

    test("an empty body and a 204 round trip", () =>
      withStore(async (store) => {
        const key = uniqueKey();
        await store.set(key, entry({ status: 204, body: new Uint8Array(0) }), 60);
        const got = await store.get(key);
        expect(got?.status).toBe(204);
        expect(got?.body.byteLength).toBe(0);
      }));

    test("a 1 MiB body round trips intact", () =>
      withStore(async (store) => {
        const key = uniqueKey();
        const body = Uint8Array.from({ length: 1024 * 1024 }, (_, i) => (i * 7 + (i >> 8)) & 255);
        await store.set(key, entry({ body }), 60);
        const got = await store.get(key);
        expect(got?.body.byteLength).toBe(body.byteLength);
        expect(Buffer.compare(Buffer.from(got?.body ?? []), Buffer.from(body))).toBe(0);
      }));

    test("set overwrites", () =>
      withStore(async (store) => {
        const key = uniqueKey();
        await store.set(key, entry({ body: new TextEncoder().encode("first") }), 60);
        await store.set(key, entry({ body: new TextEncoder().encode("second"), status: 203 }), 60);
        const got = await store.get(key);
        expect(new TextDecoder().decode(got?.body)).toBe("second");
        expect(got?.status).toBe(203);
      }));

    test("delete removes, and deleting again is harmless", () =>
      withStore(async (store) => {
        const key = uniqueKey();
        await store.set(key, entry(), 60);
        expect(await store.delete(key)).toBe(true);
        expect(await store.get(key)).toBeUndefined();
        expect(await store.delete(key)).toBe(false);
      }));

    test("entries expire after their TTL on the store's clock", () =>
      withStore(async (store, clock) => {
        const key = uniqueKey();
        await store.set(key, entry(), 30);
        clock.advance(29);
        expect(await store.get(key)).toBeDefined();
        clock.advance(2);
        expect(await store.get(key)).toBeUndefined();
      }));

    test("a TTL of zero or less stores nothing", () =>
      withStore(async (store) => {
        const key = uniqueKey();
        await store.set(key, entry(), 0);
        expect(await store.get(key)).toBeUndefined();
      }));

    test("odd keys stay distinct: long, unicode, reserved characters", () =>
      withStore(async (store) => {
        const keys = [
          uniqueKey(`/${"a".repeat(1500)}`),
          uniqueKey("/caf%C3%A9"),
          uniqueKey("/café"),
          uniqueKey("?q=1&r=%2F#frag"),
          uniqueKey("/%00%FF"),
        ];
        await Promise.all(keys.map((k, i) => store.set(k, entry({ body: new TextEncoder().encode(`v${i}`) }), 60)));
        for (const [i, k] of keys.entries()) {
          expect(new TextDecoder().decode((await store.get(k))?.body)).toBe(`v${i}`);
        }
      }));

    test("concurrent writes: each key ends whole, never a mix of two entries", () =>
      withStore(async (store) => {
        const shared = uniqueKey();
        const distinct = Array.from({ length: 20 }, () => uniqueKey());
        await Promise.all([
          ...Array.from({ length: 20 }, (_, i) =>
            store.set(shared, entry({ headers: [["x-n", String(i)]], body: new TextEncoder().encode(`body-${i}`) }), 60),
          ),
          ...distinct.map((k, i) => store.set(k, entry({ body: new TextEncoder().encode(`d${i}`) }), 60)),
        ]);
        const got = await store.get(shared);
        const n = got?.headers.find(([h]) => h === "x-n")?.[1];
        expect(n).toBeDefined();
        expect(new TextDecoder().decode(got?.body)).toBe(`body-${n}`);
        for (const [i, k] of distinct.entries()) {
          expect(new TextDecoder().decode((await store.get(k))?.body)).toBe(`d${i}`);
        }
      }));

    const caps = harness.capabilities ?? {};
    describe.skipIf(!caps.tags)("purge by tag", () => {
      /** The count `deleteTag` resolved: exactly `expected` (or within [min, max]), or -1 where the store cannot tell. */
      function expectRemoved(removed: number, expected: number | [min: number, max: number]): void {
        if (caps.tagCounts === false) {
          expect(removed).toBe(-1);
          return;
        }
        const [min, max] = typeof expected === "number" ? [expected, expected] : expected;
        expect(removed).toBeGreaterThanOrEqual(min);
        expect(removed).toBeLessThanOrEqual(max);
      }
      const deleteTag = (store: CacheStore, tag: string): Promise<number> => {
        if (!store.deleteTag) throw new Error(`${store.name} declares tags but has no deleteTag`);
        return store.deleteTag(tag);
      };
      async function present(store: CacheStore, keys: string[]): Promise<boolean[]> {
        return Promise.all(keys.map(async (k) => (await store.get(k)) !== undefined));
      }

      test("deleteTag removes exactly the entries carrying the tag and leaves the others", () =>
        withStore(async (store) => {
          const [t, u] = [uniqueTag(), uniqueTag()];
          const [a, b, c, d, gone] = Array.from({ length: 5 }, () => uniqueKey());
          await store.set(a, tagged([t]), 60);
          await store.set(b, tagged([u, t]), 60);
          await store.set(c, tagged([u]), 60);
          await store.set(d, tagged([]), 60);
          await store.set(gone, tagged([t]), 60);
          await store.delete(gone); // removed before the purge: not counted
          expectRemoved(await deleteTag(store, t), 2);
          expect(await present(store, [a, b, c, d, gone])).toEqual([false, false, true, true, false]);
          expect(await store.get(c)).toMatchObject({ status: 200, tags: [ALL_TAG, u] });
        }));

      test("a tag nothing carries purges nothing", () =>
        withStore(async (store) => {
          const key = uniqueKey();
          await store.set(key, tagged([uniqueTag()]), 60);
          expectRemoved(await deleteTag(store, uniqueTag("never")), 0);
          expect(await store.get(key)).toBeDefined();
        }));

      test("an entry with several tags is gone after a purge of any one of them", () =>
        withStore(async (store) => {
          const [t1, t2, t3] = [uniqueTag(), uniqueTag(), uniqueTag()];
          const [many, other] = [uniqueKey(), uniqueKey()];
          await store.set(many, tagged([t1, t2, t3]), 60);
          await store.set(other, tagged([t1, t3]), 60);
          expectRemoved(await deleteTag(store, t2), 1);
          expect(await present(store, [many, other])).toEqual([false, true]);
          // The other tags no longer reach it, and still reach what else carries them.
          expectRemoved(await deleteTag(store, t3), 1);
          expect(await present(store, [many, other])).toEqual([false, false]);
          expectRemoved(await deleteTag(store, t1), 0);
          // Set again after the purge, it is indexed again.
          await store.set(many, tagged([t2]), 60);
          expectRemoved(await deleteTag(store, t2), 1);
          expect(await store.get(many)).toBeUndefined();
        }));

      test("overwriting an entry with other tags updates the index: the old tag no longer purges it", () =>
        withStore(async (store) => {
          const [before, after] = [uniqueTag(), uniqueTag()];
          const [moved, untagged] = [uniqueKey(), uniqueKey()];
          await store.set(moved, tagged([before]), 60);
          await store.set(moved, tagged([after], { status: 203 }), 60);
          await store.set(untagged, tagged([before]), 60);
          await store.set(untagged, tagged([]), 60);
          expectRemoved(await deleteTag(store, before), 0);
          expect((await store.get(moved))?.status).toBe(203);
          expect(await store.get(untagged)).toBeDefined();
          expectRemoved(await deleteTag(store, after), 1);
          expect(await present(store, [moved, untagged])).toEqual([false, true]);
        }));

      test("expired and deleted entries do not break the index", () =>
        withStore(async (store, clock) => {
          const t = uniqueTag();
          const [short, long, deleted] = [uniqueKey(), uniqueKey(), uniqueKey()];
          await store.set(short, tagged([t]), 10);
          await store.set(long, tagged([t]), 60);
          await store.set(deleted, tagged([t]), 60);
          await store.delete(deleted); // as an eviction would
          clock.advance(11);
          expect(await store.get(short)).toBeUndefined();
          // `long` for sure; `short` too where the backend still held it (expired on our clock only).
          expectRemoved(await deleteTag(store, t), [1, 2]);
          expect(await present(store, [short, long, deleted])).toEqual([false, false, false]);
          const again = uniqueKey();
          await store.set(again, tagged([t]), 60);
          expectRemoved(await deleteTag(store, t), 1);
          expect(await store.get(again)).toBeUndefined();
        }));

      test("a purge of ALL_TAG empties the store, which keeps working", () =>
        withStore(async (store) => {
          const t = uniqueTag();
          const keys = Array.from({ length: 4 }, () => uniqueKey());
          await store.set(keys[0], tagged([t]), 60);
          await store.set(keys[1], tagged([uniqueTag()]), 30);
          await store.set(keys[2], tagged([]), 60);
          await store.set(keys[3], tagged([t, uniqueTag()]), 90);
          // Shared backends (Redis, a platform cache) may hold entries from earlier cases too.
          expectRemoved(await deleteTag(store, ALL_TAG), [4, Number.MAX_SAFE_INTEGER]);
          expect(await present(store, keys)).toEqual([false, false, false, false]);
          const fresh = uniqueKey();
          await store.set(fresh, tagged([t]), 60);
          expect(await store.get(fresh)).toBeDefined();
          expectRemoved(await deleteTag(store, t), 1);
          expect(await store.get(fresh)).toBeUndefined();
        }));

      test.skipIf(!caps.clear)("clear empties the store, which keeps working", () =>
        withStore(async (store) => {
          if (!store.clear) throw new Error(`${store.name} declares clear but has none`);
          const t = uniqueTag();
          const keys = Array.from({ length: 3 }, () => uniqueKey());
          await Promise.all(keys.map((k, i) => store.set(k, tagged(i === 0 ? [] : [t]), 60)));
          await store.clear();
          expect(await present(store, keys)).toEqual([false, false, false]);
          const fresh = uniqueKey();
          await store.set(fresh, tagged([t]), 60);
          expect(await store.get(fresh)).toBeDefined();
          expectRemoved(await deleteTag(store, t), 1);
        }),
      );

      test("concurrent sets and purges leave no entry that carries the purged tag", () =>
        withStore(async (store) => {
          const [hot, cold] = [uniqueTag("hot"), uniqueTag("cold")];
          const keys = Array.from({ length: 16 }, () => uniqueKey());
          const coldOnly = Array.from({ length: 6 }, () => uniqueKey());
          await Promise.all([
            ...keys.map((k, i) => store.set(k, tagged(i % 2 ? [hot] : [cold, hot], { headers: [["x-n", String(i)]] }), 60)),
            deleteTag(store, hot),
            ...coldOnly.map((k) => store.set(k, tagged([cold]), 60)),
            // Half the keys are overwritten, racing, by entries that do not carry the tag.
            ...keys.slice(0, 8).map((k) => store.set(k, tagged([cold], { headers: [["x-n", "cold"]] }), 60)),
            deleteTag(store, hot),
          ]);
          // What a set that raced a purge left behind is still indexed: one more purge reaches it.
          await deleteTag(store, hot);
          for (const k of keys) expect((await store.get(k))?.tags ?? []).not.toContain(hot);
          expect(await present(store, keys.slice(8))).toEqual(Array(8).fill(false));
          // Entries that never carried the tag are all still there.
          expect(await present(store, coldOnly)).toEqual(Array(6).fill(true));
        }));
    });
  });
}
