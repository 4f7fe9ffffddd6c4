/**
 * The one conformance suite every cache store passes. Each store's test file is a few lines that
 * call `testStore`; missing capabilities are declared, not copied around.
 */
import { describe, expect, test } from "bun:test";
import type { CacheEntry, CacheStore } from "../../core/types.ts";

export interface StoreHarness {
  /** A fresh, empty store whose clock is `clock.now`. */
  create(clock: TestClock): CacheStore | Promise<CacheStore>;
  /** Called after each test. */
  cleanup?(store: CacheStore): void | Promise<void>;
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
  });
}
