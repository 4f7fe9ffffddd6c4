/**
 * The one conformance suite every purge log passes (core/purge-log.ts). Each log's test file calls
 * `testPurgeLog`; logs that cannot enforce `maxTargets` (Deno KV, bounded by retention alone) say so.
 */
import { describe, expect, test } from "bun:test";
import type { PurgeLog } from "../../core/purge-log.ts";
import { TestClock, uniqueTag } from "./conformance.ts";

export interface PurgeLogHarness {
  /** A fresh, empty log on `clock`, with these bounds. */
  create(clock: TestClock, bounds: { retentionMs: number; maxTargets: number }): PurgeLog | Promise<PurgeLog>;
  cleanup?(log: PurgeLog): void | Promise<void>;
  /** Whether the log enforces `maxTargets` (raising its floor). Default true. */
  maxTargets?: boolean;
}

export function testPurgeLog(name: string, harness: PurgeLogHarness): void {
  describe(`purge log conformance: ${name}`, () => {
    async function withLog(
      bounds: { retentionMs?: number; maxTargets?: number },
      run: (log: PurgeLog, clock: TestClock) => Promise<void>,
    ): Promise<void> {
      const clock = new TestClock(Date.now());
      const log = await harness.create(clock, { retentionMs: 60_000, maxTargets: 1000, ...bounds });
      try {
        await run(log, clock);
      } finally {
        await harness.cleanup?.(log);
      }
    }

    test("an empty log reads as nothing purged", () =>
      withLog({}, async (log) => {
        expect(await log.read()).toEqual({ floor: 0, purges: {} });
      }));

    test("a recorded target reads back with its time; a later record wins, an earlier one does not", () =>
      withLog({}, async (log, clock) => {
        const [a, b] = [`tag:${uniqueTag()}`, `key:https://example.test/.postcache/v1/${"a".repeat(64)}`];
        await log.record(a, clock.ms);
        await log.record(b, clock.ms + 5);
        await log.record(a, clock.ms + 10);
        await log.record(a, clock.ms + 3);
        const state = await log.read();
        expect(state.purges[a]).toBe(clock.ms + 10);
        expect(state.purges[b]).toBe(clock.ms + 5);
        expect(Object.keys(state.purges)).toHaveLength(2);
      }));

    test("purges recorded at the same moment from many isolates are all kept", () =>
      withLog({}, async (log, clock) => {
        const targets = Array.from({ length: 12 }, () => `tag:${uniqueTag()}`);
        await Promise.all(targets.map((t, i) => log.record(t, clock.ms + i)));
        const state = await log.read();
        // Each purge still holds: listed with its time, or (a log full past maxTargets) under the floor.
        for (const [i, t] of targets.entries())
          expect(Math.max(state.floor, state.purges[t] ?? 0)).toBeGreaterThanOrEqual(clock.ms + i);
        for (const [t, at] of Object.entries(state.purges)) expect(at).toBe(clock.ms + targets.indexOf(t));
      }));

    test("targets of any visible ASCII, the longest tag and a long key URL among them, read back as written", () =>
      withLog({}, async (log, clock) => {
        const targets = [
          `tag:${uniqueTag()}_z9/%41?&=#~!"'()*+-.;<>@[\\]^\`{|}`,
          `tag:${uniqueTag()}${"x".repeat(200)}`.slice(0, 4 + 256),
          `key:https://${"h".repeat(120)}.example.test/.postcache/v1/${"f".repeat(64)}`,
        ];
        for (const [i, t] of targets.entries()) await log.record(t, clock.ms + i);
        const state = await log.read();
        for (const [i, t] of targets.entries()) expect(state.purges[t]).toBe(clock.ms + i);
      }));

    test("targets older than retentionMs are no longer read", () =>
      withLog({ retentionMs: 10_000 }, async (log, clock) => {
        const [old, fresh] = [`tag:${uniqueTag()}`, `tag:${uniqueTag()}`];
        await log.record(old, clock.ms);
        clock.advance(8);
        await log.record(fresh, clock.ms);
        clock.advance(4); // `old` is 12 s old, `fresh` 4 s
        const state = await log.read();
        expect(state.purges[old]).toBeUndefined();
        expect(state.purges[fresh]).toBe(clock.ms - 4000);
      }));

    if (harness.maxTargets !== false) {
      test("past maxTargets the oldest go and the floor rises to the newest dropped, never lowering", () =>
        withLog({ maxTargets: 3 }, async (log, clock) => {
          const targets = Array.from({ length: 5 }, () => `tag:${uniqueTag()}`);
          for (const [i, t] of targets.entries()) await log.record(t, clock.ms + i);
          const state = await log.read();
          expect(Object.keys(state.purges).sort()).toEqual(targets.slice(2).sort());
          expect(state.floor).toBe(clock.ms + 1);
        }));
    }
  });
}
