/**
 * The EdgeOne Pages KV purge log. EdgeOne has no offline runtime or KV emulator (docs/platforms.md), so
 * this runs the log against a stand-in of the namespace binding as EdgeOne documents it
 * (https://pages.edgeone.ai/document/kv-storage): put/get/delete, and `list({ prefix, cursor })` in pages
 * answering `{ keys: [{ key }], complete, cursor }`. The stand-in refuses what the docs say KV refuses
 * (keys outside letters, digits and `_`, or past 512 bytes), so the log's keys are checked against it.
 */
import { expect, test } from "bun:test";
import { type EdgeOneKvLike, edgeoneKvPurgeLog } from "../../core/purge-logs/edgeone-kv.ts";
import { testPurgeLog } from "./purge-log-conformance.ts";

const PAGE = 7; // small, so every listing in the suite crosses pages
function pagesKv(): EdgeOneKvLike & { data: Map<string, string> } {
  const data = new Map<string, string>();
  const checked = (key: string) => {
    if (!/^[A-Za-z0-9_]{1,512}$/.test(key)) throw new Error(`KV: invalid key ${key}`);
    return key;
  };
  return {
    data,
    put: async (key, value) => void data.set(checked(key), value),
    get: async (key) => data.get(checked(key)) ?? null,
    delete: async (key) => void data.delete(checked(key)),
    async list({ prefix, cursor }) {
      const all = [...data.keys()].filter((k) => k.startsWith(prefix)).sort();
      const start = cursor ? Number(cursor) : 0;
      const keys = all.slice(start, start + PAGE).map((key) => ({ key }));
      const complete = start + PAGE >= all.length;
      return complete ? { keys, complete } : { keys, complete, cursor: String(start + PAGE) };
    },
  };
}

testPurgeLog("edgeone-kv (stand-in of the documented binding)", {
  create: (clock, bounds) => edgeoneKvPurgeLog({ kv: pagesKv(), retentionMs: bounds.retentionMs, now: clock.now }),
  maxTargets: false,
});

test("edgeone-kv: a long target is kept under its hash, its name in the value, and read back", async () => {
  const kv = pagesKv();
  const log = edgeoneKvPurgeLog({ kv, now: () => 1000 });
  const target = `key:https://${"h".repeat(400)}.test/.postcache/v1/${"0".repeat(64)}`;
  await log.record(target, 900);
  const [key] = kv.data.keys();
  expect(key).toMatch(/^postcache_purge__h[0-9a-f]{64}_z900$/);
  expect(kv.data.get(key as string)).toBe(target);
  expect((await log.read()).purges).toEqual({ [target]: 900 });
});

test("edgeone-kv: a binding that is not one, or a bad prefix, is refused at creation", () => {
  expect(() => edgeoneKvPurgeLog({ kv: undefined as never })).toThrow(/\[edgeone-kv-purge-log\] option "kv"/);
  expect(() => edgeoneKvPurgeLog({ kv: pagesKv(), prefix: "a-b" })).toThrow(/option "prefix"/);
});
