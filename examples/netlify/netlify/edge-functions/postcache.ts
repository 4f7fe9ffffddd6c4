/**
 * postcache as a Netlify Edge Function in front of your API (see ../../README.md). The origin is the
 * `ORIGIN` environment variable when set, else what the site serves behind this function: here the
 * proxy rule in netlify.toml.
 */
import type { Config } from "@netlify/edge-functions";
import { postcacheNetlify } from "postcache/netlify";

export default postcacheNetlify({
  // Per-path freshness, first match wins; it overrides the origin's Cache-Control, never its no-store.
  rules: [{ match: "/search", ttl: 300, staleWhileRevalidate: 60 }],
  // No line per request by default: edge functions bill and cap CPU time. To see HIT, MISS,
  // STALE or BYPASS in the function log, add:
  //   onResult: (info) => console.log(`${info.outcome} ${info.status} ${info.method} ${info.url}`),
  // One line per failure (the request is still answered): the message, not the stack.
  onError: (error, where) =>
    console.error(`postcache: ${where} failed: ${error instanceof Error ? error.message : String(error)}`),
});

export const config: Config = {
  path: "/*",
  // No `method` filter: Netlify's list (GET, POST, PUT, PATCH, DELETE, OPTIONS) has no QUERY, and
  // postcache passes every other method through untouched.
  // If the function fails, Netlify serves the request as if it were not there
  // (https://docs.netlify.com/build/edge-functions/declarations/).
  onError: "bypass",
};
