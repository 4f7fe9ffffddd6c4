/**
 * The Cache API store over Deno's own `caches.open(...)`, in a real Deno process: Deno never expires
 * entries, so this is where the store's own expiry check carries the conformance suite's expiry test.
 */
import { afterAll } from "bun:test";
import { type DenoServer, startDeno } from "../fixtures/deno/deno.ts";
import { testStore } from "./conformance.ts";
import { remoteStore } from "./remote.ts";

let server: Promise<DenoServer> | undefined;
function deno(): Promise<DenoServer> {
  server ??= startDeno("test/fixtures/deno/cache-api-store.ts", {}, /listening on (http:\/\/\S+)/);
  return server;
}
afterAll(async () => {
  await (await server)?.stop();
});

testStore("cache-api in Deno (caches.open)", {
  create: async (clock) => remoteStore((await deno()).url, clock, "cache-api"),
  capabilities: { tags: true },
});
