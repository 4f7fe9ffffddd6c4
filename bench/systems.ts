/**
 * The systems under test, each started once and left running for the whole run: the origin, nginx
 * (one instance: the POST cache and the pass-through on two ports), postcache's Bun server (and a
 * second one whose store is filled to its cap first), the seeds' naive proxy, the bare Bun floor,
 * postcache's Cloudflare bundle and Cloudflare's example Worker in workerd, and optionally a patched
 * postcache variant.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { family, type Started, start, statusKiB } from "./processes.ts";

export type SystemId =
  | "nginx"
  | "postcache"
  | "postcache-full"
  | "variant"
  | "naive"
  | "floor"
  | "workerd-postcache"
  | "workerd-naive"
  | "nginx-pass"
  | "origin";

export const LABELS: Record<SystemId, string> = {
  nginx: "nginx POST cache",
  postcache: "postcache (Bun)",
  "postcache-full": "postcache (Bun), store full",
  variant: "postcache variant",
  naive: "naive worker (Bun)",
  floor: "bare Bun floor (body, hash, fixed answer)",
  "workerd-postcache": "postcache (workerd)",
  "workerd-naive": "Cloudflare's example (workerd)",
  "nginx-pass": "nginx pass-through",
  origin: "origin direct",
};

export interface System {
  id: SystemId;
  url: string;
  /** The processes whose CPU time this system's slices are charged. */
  pids(): number[];
  /** The process whose peak resident memory is this system's. */
  memoryPid(): number;
  /** Resident memory right after start, before any load (KiB). */
  idleKiB: number;
}

export interface Cores {
  server?: number;
  load?: number;
  /** The origin's core: a third core when there is one, else the load core (shared, and disclosed). */
  origin?: number;
}

/**
 * Two cores at least: the servers on one, wrk and this driver on the other; the origin on a third
 * when there is one, else beside wrk (the report says which: on misses it shares wrk's core then).
 */
export function coresOf(n: number = navigator.hardwareConcurrency): Cores {
  if (n < 2) {
    console.warn("[bench] one core only: nothing is pinned, and servers and load share it");
    return {};
  }
  return { server: 0, load: 1, origin: n >= 3 ? 2 : 1 };
}

const BENCH = import.meta.dir;

export function freePort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

function bunServer(name: string, script: string, env: Record<string, string>, core?: number): Promise<Started> {
  return start(name, [process.execPath, join(BENCH, script)], { core, env, ready: /listening on (http:\/\/\S+)/ });
}

export async function startOrigin(cores: Cores): Promise<Started> {
  // Hits never reach the origin; on misses it costs every system alike, on its own core when there is one.
  return bunServer("origin", "origin.ts", { DELAY_MS: "20" }, cores.origin ?? cores.load);
}

export async function startBunSystems(origin: string, cores: Cores, variant?: string): Promise<Started[]> {
  const servers = [
    bunServer("postcache", "postcache-server.ts", { ORIGIN: origin }, cores.server),
    bunServer("naive", "naive-proxy.ts", { ORIGIN: origin }, cores.server),
    bunServer("floor", "floor-server.ts", {}, cores.server),
    start("postcache-full", [process.execPath, join(BENCH, "postcache-server.ts")], {
      core: cores.server,
      env: { ORIGIN: origin, PREFILL: "1" },
      ready: /listening on (http:\/\/\S+)/,
      timeoutMs: 60_000,
    }),
  ];
  if (variant)
    servers.push(bunServer("variant", "postcache-server.ts", { ORIGIN: origin, POSTCACHE_ADAPTER: variant }, cores.server));
  return Promise.all(servers);
}

/**
 * postcache's Cloudflare example and Cloudflare's docs example, each in its own workerd (started by
 * Miniflare from bench/workerd-server.ts). Their CPU is the workerd child's (see workerdOf).
 */
export async function startWorkerdSystems(origin: string, cores: Cores): Promise<Started[]> {
  const one = (name: string, worker: string) =>
    start(name, [process.execPath, join(BENCH, "workerd-server.ts")], {
      core: cores.server,
      env: { ORIGIN: origin, WORKER: worker },
      ready: /listening on (http:\/\/\S+)/,
      timeoutMs: 60_000,
    });
  return Promise.all([one("workerd-postcache", "postcache"), one("workerd-naive", "naive")]);
}

/** The workerd process Miniflare started under `hostPid` (the one that serves); the host if none. */
export function workerdOf(hostPid: number): number {
  for (const pid of family(hostPid)) {
    try {
      if (pid !== hostPid && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("workerd")) return pid;
    } catch {
      // gone
    }
  }
  return hostPid;
}

/** Renders bench/nginx.conf into `work` and starts nginx in the foreground (so it is our child). */
export async function startNginx(
  nginx: string,
  work: string,
  cacheDir: string,
  origin: string,
  cores: Cores,
): Promise<{ proc: Started; cachePort: number; passPort: number; conf: string }> {
  rmSync(cacheDir, { recursive: true, force: true });
  mkdirSync(cacheDir, { recursive: true });
  const cachePort = freePort();
  const passPort = freePort();
  const values: Record<string, string> = {
    WORK: work,
    CACHE_DIR: cacheDir,
    ORIGIN: new URL(origin).host,
    CACHE_PORT: String(cachePort),
    PASS_PORT: String(passPort),
  };
  const conf = renderNginxConf(values);
  const confPath = join(work, "nginx.conf");
  writeFileSync(confPath, conf);
  const test = Bun.spawnSync([nginx, "-t", "-q", "-c", confPath], { stderr: "pipe" });
  if (test.exitCode !== 0) throw new Error(`[bench] nginx -t failed:\n${test.stderr.toString()}`);
  const proc = await start("nginx", [nginx, "-c", confPath], { core: cores.server });
  // nginx prints nothing when ready: wait until both ports answer.
  for (const port of [cachePort, passPort]) await waitForPort(port, proc);
  return { proc, cachePort, passPort, conf: confPath };
}

async function waitForPort(port: number, proc: Started): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      await fetch(`http://127.0.0.1:${port}/__count`);
      return;
    } catch {
      if (proc.proc.exitCode !== null) break;
      await Bun.sleep(50);
    }
  }
  throw new Error(`[bench] nginx did not listen on ${port}:\n${proc.output()}`);
}

/** bench/nginx.conf with its `{{NAME}}` placeholders filled in; an unknown one is an error. */
export function renderNginxConf(values: Record<string, string>): string {
  return readFileSync(join(BENCH, "nginx.conf"), "utf8").replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`[bench] nginx.conf: no value for placeholder ${name}`);
    return value;
  });
}

/** nginx's worker: the process that serves (the master only forks and waits). */
export function nginxWorker(masterPid: number): number {
  for (const pid of family(masterPid)) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("worker process")) return pid;
    } catch {
      // gone
    }
  }
  return masterPid;
}

export function systemOf(id: SystemId, url: string, pids: () => number[], memoryPid: () => number): System {
  return { id, url, pids, memoryPid, idleKiB: statusKiB(memoryPid(), "VmRSS") };
}
