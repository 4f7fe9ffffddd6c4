/**
 * The Workers KV store: the conformance suite in workerd on Miniflare's local KV
 * (test/fixtures/workerd/kv-store.ts), then what it hands KV and how its options are checked. Local KV
 * is consistent at once; the real one's ~60 s propagation is documented, not tested here.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { CLOUDFLARE_KV_MAX_VALUE_BYTES, cloudflareKvStore, type WorkersKvLike } from "../../core/stores/cloudflare-kv.ts";
import { bundle, startWorkerd, type Workerd } from "../fixtures/workerd/workerd.ts";
import { entry, TestClock, testStore, uniqueKey } from "./conformance.ts";
import { remoteStore } from "./remote.ts";

let worker: Promise<Workerd> | undefined;
function workerd(): Promise<Workerd> {
  worker ??= (async () =>
    startWorkerd({
      modules: true,
      script: await bundle("test/fixtures/workerd/kv-store.ts", "esm"),
      kvNamespaces: ["CACHE"],
    }))();
  return worker;
}
afterAll(async () => {
  await (await worker)?.stop();
});

testStore("cloudflare-kv (workerd, local KV)", {
  create: async (clock) => remoteStore((await workerd()).url, clock, "cloudflare-kv"),
});

/** A Map-backed namespace that records each put. */
function recordingKv(): WorkersKvLike & {
  puts: { key: string; bytes: number; expirationTtl: number }[];
  held: Map<string, Uint8Array>;
} {
  const held = new Map<string, Uint8Array>();
  const puts: { key: string; bytes: number; expirationTtl: number }[] = [];
  return {
    held,
    puts,
    async get(key: string, type: "stream" | "arrayBuffer") {
      const value = held.get(key);
      if (!value) return null;
      return (type === "stream" ? new Response(value.slice()).body : value.slice().buffer) as never;
    },
    async put(key, value, { expirationTtl }) {
      const bytes = new Uint8Array(
        ArrayBuffer.isView(value) ? value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength) : value,
      );
      puts.push({ key, bytes: bytes.byteLength, expirationTtl });
      held.set(key, bytes);
    },
    async delete(key) {
      held.delete(key);
    },
  };
}

describe("cloudflare-kv store: what KV is handed", () => {
  test("keys are the prefix and a SHA-256 hex, within KV's 512 bytes, for keys of any length", async () => {
    const kv = recordingKv();
    const store = cloudflareKvStore({ kv, prefix: "app:" });
    await store.set(uniqueKey(`/${"a".repeat(2000)}`), entry(), 60);
    expect(kv.puts[0]?.key).toMatch(/^app:[0-9a-f]{64}$/);
  });

  test("expirationTtl is the TTL rounded up, at least KV's minimum of 60 s; expiry is still on the store's clock", async () => {
    const kv = recordingKv();
    const clock = new TestClock();
    const store = cloudflareKvStore({ kv, now: clock.now });
    const [short, long] = [uniqueKey(), uniqueKey()];
    await store.set(short, entry(), 5);
    await store.set(long, entry(), 3600.2);
    expect(kv.puts.map((p) => p.expirationTtl)).toEqual([60, 3601]);
    clock.advance(6);
    expect(await store.get(short)).toBeUndefined();
    expect(await store.get(long)).toBeDefined();
  });

  test("an entry over maxEntryBytes is not stored, and the one it overwrites goes", async () => {
    const kv = recordingKv();
    const store = cloudflareKvStore({ kv, maxEntryBytes: 1024 });
    const key = uniqueKey();
    await store.set(key, entry(), 60);
    expect(await store.get(key)).toBeDefined();
    await store.set(key, entry({ body: new Uint8Array(2048) }), 60);
    expect(await store.get(key)).toBeUndefined();
    expect(kv.puts).toHaveLength(1);
  });

  test("a corrupted value is an error, never an entry", async () => {
    const kv = recordingKv();
    const store = cloudflareKvStore({ kv });
    const key = uniqueKey();
    await store.set(key, entry(), 60);
    const [at] = [...kv.held.keys()];
    kv.held.set(at as string, new Uint8Array(5));
    await expect(store.get(key)).rejects.toThrow("[postcache] [cloudflare-kv] stored value is truncated");
  });

  test("options are checked at factory time", () => {
    const kv = recordingKv();
    expect(() => cloudflareKvStore({ kv: {} as WorkersKvLike })).toThrow('[postcache] [cloudflare-kv] option "kv"');
    expect(() => cloudflareKvStore({ kv, prefix: "p".repeat(449) })).toThrow('[postcache] [cloudflare-kv] option "prefix"');
    expect(() => cloudflareKvStore({ kv, prefix: "p".repeat(448) })).not.toThrow();
    expect(() => cloudflareKvStore({ kv, maxEntryBytes: CLOUDFLARE_KV_MAX_VALUE_BYTES + 1 })).toThrow(
      '[postcache] [cloudflare-kv] option "maxEntryBytes"',
    );
    expect(() => cloudflareKvStore({ kv, maxEntryBytes: 0 })).toThrow('[postcache] [cloudflare-kv] option "maxEntryBytes"');
  });
});

// A real binding fits: Workers' own declaration of a KV namespace is a WorkersKvLike (checked by tsc).
export const bindingFits = (kv: import("@cloudflare/workers-types/index.ts").KVNamespace): WorkersKvLike => kv;
