/**
 * `bun bench/handshake.ts`: bytes on the wire between a client and the edge for the same POST sent
 * again and again, with plain fetch, with the digest handshake (postcache/client), and with the
 * handshake plus the client's answer cache (304s). Writes docs/handshake-bytes.md.
 *
 *   client ──► counting TCP proxy (node:net) ──► Bun server (postcacheBun) ──► origin (node:http)
 *
 * The proxy counts what crosses it in each direction (HTTP/1.1 bytes: request line, headers, body;
 * not TCP/IP overhead). Every scenario gets a fresh edge, so its first call is a cold one.
 *
 *   bun bench/handshake.ts [--repeats 20] [--out docs/handshake-bytes.md]
 */
import { writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { connect, createServer as createTcpServer, type Socket, type Server as TcpServer } from "node:net";
import { join } from "node:path";
import { postcacheBun } from "../adapters/bun.ts";
import { createPostcacheClient, type FetchLike, type PostcacheFetch } from "../core/client.ts";

const ROOT = join(import.meta.dir, "..");
const KiB = 1024;
/** The origin's answer: a JSON document of this size, the same for every body (what a search returns). */
const ANSWER_BYTES = 4 * KiB;
const SIZES = [16 * KiB, 256 * KiB];

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const REPEATS = Number(option("--repeats") ?? 20);
const OUT = option("--out") ?? join(ROOT, "docs/handshake-bytes.md");
if (!Number.isInteger(REPEATS) || REPEATS < 3) throw new Error("--repeats must be a whole number >= 3");

interface Counter {
  up: number;
  down: number;
}

/** A TCP proxy on 127.0.0.1 that forwards to `port` and adds up the bytes each way. */
async function countingProxy(port: number): Promise<{ port: number; count: Counter; close(): Promise<void> }> {
  const count: Counter = { up: 0, down: 0 };
  const server: TcpServer = createTcpServer((client) => {
    const upstream = connect(port, "127.0.0.1");
    client.on("data", (chunk: Buffer) => {
      count.up += chunk.byteLength;
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      count.down += chunk.byteLength;
      client.write(chunk);
    });
    client.on("end", () => upstream.end());
    upstream.on("end", () => client.end());
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  const sockets = new Set<Socket>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("proxy did not bind");
  return {
    port: address.port,
    count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The origin: counts calls, answers ANSWER_BYTES of JSON, cacheable for 5 minutes. */
async function startOrigin(): Promise<{ url: string; calls: () => number; close(): Promise<void> }> {
  let calls = 0;
  const answer = JSON.stringify({ results: "r".repeat(ANSWER_BYTES - 14) });
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on("end", () => {
      calls++;
      res.writeHead(200, { "content-type": "application/json", "cache-control": "public, max-age=300" }).end(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("origin did not bind");
  return {
    url: `http://127.0.0.1:${address.port}`,
    calls: () => calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Call {
  up: number;
  down: number;
  /** Statuses of the HTTP exchanges this call made, e.g. 412+200. */
  exchanges: number[];
  cacheStatus: string;
}

interface Scenario {
  name: string;
  client: (send: FetchLike) => PostcacheFetch;
}

const SCENARIOS: Scenario[] = [
  { name: "plain fetch", client: (send) => (input, init) => send(new Request(input, init)) },
  { name: "handshake", client: (send) => createPostcacheClient({ fetch: send }) },
  { name: "handshake + answer cache", client: (send) => createPostcacheClient({ fetch: send, answerCache: true }) },
];

async function run(scenario: Scenario, size: number): Promise<{ calls: Call[]; originCalls: number }> {
  const origin = await startOrigin();
  const edge = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: postcacheBun({ origin: origin.url }) });
  const proxy = await countingProxy(edge.port as number);
  try {
    let exchanges: number[] = [];
    let cacheStatus = "";
    const send: FetchLike = async (request) => {
      const response = await fetch(request);
      exchanges.push(response.status);
      cacheStatus = response.headers.get("cache-status") ?? "";
      return response;
    };
    const client = scenario.client(send);
    const body = JSON.stringify({ query: "lamp", size, pad: "p".repeat(size - 40) }).slice(0, size);
    const calls: Call[] = [];
    for (let i = 0; i < REPEATS; i++) {
      exchanges = [];
      const before = { ...proxy.count };
      const response = await client(`http://127.0.0.1:${proxy.port}/search`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json" },
      });
      const answer = await response.arrayBuffer();
      if (response.status !== 200 || answer.byteLength !== ANSWER_BYTES) {
        throw new Error(`${scenario.name}: call ${i + 1} got ${response.status} with ${answer.byteLength} bytes`);
      }
      calls.push({ up: proxy.count.up - before.up, down: proxy.count.down - before.down, exchanges, cacheStatus });
      // Lets the edge finish its background write of the answer before the next call.
      await Bun.sleep(2);
    }
    return { calls, originCalls: origin.calls() };
  } finally {
    await proxy.close();
    await edge.stop(true);
    await origin.close();
  }
}

/** The numbers are only worth printing if each scenario did what it is meant to. */
function check(scenario: Scenario, calls: Call[], originCalls: number): void {
  const last = calls[calls.length - 1];
  const fail = (why: string) => {
    throw new Error(`${scenario.name}: ${why}; calls: ${JSON.stringify(calls.map((c) => c.exchanges))}`);
  };
  if (originCalls !== 1) fail(`the origin was called ${originCalls} times, expected once`);
  if (!/;\s*hit\b/.test(last.cacheStatus)) fail(`the last call was not a hit (${last.cacheStatus})`);
  const expected = { "plain fetch": "200", handshake: "200", "handshake + answer cache": "304" }[scenario.name];
  if (last.exchanges.join("+") !== expected) fail(`a repeat made ${last.exchanges.join("+")}, expected ${expected}`);
}

const fmt = (n: number) => n.toLocaleString("en-US");

const results: { size: number; rows: { scenario: Scenario; calls: Call[] }[] }[] = [];
const started = performance.now();
for (const size of SIZES) {
  const rows: { scenario: Scenario; calls: Call[] }[] = [];
  for (const scenario of SCENARIOS) {
    const { calls, originCalls } = await run(scenario, size);
    check(scenario, calls, originCalls);
    rows.push({ scenario, calls });
  }
  results.push({ size, rows });
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);

const pkg = JSON.parse(await Bun.file(join(ROOT, "package.json")).text()) as { version: string };
const lines: string[] = [
  "# Bytes on the wire: the digest handshake",
  "",
  "Written by `bun bench/handshake.ts` (see [handshake.md](handshake.md) for how the handshake works).",
  "",
  `- Date: ${new Date().toISOString().slice(0, 10)}; postcache ${pkg.version}; Bun ${Bun.version}; ${process.platform}/${process.arch}; run took ${seconds} s.`,
  "- Setup: client (Bun's `fetch`, through `postcache/client` or not) → a counting TCP proxy (node:net) → the Bun",
  "  server (`postcacheBun`, memory store, default options) → an origin that answers every POST with the same",
  `  ${fmt(ANSWER_BYTES)}-byte JSON document, \`Cache-Control: public, max-age=300\`. All on 127.0.0.1, HTTP/1.1, keep-alive.`,
  "- Bytes are what crosses the proxy: request line, headers and body each way; no TCP/IP overhead, no TLS.",
  `- Each scenario starts with a fresh edge (a cold cache), then sends the same POST ${REPEATS} times in a row.`,
  `  **First** is call 1, **repeat** is call ${REPEATS} (steady state), **total** is the sum over all ${REPEATS} calls.`,
  "  **Exchanges** are the HTTP request/response pairs one call made (412+200: the digest alone, then the full body).",
  "",
];
for (const { size, rows } of results) {
  lines.push(`## ${size / KiB} KiB request body`, "");
  lines.push(
    "| client | first: exchanges | first: up / down | repeat: exchanges | repeat: up / down | total up | total down | total both | vs plain fetch |",
  );
  lines.push("| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |");
  const totalOf = (calls: Call[]) => calls.reduce((sum, c) => sum + c.up + c.down, 0);
  const plain = totalOf(rows[0].calls);
  for (const { scenario, calls } of rows) {
    const first = calls[0];
    const last = calls[calls.length - 1];
    const up = calls.reduce((s, c) => s + c.up, 0);
    const down = calls.reduce((s, c) => s + c.down, 0);
    const share = `${((100 * (up + down)) / plain).toFixed(1)} %`;
    lines.push(
      `| ${scenario.name} | ${first.exchanges.join("+")} | ${fmt(first.up)} / ${fmt(first.down)} | ${last.exchanges.join("+")} | ${fmt(last.up)} / ${fmt(last.down)} | ${fmt(up)} | ${fmt(down)} | ${fmt(up + down)} | ${share} |`,
    );
  }
  lines.push("");
}
lines.push(
  "Reading it: the handshake's first call costs one extra small round trip (the digest alone, answered by a",
  "412 problem) and then sends the body as plain fetch would, with `Content-Digest`; every later call sends",
  "headers and a digest instead of the body. The answer cache also leaves the answer out: from its third call on",
  "(a miss carries no ETag yet; the first hit does) the edge answers 304 with no body.",
  "",
);
writeFileSync(OUT, lines.join("\n"));
console.log(lines.join("\n"));
console.log(`wrote ${OUT}`);
