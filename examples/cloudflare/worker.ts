/**
 * postcache as a Cloudflare Worker in front of your API. Deploy with `npx wrangler deploy` from this
 * folder (see README.md). The origin is `ORIGIN` from wrangler.toml's [vars] when set, else the
 * zone's own origin behind the Worker's route.
 */
import { postcacheCloudflare } from "postcache/cloudflare";

export default postcacheCloudflare({
  // One line per POST/QUERY request in `wrangler tail`: HIT, MISS, STALE or BYPASS, and why.
  onResult: (info) =>
    console.log(
      `${info.outcome} ${info.status} ${info.method} ${new URL(info.url).pathname}${info.detail ? ` (${info.detail})` : ""}`,
    ),
  // One line per failure (the request is still answered): the message, not the stack.
  onError: (error, where) =>
    console.error(`postcache: ${where} failed: ${error instanceof Error ? error.message : String(error)}`),
});
