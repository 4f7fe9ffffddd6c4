/**
 * Edge-wide invalidation end to end (issue 13): three PoPs (three `postcache` command processes, each
 * its own memory store) share one purge log in a real redis-server. Every PoP is filled; a purge of a
 * tag at one PoP's admin endpoint makes every PoP answer from the origin within purgeCheckMs + a margin.
 * With a shared tier behind each PoP (tieredStore over the same Redis), a body answered at one PoP is a
 * hit at the others, and a purge still reaches every PoP and the tier.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { REDIS_SERVER } from "../stores/redis-server.ts";
import { type Pops, startDenoPops, startPops, timeToMiss } from "./pops.ts";

const PURGE_CHECK_MS = 500;
/** Process scheduling on a loaded 2-core machine, the HTTP round trips, the log read itself. */
const MARGIN_MS = 1500;

if (REDIS_SERVER) {
  mkdirSync(".scratch", { recursive: true });
  const scratch = mkdtempSync(join(resolve(".scratch"), "pops-"));
  let pops: Pops | undefined;
  beforeAll(async () => {
    pops = await startPops(3, PURGE_CHECK_MS, scratch);
  }, 30_000);
  afterAll(async () => {
    await pops?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  test("a tag purged at one PoP is a miss at every PoP within purgeCheckMs + margin", async () => {
    if (!pops) throw new Error("PoPs did not start");
    for (let i = 0; i < 3; i++) {
      expect((await pops.ask(i)).status).not.toMatch(/;\s*hit/);
      expect((await pops.ask(i)).status).toMatch(/;\s*hit/);
    }
    expect(pops.originCalls()).toBe(3);
    const since = performance.now();
    expect(await pops.purgeTag(0, "catalog")).toBe(200);
    const times = await Promise.all([0, 1, 2].map((i) => timeToMiss(pops as Pops, i, since, PURGE_CHECK_MS + MARGIN_MS)));
    for (const ms of times) expect(ms).toBeLessThan(PURGE_CHECK_MS + MARGIN_MS);
    // Refilled after the purge: hits again, everywhere.
    for (let i = 0; i < 3; i++) expect((await pops.ask(i)).status).toMatch(/;\s*hit/);
  }, 30_000);

  describe("with a shared tier", () => {
    let tiered: Pops | undefined;
    const tieredScratch = mkdtempSync(join(resolve(".scratch"), "pops-tier-"));
    beforeAll(async () => {
      tiered = await startPops(3, PURGE_CHECK_MS, tieredScratch, true, true);
    }, 30_000);
    afterAll(async () => {
      await tiered?.stop();
      rmSync(tieredScratch, { recursive: true, force: true });
    });

    test("a body answered at one PoP is a hit at the others; a purge reaches every PoP and the tier", async () => {
      if (!tiered) throw new Error("PoPs did not start");
      const first = await tiered.ask(0);
      expect(first.status).toMatch(/fwd=uri-miss/);
      for (const i of [1, 2]) expect((await tiered.ask(i)).status).toMatch(/;\s*hit/);
      expect(tiered.originCalls()).toBe(1);
      const since = performance.now();
      expect(await tiered.purgeTag(2, "catalog")).toBe(200);
      const times = await Promise.all([0, 1, 2].map((i) => timeToMiss(tiered as Pops, i, since, PURGE_CHECK_MS + MARGIN_MS)));
      for (const ms of times) expect(ms).toBeLessThan(PURGE_CHECK_MS + MARGIN_MS);
    }, 30_000);
  });
}

describe("three deno serve PoPs of the Deno adapter, each its own Cache API, one Deno KV purge log", () => {
  const scratch = mkdtempSync(join(resolve(".scratch"), "pops-deno-"));
  let pops: Pops | undefined;
  beforeAll(async () => {
    pops = await startDenoPops(3, PURGE_CHECK_MS, scratch);
  }, 60_000);
  afterAll(async () => {
    await pops?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  test("a tag purged at one PoP is a miss at every PoP within purgeCheckMs + margin", async () => {
    if (!pops) throw new Error("PoPs did not start");
    for (let i = 0; i < 3; i++) {
      expect((await pops.ask(i)).status).not.toMatch(/;\s*hit/);
      // The Cache API write ends after the answer: wait (bounded) until this PoP serves it.
      let status = "";
      for (let tries = 0; tries < 40 && !/;\s*hit/.test(status); tries++) {
        if (tries) await Bun.sleep(25);
        status = (await pops.ask(i)).status;
      }
      expect(status).toMatch(/;\s*hit/);
    }
    expect(pops.originCalls()).toBe(3); // separate caches: each PoP missed once
    const since = performance.now();
    expect(await pops.purgeTag(1, "product:1")).toBe(200);
    const times = await Promise.all([0, 1, 2].map((i) => timeToMiss(pops as Pops, i, since, PURGE_CHECK_MS + MARGIN_MS)));
    for (const ms of times) expect(ms).toBeLessThan(PURGE_CHECK_MS + MARGIN_MS);
  }, 60_000);
});
