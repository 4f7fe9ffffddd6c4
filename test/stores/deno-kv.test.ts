/**
 * The Deno KV store: the conformance suite on real Deno KV (`deno serve --unstable-kv` of
 * test/fixtures/deno/kv-store.ts over a KV file in a scratch dir, driven through HTTP), what it leaves
 * in KV for entries over one value, and, on an in-memory KV, that a read racing an overwrite never mixes
 * two entries' parts.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { DENO_KV_PART_BYTES, type DenoKvLike, denoKvStore } from "../../core/stores/deno-kv.ts";
import { freePort, startProcess } from "../e2e/process.ts";
import { bundle, DENO } from "../fixtures/deno/deno.ts";
import { entry, TestClock, testStore, uniqueKey } from "./conformance.ts";
import { remoteStore } from "./remote.ts";

mkdirSync(".scratch", { recursive: true });
const dir = mkdtempSync(join(resolve(".scratch"), "store-kv-"));
let server: ReturnType<typeof startProcess> | undefined;
function deno() {
  server ??= (async () => {
    const script = join(dir, "main.js");
    writeFileSync(script, await bundle("test/fixtures/deno/kv-store.ts"));
    mkdirSync(join(dir, "kv"));
    const port = String(await freePort());
    return startProcess(
      [
        DENO,
        "serve",
        "--quiet",
        "--no-prompt",
        "--unstable-kv",
        "--allow-net=127.0.0.1",
        "--allow-env=DENO_KV_PATH",
        `--allow-read=${dir}`,
        `--allow-write=${dir}`,
        "--host=127.0.0.1",
        `--port=${port}`,
        script,
      ],
      { DENO_KV_PATH: join(dir, "kv", "store.sqlite"), NO_COLOR: "1", PORT: port },
      /listening on (http:\/\/\S+)/,
      20_000,
    );
  })();
  return server;
}
afterAll(async () => {
  await (await server)?.stop();
  rmSync(dir, { recursive: true, force: true });
});

testStore("deno-kv (real Deno KV)", {
  create: async (clock) => remoteStore((await deno()).url, clock, "deno-kv"),
});

const body = (bytes: number, seed: number) => Uint8Array.from({ length: bytes }, (_, i) => (i * 31 + seed) & 255);

describe("deno-kv store in real Deno KV", () => {
  const keysHeld = async (): Promise<unknown[][]> => (await fetch(`${(await deno()).url}/keys`)).json() as Promise<unknown[][]>;
  const partsOf = (keys: unknown[][]) => keys.filter((k) => k[2] === "part");

  test("KV refuses a value over 65,536 bytes, which is why entries are cut into parts", async () => {
    const { at, over } = (await (await fetch(`${(await deno()).url}/limit`)).json()) as { at: string; over: string };
    expect(at).toBe("stored");
    expect(over).toMatch(/too large/i);
  });

  test("an entry over one part is stored in parts; an overwrite and a delete leave none behind", async () => {
    const clock = new TestClock();
    const store = remoteStore((await deno()).url, clock, "deno-kv");
    const key = uniqueKey();
    const before = partsOf(await keysHeld()).length;
    const big = body(5 * DENO_KV_PART_BYTES + 17, 1);
    await store.set(key, entry({ body: big }), 60);
    expect(partsOf(await keysHeld()).length - before).toBe(6);
    await store.set(key, entry({ body: body(3 * DENO_KV_PART_BYTES, 2) }), 60);
    expect(partsOf(await keysHeld()).length - before).toBe(4); // the new write's parts only (its head too)
    expect([...((await store.get(key))?.body ?? [])]).toEqual([...body(3 * DENO_KV_PART_BYTES, 2)]);
    expect(await store.delete(key)).toBe(true);
    expect(partsOf(await keysHeld()).length - before).toBe(0);
  });

  test("concurrent overwrites of a large entry: a read finds one of them whole", async () => {
    const store = remoteStore((await deno()).url, new TestClock(), "deno-kv");
    const key = uniqueKey();
    const bodies = Array.from({ length: 6 }, (_, i) => body(2 * DENO_KV_PART_BYTES + i, i));
    await Promise.all(bodies.map((b, i) => store.set(key, entry({ body: b, headers: [["x-n", String(i)]] }), 60)));
    const got = await store.get(key);
    const n = Number(got?.headers[0]?.[1]);
    expect([...(got?.body ?? [])]).toEqual([...(bodies[n] ?? [])]);
  });
});

/** A Map-backed KV in the shape the store uses; `beforeGetMany` runs before each `getMany`. */
function memoryKv(): DenoKvLike & { beforeGetMany?: () => Promise<void>; size(): number } {
  const held = new Map<string, unknown>();
  const k = (key: readonly (string | number)[]) => JSON.stringify(key);
  const kv = {
    beforeGetMany: undefined as (() => Promise<void>) | undefined,
    size: () => held.size,
    async get(key: readonly (string | number)[]) {
      return { value: held.get(k(key)) ?? null, versionstamp: held.has(k(key)) ? "1" : null };
    },
    async getMany(keys: (readonly (string | number)[])[]) {
      await kv.beforeGetMany?.();
      return keys.map((key) => ({ value: held.get(k(key)) ?? null, versionstamp: null }));
    },
    atomic() {
      const ops: (() => void)[] = [];
      return {
        set: (key: readonly (string | number)[], value: unknown) => ops.push(() => held.set(k(key), value)),
        delete: (key: readonly (string | number)[]) => ops.push(() => held.delete(k(key))),
        commit: async () => {
          for (const op of ops) op();
          return { ok: true };
        },
      };
    },
  };
  return kv;
}

describe("deno-kv store", () => {
  test("a read racing an overwrite misses rather than mixing the two entries' parts", async () => {
    const kv = memoryKv();
    const store = denoKvStore({ kv });
    const key = uniqueKey();
    await store.set(key, entry({ body: body(3 * DENO_KV_PART_BYTES, 1) }), 60);
    let raced = false;
    kv.beforeGetMany = async () => {
      if (raced) return;
      raced = true;
      kv.beforeGetMany = undefined;
      await store.set(key, entry({ body: body(3 * DENO_KV_PART_BYTES, 2) }), 60);
    };
    expect(await store.get(key)).toBeUndefined();
    expect(raced).toBe(true);
    expect([...((await store.get(key))?.body ?? [])]).toEqual([...body(3 * DENO_KV_PART_BYTES, 2)]);
  });

  test("an entry over maxEntryBytes is not stored, and the one it overwrites goes", async () => {
    const kv = memoryKv();
    const store = denoKvStore({ kv, maxEntryBytes: 1024 });
    const key = uniqueKey();
    await store.set(key, entry(), 60);
    await store.set(key, entry({ body: new Uint8Array(2048) }), 60);
    expect(await store.get(key)).toBeUndefined();
    expect(kv.size()).toBe(0);
  });

  test("a head KV still holds past its expiry (expireIn is lazy) is a miss on the store's clock", async () => {
    const kv = memoryKv();
    const clock = new TestClock();
    const store = denoKvStore({ kv, now: clock.now });
    const key = uniqueKey();
    await store.set(key, entry(), 10);
    clock.advance(11);
    expect(kv.size()).toBe(1);
    expect(await store.get(key)).toBeUndefined();
  });

  test("options are checked at factory time", () => {
    const kv = memoryKv();
    expect(() => denoKvStore({ kv: {} as DenoKvLike })).toThrow('[postcache] [deno-kv] option "kv" must be a KV handle');
    expect(() => denoKvStore({ kv, prefix: "p" as never })).toThrow('[postcache] [deno-kv] option "prefix"');
    expect(() => denoKvStore({ kv, maxEntryBytes: 0 })).toThrow('[postcache] [deno-kv] option "maxEntryBytes"');
  });
});
