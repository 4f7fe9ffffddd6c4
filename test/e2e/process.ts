/** Starts a runtime as a child process on a free loopback port and waits for its "listening" line. */
import type { RunningTarget } from "./suite.ts";

export async function freePort(): Promise<number> {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

/**
 * Spawns `cmd` with `env` added (PORT set to a free port unless given) and resolves once stdout or
 * stderr matches `ready`; its first capture group, if any, is the URL. Fails after `timeoutMs`.
 */
export async function startProcess(
  cmd: string[],
  env: Record<string, string>,
  ready: RegExp,
  timeoutMs = 60_000,
  cwd?: string,
): Promise<RunningTarget & { output(): string }> {
  const port = env.PORT ?? String(await freePort());
  const child = Bun.spawn(cmd, {
    cwd,
    env: { ...process.env, PORT: port, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd.join(" ")} not ready after ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const watch = async (stream: ReadableStream<Uint8Array>) => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) {
        output += decoder.decode(chunk);
        const match = output.match(ready);
        if (match) {
          clearTimeout(timer);
          resolve(match[1] ?? `http://127.0.0.1:${port}`);
        }
      }
    };
    watch(child.stdout);
    watch(child.stderr);
    child.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd.join(" ")} exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    /** Everything the process printed so far, stdout and stderr. */
    output: () => output,
    stop: async () => {
      child.kill();
      await child.exited;
    },
  };
}

/** Runs `cmd` to its end (killed after `timeoutMs`) and returns its exit code and output. */
export async function runToEnd(
  cmd: string[],
  options: { cwd?: string; env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = Bun.spawn(cmd, { cwd: options.cwd, env: options.env ?? process.env, stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => child.kill(), options.timeoutMs ?? 15_000);
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}
