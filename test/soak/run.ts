/**
 * Soak: `npm run soak [-- --requests N --concurrency C]`. The Bun server under a few hundred thousand
 * requests, a mix of repeated and unique bodies, with the memory store capped. Every answer is checked
 * against the origin's pure function of the request. Reports requests, hit ratio, errors, wrong answers
 * and the server's resident memory over time, and writes docs/soak.md (not with --dry-run).
 */
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "300000" },
    concurrency: { type: "string", default: "64" },
    "store-mb": { type: "string", default: "16" },
    "dry-run": { type: "boolean", default: false },
  },
});
const TOTAL = Number(values.requests);
const CONCURRENCY = Number(values.concurrency);
const STORE_MAX_BYTES = Number(values["store-mb"]) * 1024 * 1024;
const POOL = 4000; // repeated bodies; with 1-8 KiB answers the pool needs ~18 MiB: more than the cap, so LRU evicts
const UNIQUE_SHARE = 0.3;

// The origin: an answer that is a pure function of path and body, 1-8 KiB, cacheable.
function answerFor(path: string, body: Uint8Array): Uint8Array<ArrayBuffer> {
  const digest = createHash("sha256").update(path).update(body).digest();
  const size = 1024 + (digest[0] << 5);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = digest[i % 32] ^ (i & 255);
  return out;
}
const origin = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(request) {
    const body = new Uint8Array(await request.arrayBuffer());
    return new Response(answerFor(new URL(request.url).pathname, body), { headers: { "cache-control": "public, max-age=600" } });
  },
});

const server = Bun.spawn([process.execPath, "test/soak/server.ts"], {
  env: { ...process.env, PORT: "0", ORIGIN: `http://127.0.0.1:${origin.port}`, STORE_MAX_BYTES: String(STORE_MAX_BYTES) },
  stdout: "pipe",
  stderr: "inherit",
});
const reader = server.stdout.getReader();
let banner = "";
while (!/listening on (\S+),/.test(banner)) {
  const { value, done } = await reader.read();
  if (done) throw new Error(`server exited: ${banner}`);
  banner += new TextDecoder().decode(value);
}
const base = (banner.match(/listening on (\S+),/) as RegExpMatchArray)[1];
const rss = () => {
  const status = readFileSync(`/proc/${server.pid}/status`, "utf8");
  return Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? 0) * 1024;
};

const pool = Array.from({ length: POOL }, (_, i) =>
  new TextEncoder().encode(JSON.stringify({ q: `query ${i}`, pad: "x".repeat(i % 900) })),
);
let uniqueCounter = 0;
let sent = 0;
let hits = 0;
let errors = 0;
let wrong = 0;
const samples: { t: number; rss: number; done: number }[] = [];
const started = performance.now();

async function worker() {
  while (sent < TOTAL) {
    sent++;
    const unique = Math.random() < UNIQUE_SHARE;
    const body = unique
      ? new TextEncoder().encode(JSON.stringify({ unique: uniqueCounter++, t: Math.random() }))
      : pool[Math.floor(Math.random() ** 2 * POOL)];
    const path = unique ? "/unique" : "/search";
    try {
      const res = await fetch(base + path, { method: "POST", body, headers: { "content-type": "application/json" } });
      const got = new Uint8Array(await res.arrayBuffer());
      if (res.status !== 200) errors++;
      else if (Buffer.compare(Buffer.from(got), Buffer.from(answerFor(path, body))) !== 0) wrong++;
      if (/; hit/.test(res.headers.get("cache-status") ?? "")) hits++;
    } catch {
      errors++;
    }
  }
}

const sampler = setInterval(() => samples.push({ t: (performance.now() - started) / 1000, rss: rss(), done: sent }), 1000);
samples.push({ t: 0, rss: rss(), done: 0 });
await Promise.all(Array.from({ length: CONCURRENCY }, worker));
clearInterval(sampler);
samples.push({ t: (performance.now() - started) / 1000, rss: rss(), done: sent });
const seconds = (performance.now() - started) / 1000;
server.kill();
await server.exited;
origin.stop(true);

const mib = (b: number) => (b / 1024 / 1024).toFixed(1);
const steady = samples.slice(Math.floor(samples.length / 2));
const peak = Math.max(...samples.map((s) => s.rss));
const summary = {
  requests: sent,
  seconds: Number(seconds.toFixed(1)),
  reqPerSec: Math.round(sent / seconds),
  hitRatio: Number((hits / sent).toFixed(3)),
  errors,
  wrong,
  storeCapMiB: STORE_MAX_BYTES / 1024 / 1024,
  rssStartMiB: Number(mib(samples[0].rss)),
  rssPeakMiB: Number(mib(peak)),
  rssSecondHalfMinMiB: Number(mib(Math.min(...steady.map((s) => s.rss)))),
  rssSecondHalfMaxMiB: Number(mib(Math.max(...steady.map((s) => s.rss)))),
};
console.log(JSON.stringify(summary, null, 2));

if (!values["dry-run"]) {
  const every = Math.max(1, Math.floor(samples.length / 20));
  const rows = samples
    .filter((_, i) => i % every === 0 || i === samples.length - 1)
    .map((s) => `| ${s.t.toFixed(0)} | ${s.done} | ${mib(s.rss)} |`);
  writeFileSync(
    "docs/soak.md",
    `# Soak result

Made by \`npm run soak\` (test/soak/run.ts) on ${new Date().toISOString().slice(0, 10)}, Bun ${Bun.version}, ${navigator.hardwareConcurrency} cores.
The Bun server (memory store capped at ${summary.storeCapMiB} MiB) under ${sent} requests, ${CONCURRENCY} at a time:
${Math.round((1 - UNIQUE_SHARE) * 100)}% drawn from ${POOL} repeated bodies (skewed, so some are hot), ${Math.round(UNIQUE_SHARE * 100)}% unique.
Answers are 1-8 KiB, a pure function of path and body; every answer was checked byte for byte.

| requests | seconds | req/s | hit ratio | errors | wrong answers |
|---|---|---|---|---|---|
| ${sent} | ${summary.seconds} | ${summary.reqPerSec} | ${summary.hitRatio} | ${errors} | ${wrong} |

Resident memory of the server process: ${summary.rssStartMiB} MiB at start, peak ${summary.rssPeakMiB} MiB, ${summary.rssSecondHalfMinMiB}-${summary.rssSecondHalfMaxMiB} MiB over the second half of the run
(store cap ${summary.storeCapMiB} MiB; the rest is Bun's runtime, the connection pool and garbage not yet collected).

| t (s) | requests done | RSS (MiB) |
|---|---|---|
${rows.join("\n")}
`,
  );
}
if (errors > 0 || wrong > 0) process.exit(1);
