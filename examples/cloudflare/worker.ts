/**
 * postcache as a Cloudflare Worker in front of your API. Deploy with `wrangler deploy` from this
 * folder (see README.md). The origin is `ORIGIN` from wrangler.toml's [vars] when set, else the
 * zone's own origin behind the Worker's route.
 */
import { postcacheCloudflare } from "../../adapters/cloudflare.ts";

export default postcacheCloudflare({
  // One line per POST/QUERY request in `wrangler tail`: HIT, MISS, STALE or BYPASS, and why.
  onResult: (info) =>
    console.log(
      `${info.outcome} ${info.status} ${info.method} ${new URL(info.url).pathname}${info.detail ? ` (${info.detail})` : ""}`,
    ),
  onError: (error, where) => console.error(`postcache: error in ${where}:`, error),
});
