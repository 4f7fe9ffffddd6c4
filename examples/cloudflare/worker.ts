/**
 * postcache as a Cloudflare Worker in front of your API. Deploy with `npx wrangler deploy` from this
 * folder (see README.md). The origin is `ORIGIN` from wrangler.toml's [vars] when set, else the
 * zone's own origin behind the Worker's route.
 */
import { postcacheCloudflare } from "postcache/cloudflare";

export default postcacheCloudflare({
  // No line per request: Workers bill CPU time, and a log line costs about 100 µs of it (bench/results.md).
  // To watch requests in `wrangler tail`, add:
  //   onResult: (info) => console.log(`${info.outcome} ${info.status} ${info.method} ${info.url} ${info.detail ?? ""}`),
  // One line per failure (the request is still answered): the message, not the stack.
  onError: (error, where) =>
    console.error(`postcache: ${where} failed: ${error instanceof Error ? error.message : String(error)}`),
});
