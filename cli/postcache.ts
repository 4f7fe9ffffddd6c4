/**
 * `postcache`: the command. `npx postcache --origin https://api.example.com` (docs/cli.md). Runs under
 * Node 20+ and under Bun (`bunx --bun postcache`, or `bun` on the package's bin), with Bun's server,
 * fetch and hasher there.
 */
import { serve } from "./serve.ts";
import { readSettings, USAGE, UsageError } from "./settings.ts";

async function main(): Promise<void> {
  const settings = await readSettings(process.argv.slice(2), process.env);
  if (!settings) {
    console.log(USAGE);
    return;
  }
  const running = await serve(settings);
  let signals = 0;
  const stop = (signal: string) => {
    // A second signal does not wait for in-flight requests.
    if (++signals > 1) process.exit(1);
    console.error(`postcache: ${signal}: finishing in-flight requests (at most ${settings.shutdownTimeoutMs} ms)`);
    running.close().then(() => process.exit(0));
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((error) => {
  if (error instanceof UsageError) {
    console.error(`postcache: ${error.message}`);
    process.exit(2);
  }
  console.error(`postcache: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  process.exit(1);
});
