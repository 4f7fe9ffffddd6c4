/**
 * Micro-benchmark of the cache key: core's `cacheKey` on a 256 B, 4 KiB, 64 KiB and 1 MiB body
 * against a bare `crypto.subtle.digest` of the same bytes (the floor: keying cannot hash less).
 * Runs unchanged in Bun, Deno and Node; in Bun it also times `cacheKey` with `bunSha256` (the Bun
 * server's hasher) and a bare `Bun.CryptoHasher` (its floor); in Node, `cacheKey` with `nodeSha256`
 * (node:crypto's synchronous hash, which the Node server and the command use) and a bare `createHash`.
 *
 * Prints one line, `RESULT {json}`. QUICK=1 measures fewer, shorter batches.
 */
import { cacheKey } from "../core/key.ts";
import { resolveOptions } from "../core/options.ts";

const quick = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.QUICK === "1";
const SIZES = [256, 4 * 1024, 64 * 1024, 1024 * 1024];
const BATCHES = quick ? 5 : 11;
const BATCH_MS = quick ? 10 : 25;

interface Variant {
  name: string;
  run: (body: Uint8Array) => unknown;
}

type BunHasher = { update(data: Uint8Array): void; digest(): Uint8Array };
const bun = (globalThis as { Bun?: { version: string; CryptoHasher: new (algorithm: string) => BunHasher } }).Bun;
const deno = (globalThis as { Deno?: { version: { deno: string } } }).Deno;
const runtime = bun ? `bun ${bun.version}` : deno ? `deno ${deno.version.deno}` : `node ${process.version}`;

const url = new URL("https://bench.example/api/search?page=1");
const headers = new Headers({ "content-type": "application/json", accept: "application/json" });
const subtleOptions = resolveOptions({});
const variants: Variant[] = [
  { name: "digest", run: (body) => crypto.subtle.digest("SHA-256", body as Uint8Array<ArrayBuffer>) },
  { name: "cacheKey", run: (body) => cacheKey("POST", url, headers, body, undefined, subtleOptions) },
];
if (bun) {
  // Only Bun has adapters/bun.ts's synchronous hasher; the import is skipped elsewhere.
  const { bunSha256 } = await import("../adapters/bun.ts");
  const CryptoHasher = bun.CryptoHasher;
  const bunOptions = resolveOptions({ sha256: bunSha256 });
  variants.push(
    {
      name: "Bun.CryptoHasher",
      run: (body) => {
        const hasher = new CryptoHasher("sha256");
        hasher.update(body);
        return hasher.digest();
      },
    },
    { name: "cacheKey+bunSha256", run: (body) => cacheKey("POST", url, headers, body, undefined, bunOptions) },
  );
}

if (!bun && !deno) {
  // Node: the synchronous node:crypto hasher adapters/node.ts gives the engine, and its floor.
  const { nodeSha256 } = await import("../adapters/node.ts");
  const { createHash } = await import("node:crypto");
  const nodeOptions = resolveOptions({ sha256: nodeSha256 });
  variants.push(
    { name: "node:crypto createHash", run: (body) => createHash("sha256").update(body).digest() },
    { name: "cacheKey+nodeSha256", run: (body) => cacheKey("POST", url, headers, body, undefined, nodeOptions) },
  );
}

/** Runs `variant` `n` times, one call after another (as a server would), and returns ns per call. */
async function timeBatch(variant: Variant, body: Uint8Array, n: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < n; i++) await variant.run(body);
  return ((performance.now() - start) * 1e6) / n;
}

/** Calls per batch so that one batch lasts about BATCH_MS. */
async function calibrate(variant: Variant, body: Uint8Array): Promise<number> {
  let n = 1;
  for (;;) {
    const ns = await timeBatch(variant, body, n);
    if (ns * n > 2e6 || n >= 1 << 20) return Math.max(1, Math.round((BATCH_MS * 1e6) / ns));
    n *= 4;
  }
}

function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

const rows: { bytes: number; variant: string; nsPerOp: number }[] = [];
for (const bytes of SIZES) {
  const body = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) body[i] = (i * 31 + 7) & 0xff;
  const counts = new Map<Variant, number>();
  for (const v of variants) counts.set(v, await calibrate(v, body));
  const samples = new Map<Variant, number[]>(variants.map((v) => [v, []]));
  // Interleaved batches: each variant sees the same machine state, as in the server rounds.
  for (let b = 0; b < BATCHES; b++) {
    for (const v of variants) samples.get(v)?.push(await timeBatch(v, body, counts.get(v) ?? 1));
  }
  for (const v of variants) rows.push({ bytes, variant: v.name, nsPerOp: median(samples.get(v) ?? []) });
}

console.log(`RESULT ${JSON.stringify({ runtime, rows })}`);
