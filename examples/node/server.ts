/**
 * postcache as a Node.js server in front of your API:
 *
 *   ORIGIN=http://127.0.0.1:3000 PORT=8787 node server.js      (after building, or with tsx / node >= 22.18)
 *
 * Environment: ORIGIN (required), PORT (default 8787), HOST (default 127.0.0.1). For flags, a config
 * file, Redis, JSON logs and metrics, use the `postcache` command instead (npx postcache --help).
 */
import { createServer } from "node:http";
import { postcacheNode } from "postcache/node";

const origin = process.env.ORIGIN;
if (!origin) {
  console.error("postcache: set ORIGIN to your API's absolute URL, e.g. ORIGIN=http://127.0.0.1:3000");
  process.exit(1);
}
const listener = postcacheNode({
  origin,
  onResult: (info) => console.log(`${info.outcome.padEnd(6)} ${info.status} ${info.method} ${new URL(info.url).pathname}`),
});
const host = process.env.HOST ?? "127.0.0.1";
const server = createServer(listener).listen(Number(process.env.PORT ?? 8787), host, () => {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : process.env.PORT;
  console.log(`postcache listening on http://${host}:${port}, in front of ${origin}`);
});
