/** The soak's system under test: the Bun server with a capped memory store. Env: PORT, ORIGIN, STORE_MAX_BYTES. */
import { postcacheBun } from "../../adapters/bun.ts";
import { memoryStore } from "../../core/stores/memory.ts";

const store = memoryStore({ maxBytes: Number(process.env.STORE_MAX_BYTES ?? 16 * 1024 * 1024) });
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT ?? 0),
  fetch: postcacheBun({ origin: process.env.ORIGIN ?? "", store }),
});
console.log(`soak server listening on http://127.0.0.1:${server.port}, pid ${process.pid}`);
setInterval(() => console.log(`store ${store.size} entries ${store.bytes} bytes`), 5000).unref();
