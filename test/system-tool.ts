/**
 * System programs that some tests need (redis-server): found on PATH or where Debian installs them,
 * else installed through the project's own script when this machine can (root or sudo, and apt-get),
 * else the tests that need it are skipped with one line saying why and what installs it. Under `CI=true`
 * a missing program fails the run instead: .ci/run installs every one, so a skip there would hide a gap.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { runToEnd } from "./e2e/process.ts";

const ROOT = join(import.meta.dir, "..");
/** Where Debian's packages put programs, for a PATH that does not list them (or hides them). */
const SYSTEM_DIRS = ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/bin", "/sbin"];

export interface ToolRequest {
  /** The program, e.g. `redis-server`. */
  name: string;
  /** The project's command that installs it, relative to the repository, e.g. `["bash", "test/redis.sh", "install"]`. */
  install: string[];
  /** Who needs it, for the messages: `Redis store tests`. */
  neededBy: string;
}

/** The program's absolute path, or undefined. */
export function findTool(name: string): string | undefined {
  return (
    Bun.which(name, { PATH: process.env.PATH ?? "" }) ??
    SYSTEM_DIRS.map((dir) => join(dir, name)).find((path) => existsSync(path))
  );
}

/** Whether this process may install Debian packages: root, or a sudo that asks no password is assumed. */
function canInstall(): boolean {
  const aptGet = findTool("apt-get");
  return Boolean(aptGet) && (process.getuid?.() === 0 || Boolean(findTool("sudo")));
}

/**
 * The path of `request.name`, installing it when it is missing and this machine can. Undefined (after
 * printing one line) when it stays missing outside CI; throws under CI.
 */
export async function requireTool(request: ToolRequest): Promise<string | undefined> {
  const found = findTool(request.name);
  if (found) return found;
  const command = request.install.join(" ");
  let why = `${request.name} is not installed`;
  if (canInstall()) {
    console.error(`[${request.neededBy}] ${request.name} is missing: installing it with \`${command}\``);
    const run = await runToEnd(request.install, { cwd: ROOT, timeoutMs: 300_000 });
    const path = findTool(request.name);
    if (path) return path;
    why = `${request.name} did not install (\`${command}\` exited with ${run.code}: ${`${run.stderr}${run.stdout}`.trim().split("\n").pop()})`;
  }
  const line = `[${request.neededBy}] skipped: ${why}; install it with \`${command}\` (as root)`;
  if (process.env.CI === "true") throw new Error(`${line.replace("skipped", "FAILED under CI=true")}: .ci/run must install it`);
  console.error(line);
  return undefined;
}
