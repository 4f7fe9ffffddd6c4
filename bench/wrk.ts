/** One load slice: wrk, pinned to the load core, POSTing fixed or unique JSON bodies via wrk/post.lua. */
import { join } from "node:path";

export interface WrkResult {
  requests: number;
  durationUs: number;
  /** Socket errors plus non-2xx/3xx answers. */
  errors: number;
  /** Non-2xx/3xx answers alone. */
  badStatus: number;
  rps: number;
  /** Latency percentiles, in microseconds. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface WrkSlice {
  url: string;
  connections: number;
  seconds: number;
  bodyBytes: number;
  /** Every request with a body of its own (the miss path). */
  unique: boolean;
  /** Keeps unique bodies unique across slices and runs. */
  salt: string;
  core?: number;
}

const SCRIPT = join(import.meta.dir, "wrk", "post.lua");

/** The fixed body wrk/post.lua sends, byte for byte (to probe caches with the same key). */
export function fixedBody(bytes: number, head = "fixed"): string {
  const fixed = '{"q":"","pad":""}'.length + head.length;
  return `{"q":"${head}","pad":"${"x".repeat(bytes - fixed)}"}`;
}

export async function runWrk(wrk: string, slice: WrkSlice): Promise<WrkResult> {
  const pin = slice.core === undefined ? [] : ["taskset", "-c", String(slice.core)];
  // One wrk thread: it has one core, and more threads would only contend for it.
  const cmd = [...pin, wrk, "-t1", `-c${slice.connections}`, `-d${slice.seconds}s`, "--timeout", "10s", "-s", SCRIPT, slice.url];
  const proc = Bun.spawn(["setpriv", "--pdeathsig", "TERM", ...cmd], {
    env: { ...process.env, BODY_BYTES: String(slice.bodyBytes), UNIQUE: slice.unique ? "1" : "0", SALT: slice.salt },
    stdout: "pipe",
    stderr: "pipe",
  });
  // wrk stops itself after -d; the timer is only a guard against a wedged run.
  const guard = setTimeout(() => proc.kill("SIGKILL"), (slice.seconds + 20) * 1000);
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  await proc.exited;
  clearTimeout(guard);
  return parseWrk(`${out}\n${err}`);
}

/** Reads the `RESULT {json}` line wrk/post.lua's done() prints. */
export function parseWrk(output: string): WrkResult {
  const line = output.split("\n").find((l) => l.startsWith("RESULT "));
  if (!line) throw new Error(`[bench] wrk printed no result:\n${output.slice(-2000)}`);
  const r = JSON.parse(line.slice("RESULT ".length));
  const errors = r.connect + r.read + r.write + r.status + r.timeout;
  return {
    requests: r.requests,
    durationUs: r.durationUs,
    errors,
    badStatus: r.status,
    rps: r.durationUs > 0 ? (r.requests / r.durationUs) * 1e6 : 0,
    p50: r.p50,
    p90: r.p90,
    p99: r.p99,
    max: r.max,
  };
}
