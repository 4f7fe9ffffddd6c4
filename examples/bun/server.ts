/**
 * `npm start`: postcache on 127.0.0.1:8787 in front of the demo origin (or of ORIGIN), logging one
 * line per request. Environment: PORT (default 8787), ORIGIN (default: the demo origin, on a free port),
 * POSTCACHE_ADMIN_TOKEN (at least 16 characters: turns on /.postcache/stats and /.postcache/purge).
 */
import { postcacheBun } from "../../adapters/bun.ts";
import type { ResultInfo } from "../../core/types.ts";
import { createDemoOrigin } from "../demo-origin/origin.ts";

const port = Number(process.env.PORT ?? 8787);
let origin = process.env.ORIGIN;
if (!origin) {
  const demo = createDemoOrigin();
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: demo.handle });
  origin = `http://127.0.0.1:${server.port}`;
}

function log(info: ResultInfo): void {
  const detail = info.detail ? ` (${info.detail})` : "";
  const key = info.shortKey ? `  key=${info.shortKey}` : "";
  const path = new URL(info.url).pathname;
  console.log(
    `${info.outcome.padEnd(6)} ${info.status} ${info.method} ${path}${detail}  ${info.elapsedMs.toFixed(1)} ms${key}${info.collapsed ? "  collapsed" : ""}`,
  );
}

const adminToken = process.env.POSTCACHE_ADMIN_TOKEN;
const handle = postcacheBun({
  origin,
  onResult: log,
  onError: (error, where) => console.error(`error in ${where}:`, error),
  ...(adminToken ? { admin: { token: adminToken } } : {}),
});
const server = Bun.serve({ hostname: "127.0.0.1", port, fetch: handle });

console.log(`postcache listening on http://127.0.0.1:${server.port}, in front of ${origin}

Try it (run twice: MISS, then HIT):
  curl -si http://127.0.0.1:${server.port}/search -H 'content-type: application/json' -d '{"query":"lamp"}'
${
  adminToken
    ? `
Live numbers:
  curl -s http://127.0.0.1:${server.port}/.postcache/stats -H "authorization: Bearer $POSTCACHE_ADMIN_TOKEN"
`
    : ""
}`);
