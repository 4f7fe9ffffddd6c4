/**
 * A/B of Workers in workerd, one fresh server at a time, interleaved: the way bench/results.md's
 * profile notes measured changes to the Cloudflare bundle. Each Worker is started by
 * bench/workerd-server.ts pinned to the server core, warmed for 2 s, then measured for 4 s by wrk on
 * the load core; CPU is the workerd child's, from /proc. Prints one line per slice and the medians.
 *
 *   bun bench/workerd-ab.ts hit|miss BYTES WORKER...     WORKER: postcache, naive, or a path to an entry
 *   REPS=5 bun bench/workerd-ab.ts miss 1024 postcache naive bench/.work/no-index.ts
 */
import { join } from "node:path";
import { ensureTools } from "./install.ts";
import { cpuMicros, start, stopAll, stopOnExit } from "./processes.ts";
import { median } from "./stats.ts";
import { coresOf, startOrigin, workerdOf } from "./systems.ts";
import { runWrk } from "./wrk.ts";

const [mode, bytesArg, ...workers] = process.argv.slice(2);
if ((mode !== "hit" && mode !== "miss") || !Number(bytesArg) || workers.length === 0) {
  console.error("usage: bun bench/workerd-ab.ts hit|miss BYTES WORKER...");
  process.exit(2);
}
const bytes = Number(bytesArg);
const reps = Number(process.env.REPS ?? 3);
const tools = ensureTools();
const cores = coresOf();
stopOnExit();
const origin = await startOrigin(cores);
const cpu = new Map<string, number[]>(workers.map((w) => [w, []]));
try {
  for (let rep = 0; rep < reps; rep++) {
    for (const worker of workers) {
      const server = await start(`workerd-${worker}`, [process.execPath, join(import.meta.dir, "workerd-server.ts")], {
        core: cores.server,
        env: { ORIGIN: origin.url, WORKER: worker },
        ready: /listening on (http:\/\/\S+)/,
        timeoutMs: 60_000,
      });
      const slice = (seconds: number, salt: string) =>
        runWrk(tools.wrk, {
          url: `${server.url}/api/search`,
          connections: 16,
          seconds,
          bodyBytes: bytes,
          unique: mode === "miss",
          salt,
          core: cores.load,
        });
      await slice(2, `warm-${rep}-${worker}`);
      const pid = workerdOf(server.pid);
      const cpu0 = cpuMicros([pid]);
      const result = await slice(4, `measure-${rep}-${worker}-${Date.now()}`);
      const perRequest = (cpuMicros([pid]) - cpu0) / result.requests;
      cpu.get(worker)?.push(perRequest);
      console.log(
        `${mode} ${bytes} ${worker}  ${Math.round(result.rps)} req/s  ${perRequest.toFixed(1)} µs CPU/req  p50 ${(result.p50 / 1000).toFixed(2)} ms  p99 ${(result.p99 / 1000).toFixed(2)} ms${result.errors ? `  ERRORS ${result.errors}` : ""}`,
      );
      server.proc.kill("SIGTERM");
      await server.proc.exited;
    }
  }
  for (const worker of workers) console.log(`median ${worker}: ${median(cpu.get(worker) ?? []).toFixed(1)} µs CPU/req`);
} finally {
  await stopAll();
}
