/** Runs bench/keying.ts in Bun, Deno and Node (Node through an esbuild bundle: core uses TypeScript
 * that Node's type stripping rejects) pinned to one core, and collects their results. */
import { mkdirSync } from "node:fs";
import { join } from "node:path";

export interface KeyingRow {
  bytes: number;
  variant: string;
  nsPerOp: number;
}

export interface KeyingResult {
  runtime: string;
  rows: KeyingRow[];
  error?: string;
}

const BENCH = import.meta.dir;
const BIN = join(BENCH, "..", "node_modules", ".bin");
const NODE = join(BENCH, "..", "node_modules", "node", "bin", "node");

function run(runtime: string, cmd: string[], quick: boolean, core?: number): KeyingResult {
  const pin = core === undefined ? [] : ["taskset", "-c", String(core)];
  const result = Bun.spawnSync([...pin, ...cmd], {
    env: { ...process.env, QUICK: quick ? "1" : "0" },
    stdout: "pipe",
    stderr: "pipe",
    timeout: 120_000,
  });
  const out = result.stdout.toString();
  const line = out.split("\n").find((l) => l.startsWith("RESULT "));
  if (!line) return { runtime, rows: [], error: `${cmd.join(" ")} failed:\n${out}${result.stderr.toString()}`.slice(-1500) };
  return JSON.parse(line.slice("RESULT ".length));
}

export async function runKeying(work: string, quick: boolean, core?: number): Promise<KeyingResult[]> {
  const script = join(BENCH, "keying.ts");
  const results = [run("bun", [process.execPath, script], quick, core)];
  results.push(run("deno", [join(BIN, "deno"), "run", "--quiet", "--no-prompt", "--allow-env=QUICK", script], quick, core));
  const dir = join(work, "node");
  mkdirSync(dir, { recursive: true });
  const bundle = join(dir, "keying.mjs");
  const built = Bun.spawnSync(
    [
      join(BIN, "esbuild"),
      script,
      "--bundle",
      "--platform=node",
      "--format=esm",
      "--target=node22",
      `--outfile=${bundle}`,
      "--log-level=warning",
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  if (built.exitCode !== 0) results.push({ runtime: "node", rows: [], error: `esbuild failed: ${built.stderr.toString()}` });
  else results.push(run("node", [NODE, bundle], quick, core));
  for (const r of results) if (r.error) console.error(`[bench] keying: ${r.error}`);
  return results;
}
