/**
 * The Bun server for real: a real origin socket behind it, real HTTP in front. Compressed and binary
 * bodies come back byte for byte, big and repeated headers survive, a reset origin is a clear 502, and
 * a client that gives up mid-body leaves nothing stored and nothing hanging.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { createServer, request as httpRequest, type Server } from "node:http";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { postcacheBun } from "../../adapters/bun.ts";

const json = new TextEncoder().encode(
  JSON.stringify({ results: Array.from({ length: 50 }, (_, i) => ({ id: i, name: `item ${i}` })) }),
);
const GZIP = gzipSync(json);
const BROTLI = brotliCompressSync(json);
const BINARY = randomBytes(50_000);
const BIG_HEADER = "v".repeat(8000);

let origin: Server;
let originUrl = "";
let server: ReturnType<typeof Bun.serve>;
const calls = new Map<string, number>();

beforeAll(async () => {
  origin = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("error", () => {});
    req.on("end", () => {
      calls.set(req.url ?? "", (calls.get(req.url ?? "") ?? 0) + 1);
      const cc = { "cache-control": "public, max-age=60, stale-if-error=600" };
      switch (req.url) {
        case "/gzip":
          return res.writeHead(200, { ...cc, "content-type": "application/json", "content-encoding": "gzip" }).end(GZIP);
        case "/br":
          return res.writeHead(200, { ...cc, "content-type": "application/json", "content-encoding": "br" }).end(BROTLI);
        case "/binary":
          return res.writeHead(200, { ...cc, "content-type": "application/octet-stream" }).end(BINARY);
        case "/headers":
          res.setHeader("x-big", BIG_HEADER);
          res.setHeader("link", ["</a>; rel=preload", "</b>; rel=preload"]);
          res.setHeader("x-multi", ["one", "two"]);
          return res.writeHead(200, cc).end("ok");
        case "/hangup":
          return req.socket.destroy();
        case "/flaky":
          if ((calls.get("/flaky") ?? 0) > 1) return req.socket.destroy();
          return res.writeHead(200, { "cache-control": "public, max-age=1, stale-if-error=600" }).end("good");
        default:
          return res.writeHead(200, cc).end(`${req.url} ${Buffer.concat(chunks).length}`);
      }
    });
  });
  await new Promise<void>((resolve) => origin.listen(0, "127.0.0.1", resolve));
  const address = origin.address();
  if (!address || typeof address === "string") throw new Error("origin did not bind");
  originUrl = `http://127.0.0.1:${address.port}`;
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: postcacheBun({ origin: originUrl, originTimeoutMs: 2000 }) });
});

afterAll(async () => {
  server?.stop(true);
  origin?.closeAllConnections();
  await new Promise((resolve) => origin?.close(resolve));
});

/** POSTs and returns the raw bytes as they crossed the wire (no client-side decompression). */
async function raw(path: string, body = "{}", headers: Record<string, string> = {}) {
  const res = await fetch(`http://127.0.0.1:${server.port}${path}`, {
    method: "POST",
    body,
    headers: { "accept-encoding": "gzip, br", ...headers },
    decompress: false,
  } as RequestInit);
  return { res, bytes: Buffer.from(await res.arrayBuffer()) };
}

describe("the Bun server, byte for byte", () => {
  for (const [path, expected, encoding] of [
    ["/gzip", GZIP, "gzip"],
    ["/br", BROTLI, "br"],
    ["/binary", BINARY, null],
  ] as const) {
    test(`${path}: the MISS and the HIT carry the origin's exact bytes`, async () => {
      const miss = await raw(path);
      expect(miss.res.headers.get("content-encoding")).toBe(encoding);
      expect(Buffer.compare(miss.bytes, Buffer.from(expected))).toBe(0);
      let hit = await raw(path);
      for (let i = 0; i < 20 && !/hit/.test(hit.res.headers.get("cache-status") ?? ""); i++) hit = await raw(path);
      expect(hit.res.headers.get("cache-status")).toMatch(/hit/);
      expect(hit.res.headers.get("content-encoding")).toBe(encoding);
      expect(Buffer.compare(hit.bytes, Buffer.from(expected))).toBe(0);
      expect(calls.get(path)).toBe(1);
    });
  }

  test("an 8 KB header and repeated headers survive a HIT", async () => {
    await raw("/headers");
    const hit = await raw("/headers");
    expect(hit.res.headers.get("cache-status")).toMatch(/hit/);
    expect(hit.res.headers.get("x-big")).toBe(BIG_HEADER);
    expect(hit.res.headers.get("link")).toBe("</a>; rel=preload, </b>; rel=preload");
    expect(hit.res.headers.get("x-multi")).toBe("one, two");
  });
});

describe("the Bun server under faults", () => {
  test("an origin that resets the connection is a clear 502", async () => {
    const { res, bytes } = await raw("/hangup");
    expect(res.status).toBe(502);
    expect(bytes.toString()).toMatch(/postcache: the origin could not be reached/);
    expect(res.headers.get("cache-status")).toMatch(/detail=origin-error/);
  });

  test("an origin that resets after answering once: the stale copy is served (stale-if-error)", async () => {
    expect((await raw("/flaky")).bytes.toString()).toBe("good");
    await Bun.sleep(1100); // max-age=1 passes
    const stale = await raw("/flaky");
    expect(stale.res.status).toBe(200);
    expect(stale.bytes.toString()).toBe("good");
    expect(stale.res.headers.get("cache-status")).toMatch(/fwd=stale; ttl=-\d+; detail=stale-if-error/);
  });

  test("a client that aborts mid-body: nothing reaches the origin, nothing is stored, the server keeps answering", async () => {
    const before = calls.get("/aborted") ?? 0;
    await new Promise<void>((resolve) => {
      const req = httpRequest({
        host: "127.0.0.1",
        port: server.port,
        path: "/aborted",
        method: "POST",
        headers: { "content-type": "application/octet-stream", "content-length": "100000" },
      });
      req.on("error", () => resolve());
      req.write(Buffer.alloc(10_000, 1));
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 100);
    });
    await Bun.sleep(100);
    expect(calls.get("/aborted") ?? 0).toBe(before);
    const ok = await raw("/aborted", "x".repeat(100));
    expect(ok.res.status).toBe(200);
    expect(ok.res.headers.get("cache-status")).toMatch(/fwd=uri-miss/);
    expect(ok.bytes.toString()).toBe("/aborted 100");
  });

  test("a request body of unknown length past the cap is streamed through intact", async () => {
    const handler = postcacheBun({ origin: originUrl, maxBodyBytes: 1000 });
    const big = new Uint8Array(50_000).fill(7);
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 50; i++) c.enqueue(big.subarray(i * 1000, (i + 1) * 1000));
        c.close();
      },
    });
    const res = await handler(
      new Request(`http://127.0.0.1/streamed`, { method: "POST", body: stream, duplex: "half" } as RequestInit),
    );
    expect(res.headers.get("cache-status")).toBe("postcache; fwd=bypass; detail=body-too-large");
    expect(await res.text()).toBe("/streamed 50000");
  });
});
