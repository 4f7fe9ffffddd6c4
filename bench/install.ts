/**
 * The tools the benchmark needs beyond node_modules: nginx and wrk from Debian, taskset and setpriv
 * from util-linux. Installed with apt-get when missing (`apt-get update` once first), so a fresh
 * machine runs `npm run bench` without anything done by hand.
 */
import { existsSync } from "node:fs";

export interface Tools {
  nginx: string;
  wrk: string;
}

/** The path of `name` on PATH or in the sbin folders (nginx lives in /usr/sbin). */
function which(name: string): string | undefined {
  for (const dir of [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/sbin", "/usr/local/sbin"]) {
    if (dir && existsSync(`${dir}/${name}`)) return `${dir}/${name}`;
  }
  return undefined;
}

function apt(args: string[]): boolean {
  const sudo = process.getuid?.() === 0 ? [] : ["sudo", "-n"];
  console.log(`[bench] ${[...sudo, "apt-get", ...args].join(" ")}`);
  const result = Bun.spawnSync([...sudo, "apt-get", ...args], {
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    stdout: "ignore",
    stderr: "pipe",
  });
  if (result.exitCode !== 0) console.error(result.stderr.toString().slice(-2000));
  return result.exitCode === 0;
}

/** Finds nginx, wrk, taskset and setpriv, installing the missing ones; throws if that fails. */
export function ensureTools(): Tools {
  const wanted: [string, string[]][] = [
    ["nginx", ["nginx-light", "nginx"]],
    ["wrk", ["wrk"]],
    ["taskset", ["util-linux"]],
    ["setpriv", ["util-linux"]],
  ];
  const missing = wanted.filter(([name]) => !which(name));
  if (missing.length > 0) {
    if (!apt(["update", "-q"])) throw new Error("[bench] apt-get update failed");
    for (const [name, packages] of missing) {
      // Alternatives in order (nginx-light is the smallest build with the proxy cache), first that installs.
      const installed = packages.some((pkg) => apt(["install", "-y", "-q", "--no-install-recommends", pkg]) && which(name));
      if (!installed) throw new Error(`[bench] could not install ${name} (tried: ${packages.join(", ")})`);
    }
  }
  return { nginx: which("nginx") as string, wrk: which("wrk") as string };
}

/** A tool's version line, for the report; "" when the tool is not installed (unit tests run without it). */
export function versionOf(cmd: string[]): string {
  const path = which(cmd[0]);
  if (!path) return "";
  const result = Bun.spawnSync([path, ...cmd.slice(1)], { stdout: "pipe", stderr: "pipe" });
  const text = `${result.stdout.toString()}${result.stderr.toString()}`.trim();
  return text.split("\n")[0] ?? "";
}
