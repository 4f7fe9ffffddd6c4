/**
 * `npm start`: postcache on 127.0.0.1:8787 in front of the demo origin (or of ORIGIN), logging one
 * line per request. Environment: PORT (default 8787), ORIGIN (default: the demo origin, on a free port),
 * POSTCACHE_ADMIN_TOKEN (at least 16 characters: turns on /.postcache/stats and /.postcache/purge).
 */
import { PostcacheOptionError, type ResultInfo } from "postcache";
import { adminEndpoints } from "postcache/admin";
import { postcacheBun, productionServe } from "postcache/bun";
import { createDemoOrigin } from "./demo-origin.ts";

const port = Number(process.env.PORT ?? 8787);
let origin = process.env.ORIGIN;
let fronting = origin;
if (!origin) {
  const demo = createDemoOrigin();
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: demo.handle });
  origin = `http://127.0.0.1:${server.port}`;
  fronting = `the built-in demo origin at ${origin} (set ORIGIN to front your API)`;
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
/** A configuration mistake is one line naming what to change, and exit 1: no stack trace. */
function fail(message: string): never {
  console.error(`postcache: ${message}`);
  process.exit(1);
}
if (adminToken !== undefined && adminToken.length < 16) {
  fail(
    `POSTCACHE_ADMIN_TOKEN must be at least 16 characters (got ${adminToken.length}); try POSTCACHE_ADMIN_TOKEN=$(openssl rand -hex 16)`,
  );
}
let handle: (request: Request) => Promise<Response>;
try {
  handle = postcacheBun({
    origin,
    onResult: log,
    // One line per failure (the request is still answered): the message, not the stack.
    onError: (error, where) =>
      console.error(`postcache: ${where} failed: ${error instanceof Error ? error.message : String(error)}`),
    ...(adminToken ? { admin: adminEndpoints({ token: adminToken }) } : {}),
  });
} catch (error) {
  if (error instanceof PostcacheOptionError || error instanceof TypeError) fail(error.message.replace(/^\[postcache\] /, ""));
  throw error;
}
// Production mode: a thrown error is a plain 500 and one log line, never Bun's page of source lines.
const server = Bun.serve({ ...productionServe, hostname: "127.0.0.1", port, fetch: handle });

console.log(`postcache listening on http://127.0.0.1:${server.port}, in front of ${fronting}

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
