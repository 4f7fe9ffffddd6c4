/**
 * postcache as a Deno server in front of your API (see README.md):
 *
 *   ORIGIN=http://127.0.0.1:3000 deno serve --allow-net --allow-env=ORIGIN --port 8000 main.ts
 *
 * Environment: ORIGIN (required), the API's absolute URL. The port and host are `deno serve`'s
 * `--port` and `--host` (a module cannot choose them: `deno serve` listens for it).
 */

import type { ResultInfo } from "postcache";
import { postcacheDeno } from "postcache/deno";

/** The one Deno API used here; Deno's own types are not part of this repository's tsconfig. */
declare const Deno: { env: { get(name: string): string | undefined } };

const origin = Deno.env.get("ORIGIN");
if (!origin) throw new Error("[postcache] set ORIGIN to your API's absolute URL, e.g. ORIGIN=http://127.0.0.1:3000");

function log(info: ResultInfo): void {
  const detail = info.detail ? ` (${info.detail})` : "";
  console.log(
    `${info.outcome.padEnd(6)} ${info.status} ${info.method} ${new URL(info.url).pathname}${detail}  ${info.elapsedMs.toFixed(1)} ms`,
  );
}

const postcache = postcacheDeno({
  origin,
  onResult: log,
  // One line per failure (the request is still answered): the message, not the stack.
  onError: (error, where) =>
    console.error(`postcache: ${where} failed: ${error instanceof Error ? error.message : String(error)}`),
});

export default {
  fetch: postcache.fetch,
  onListen({ hostname, port }: { hostname: string; port: number }) {
    console.log(`postcache listening on http://${hostname}:${port}, in front of ${origin}`);
  },
};
