/**
 * The `postcache` command under Node (postcache/node on node:http) and under Bun, as a proxy must behave
 * with bodies it does not cache, seen from a raw socket:
 * - a body past `maxBodyBytes` streams through: the origin has read well past the cap while the client
 *   is still sending, so nothing holds the whole body;
 * - a client that goes away mid-request aborts the origin request it started.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { systemNode } from "../package/scratch.ts";
import { startCli } from "./node-server.ts";

const MiB = 1024 * 1024;

/** An origin that counts the body bytes it has read per request, and sees aborts. */
function startOrigin() {
  const state = { received: 0, aborted: 0, started: 0 };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 30,
    async fetch(request) {
      state.started++;
      request.signal.addEventListener("abort", () => state.aborted++);
      try {
        for await (const chunk of request.body ?? []) state.received += chunk.byteLength;
      } catch {
        return new Response("cut off", { status: 400 });
      }
      return Response.json({ received: state.received }, { headers: { "cache-control": "max-age=60" } });
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, state, stop: () => server.stop(true) };
}

/** Opens a raw connection and sends a POST head announcing `length` bytes, and `first` of them. */
async function openUpload(url: string, path: string, length: number, first: number): Promise<Socket> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  socket.on("error", () => {});
  socket.write(`POST ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Length: ${length}\r\n\r\n`);
  socket.write(Buffer.alloc(first, 0x61));
  return socket;
}

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return true;
    await Bun.sleep(20);
  }
  return check();
}

const origins: { stop(): void }[] = [];
afterAll(() => {
  for (const origin of origins) origin.stop();
});

for (const [name, runtime] of [
  ["Node", systemNode()],
  ["Bun", "bun"],
] as const) {
  describe(`postcache command under ${name}: bodies it does not cache`, () => {
    test("a body past maxBodyBytes (1 MiB) streams to the origin while the client is still sending", async () => {
      const origin = startOrigin();
      origins.push(origin);
      const server = await startCli(["--origin", origin.url, "--log", "off"], {}, runtime);
      try {
        // 8 MiB announced, 3 MiB sent: the origin must see more than the 1 MiB cap before the rest comes.
        const socket = await openUpload(server.url, "/upload", 8 * MiB, 3 * MiB);
        const streamed = await until(() => origin.state.received > 2 * MiB, 10_000);
        socket.destroy();
        expect(streamed).toBe(true);
      } finally {
        await server.stop();
      }
    }, 30_000);

    test("a client that goes away mid-body aborts the origin request", async () => {
      const origin = startOrigin();
      origins.push(origin);
      const server = await startCli(["--origin", origin.url, "--log", "off"], {}, runtime);
      try {
        const socket = await openUpload(server.url, "/upload", 8 * MiB, 2 * MiB);
        expect(await until(() => origin.state.started === 1 && origin.state.received > 0, 10_000)).toBe(true);
        socket.destroy();
        expect(await until(() => origin.state.aborted === 1, 10_000)).toBe(true);
      } finally {
        await server.stop();
      }
    }, 30_000);
  });
}
