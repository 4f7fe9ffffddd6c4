/**
 * The Durable Object store: the conformance suite, tags and clear included, in workerd on real
 * SQLite-backed Durable Objects (test/fixtures/workerd/store-object.ts, 4 shards), then how its options
 * are checked.
 */
import { afterAll, describe, expect, test } from "bun:test";
import {
  DURABLE_OBJECT_MAX_ENTRY_BYTES,
  type DurableObjectStoreNamespaceLike,
  durableObjectStore,
  type SqlDurableObjectStateLike,
} from "../../core/stores/durable-object.ts";
import { bundle, startWorkerd, type Workerd } from "../fixtures/workerd/workerd.ts";
import { entry, TestClock, testStore, uniqueKey } from "./conformance.ts";
import { remoteStore } from "./remote.ts";

let worker: Promise<Workerd> | undefined;
function workerd(): Promise<Workerd> {
  worker ??= (async () =>
    startWorkerd({
      modules: true,
      script: await bundle("test/fixtures/workerd/store-object.ts", "esm"),
      durableObjects: { STORE: { className: "CacheStoreObject", useSQLite: true } },
    }))();
  return worker;
}
afterAll(async () => {
  await (await worker)?.stop();
});

testStore("durable-object (workerd, SQLite-backed objects)", {
  create: async (clock) => remoteStore((await workerd()).url, clock, "durable-object"),
  capabilities: { tags: true, clear: true },
});

describe("durable-object store", () => {
  test("an entry over the SQLite row limit is not stored, and the one it overwrites goes", async () => {
    const store = remoteStore((await workerd()).url, new TestClock(), "durable-object");
    const key = uniqueKey();
    await store.set(key, entry(), 60);
    expect(await store.get(key)).toBeDefined();
    await store.set(key, entry({ body: new Uint8Array(DURABLE_OBJECT_MAX_ENTRY_BYTES) }), 60);
    expect(await store.get(key)).toBeUndefined();
  });
});

describe("durable-object store options", () => {
  const namespace: DurableObjectStoreNamespaceLike = {
    idFromName: () => ({}),
    get: () => ({ fetch: async () => new Response() }),
  };
  test("are checked at factory time", () => {
    expect(() => durableObjectStore({ namespace: {} as DurableObjectStoreNamespaceLike })).toThrow(
      '[postcache] [durable-object] option "namespace"',
    );
    expect(() => durableObjectStore({ namespace, shards: 0 })).toThrow('[postcache] [durable-object] option "shards"');
    expect(() => durableObjectStore({ namespace, name: "" })).toThrow('[postcache] [durable-object] option "name"');
    expect(() => durableObjectStore({ namespace, maxEntryBytes: DURABLE_OBJECT_MAX_ENTRY_BYTES + 1 })).toThrow(
      '[postcache] [durable-object] option "maxEntryBytes"',
    );
    expect(() => durableObjectStore({ namespace })).not.toThrow();
  });
});

// A real state fits (checked by tsc): Workers' own declaration of a SQLite-backed object's state.
export const stateFits = (state: import("@cloudflare/workers-types/index.ts").DurableObjectState): SqlDurableObjectStateLike =>
  state;
