/**
 * The Netlify Blobs purge log on Netlify's own local Blobs server (`BlobsServer` from
 * @netlify/blobs/server, what `netlify dev` runs), through the real `@netlify/blobs` client with
 * `consistency: "strong"`. Bounded by retention alone: the maxTargets case does not apply.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { getStore } from "@netlify/blobs";
import { BlobsServer } from "@netlify/blobs/server";
import { netlifyBlobsPurgeLog } from "../../core/purge-logs/netlify-blobs.ts";
import { testPurgeLog } from "./purge-log-conformance.ts";

const dir = mkdtempSync(join(resolve(".scratch"), "purge-blobs-"));
const token = "local-test-token";
const server = new BlobsServer({ directory: dir, token, port: 0 });
let url = "";
beforeAll(async () => {
  const { port } = await server.start();
  url = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
function blobStore() {
  return getStore({ name: `purges${n++}`, siteID: "site1", token, edgeURL: url, uncachedEdgeURL: url, consistency: "strong" });
}

testPurgeLog("netlify-blobs (local BlobsServer)", {
  create: (clock, bounds) => netlifyBlobsPurgeLog({ store: blobStore(), retentionMs: bounds.retentionMs, now: clock.now }),
  maxTargets: false,
});

test("netlify-blobs: a purge tidies up records past retention and records a later one supersedes", async () => {
  let now = Date.now();
  const store = blobStore();
  const log = netlifyBlobsPurgeLog({ store, retentionMs: 10_000, now: () => now });
  await log.record("tag:a", now);
  await log.record("tag:a", now + 5);
  await log.record("tag:old", now);
  now += 11_000;
  await log.record("tag:b", now);
  const keys = (await store.list({ prefix: "postcache_purge_" })).blobs.map((b) => b.key).sort();
  expect(keys).toEqual([`postcache_purge_tag_3ab_z${now}`]);
  expect(await log.read()).toEqual({ floor: 0, purges: { "tag:b": now } });
});

test("netlify-blobs: a store that is not one is refused at creation", () => {
  expect(() => netlifyBlobsPurgeLog({ store: {} as never })).toThrow(/\[netlify-blobs-purge-log\] option "store"/);
  expect(() => netlifyBlobsPurgeLog({ store: blobStore(), prefix: "bad/prefix" })).toThrow(/option "prefix"/);
});
