/**
 * The processes a benchmark run starts: spawned pinned to a core, tied to the driver's life, stopped
 * at the end (or on error, Ctrl-C, or the driver's own death), and read from /proc for CPU and memory.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (`getconf CLK_TCK`; 100 on Linux). */
const CLK_TCK = Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim()) || 100;

export interface Started {
  name: string;
  pid: number;
  /** The `listening on <url>` URL for our servers; empty for others. */
  url: string;
  proc: Bun.Subprocess;
  /** Output so far, for error messages. */
  output(): string;
}

const started: Started[] = [];
let pidFile: string | undefined;

/** Records every started pid in `file`, so a later run can stop what a killed one left behind. */
export function recordPidsIn(file: string): void {
  pidFile = file;
}

/**
 * Kills processes a previous run recorded and left running (the driver was SIGKILLed before its
 * cleanup), but only those whose command line still names `marker` (so never a recycled pid).
 */
export function stopLeftovers(file: string, marker: string): void {
  if (!existsSync(file)) return;
  for (const pid of JSON.parse(readFileSync(file, "utf8")) as number[]) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(marker)) process.kill(pid, "SIGKILL");
    } catch {
      // gone already
    }
  }
  rmSync(file, { force: true });
}

/**
 * Starts `cmd` on `core` (when given). `setpriv --pdeathsig TERM` makes the kernel stop it if the
 * driver dies without cleaning up; `taskset` pins it (and every thread it starts) to the core.
 * With `ready`, waits (at most `timeoutMs`) for that pattern in its output; group 1 is the URL.
 */
export async function start(
  name: string,
  cmd: string[],
  options: { core?: number; env?: Record<string, string>; ready?: RegExp; timeoutMs?: number; cwd?: string } = {},
): Promise<Started> {
  const pin = options.core === undefined ? [] : ["taskset", "-c", String(options.core)];
  const proc = Bun.spawn(["setpriv", "--pdeathsig", "TERM", ...pin, ...cmd], {
    env: { ...process.env, ...options.env },
    cwd: options.cwd,
    stdout: "pipe",
    stderr: "pipe",
  });
  let output = "";
  const entry: Started = { name, pid: proc.pid, url: "", proc, output: () => output };
  started.push(entry);
  if (pidFile) writeFileSync(pidFile, JSON.stringify(started.map((s) => s.pid)));
  const decoder = new TextDecoder();
  const watch = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) output = (output + decoder.decode(chunk)).slice(-20_000);
  };
  watch(proc.stdout as ReadableStream<Uint8Array>);
  watch(proc.stderr as ReadableStream<Uint8Array>);
  if (!options.ready) return entry;
  const ready = options.ready;
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  while (Date.now() < deadline) {
    const match = output.match(ready);
    if (match) {
      entry.url = match[1] ?? "";
      return entry;
    }
    if (proc.exitCode !== null) break;
    await Bun.sleep(25);
  }
  throw new Error(`[bench] ${name} did not start (${cmd.join(" ")}):\n${output}`);
}

/** Stops everything this run started, newest first: SIGTERM, then SIGKILL after 3 s. */
export async function stopAll(): Promise<void> {
  const running = started.splice(0).reverse();
  for (const s of running) if (s.proc.exitCode === null) s.proc.kill("SIGTERM");
  await Promise.race([Promise.all(running.map((s) => s.proc.exited)), Bun.sleep(3000)]);
  for (const s of running) if (s.proc.exitCode === null) s.proc.kill("SIGKILL");
  await Promise.race([Promise.all(running.map((s) => s.proc.exited)), Bun.sleep(1000)]);
  if (pidFile) rmSync(pidFile, { force: true });
}

/** Runs `stopAll` (and `also`) once, whichever way the driver ends. */
export function stopOnExit(also: () => void = () => {}): void {
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await stopAll();
    also();
    process.exit(code);
  };
  process.on("SIGINT", () => stop(130));
  process.on("SIGTERM", () => stop(143));
  process.on("uncaughtException", (error) => {
    console.error(error);
    stop(1);
  });
}

/** Pins an already running process, every thread of it, to `core`. */
export function pin(pid: number, core: number): void {
  const result = Bun.spawnSync(["taskset", "-a", "-p", "-c", String(core), String(pid)]);
  if (result.exitCode !== 0) throw new Error(`[bench] taskset failed for ${pid}: ${result.stderr.toString()}`);
}

/** A process and its children (nginx's master and workers), by pid. */
export function family(pid: number): number[] {
  const out = [pid];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const children = readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").trim();
      for (const child of children ? children.split(/\s+/).map(Number) : []) out.push(...family(child));
    }
  } catch {
    // exited meanwhile
  }
  return out;
}

/** CPU time used so far by these processes (user + system, all threads), in microseconds. */
export function cpuMicros(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      // Fields after the command name (which may hold spaces, so split after its closing paren):
      // state is field 3, utime field 14, stime field 15.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited meanwhile
    }
  }
  return (ticks * 1e6) / CLK_TCK;
}

/** A field of /proc/<pid>/status in KiB (VmHWM: peak resident set; VmRSS: resident now). */
export function statusKiB(pid: number, field: "VmHWM" | "VmRSS"): number {
  try {
    const match = readFileSync(`/proc/${pid}/status`, "utf8").match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}
