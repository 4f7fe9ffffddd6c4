/**
 * The Durable Object purge log in workerd (Miniflare, a real Durable Object with its storage):
 * test/fixtures/workerd/purge-log-object.ts, whose object has the suite's bounds (10 s, 3 targets).
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { bundle, startWorkerd, type Workerd } from "../fixtures/workerd/workerd.ts";
import { TestClock, uniqueTag } from "./conformance.ts";
import { testPurgeLog } from "./purge-log-conformance.ts";
import { remotePurgeLog } from "./purge-log-remote.ts";

let worker: Promise<Workerd> | undefined;
function workerd(): Promise<Workerd> {
  worker ??= (async () =>
    startWorkerd({
      modules: true,
      script: await bundle("test/fixtures/workerd/purge-log-object.ts", "esm"),
      durableObjects: { PURGES: "PurgeLogObject" },
    }))();
  return worker;
}
afterAll(async () => {
  await (await worker)?.stop();
});

testPurgeLog("durable-object (workerd)", {
  create: async (clock) => remotePurgeLog((await workerd()).url, clock, {}, "durable-object"),
  // The object's bounds are fixed in the fixture; the suite's own cases use no others.
});

test("durable-object: an object evicted and rebuilt (workerd restarted on the same storage) reads back its log and floor", async () => {
  const dir = mkdtempSync(join(resolve(".scratch"), "purge-do-"));
  const script = await bundle("test/fixtures/workerd/purge-log-object.ts", "esm");
  const start = () =>
    startWorkerd({ modules: true, script, durableObjects: { PURGES: "PurgeLogObject" }, durableObjectsPersist: dir });
  const clock = new TestClock(Date.now());
  try {
    const first = await start();
    const log = remotePurgeLog(first.url, clock, {}, "durable-object");
    for (let i = 0; i < 5; i++) await log.record(`tag:${uniqueTag()}`, clock.ms + i); // maxTargets 3: the floor rises
    const before = await log.read();
    await first.stop();
    const second = await start();
    try {
      // The same prefix is the same object: its constructor reloads what the first instance stored.
      const after = await remotePurgeLog(second.url, clock, {}, "durable-object", log.prefix).read();
      expect(before.floor).toBe(clock.ms + 1);
      expect(after).toEqual(before);
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
