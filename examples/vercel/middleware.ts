/**
 * postcache as Vercel Routing Middleware: caches POST/QUERY answers in the Runtime Cache, in front of
 * ORIGIN (a project environment variable) or, without it, in front of this deployment's own routes.
 * See README.md for deploying it. Edit `rules` and `exclude` to fit your API.
 */
import { postcacheVercel } from "postcache/vercel";

export default postcacheVercel({
  origin: process.env.ORIGIN || undefined,
  // Answers without Cache-Control are kept this long (seconds).
  defaultTtl: 60,
  rules: [{ match: "/search*", ttl: 300, staleWhileRevalidate: 60 }],
  exclude: ["/admin/*"],
  // No line per request (middleware CPU is billed); to see each one in the logs, add:
  //   onResult: (info) => console.log(`${info.outcome} ${info.status} ${info.method} ${info.url}`),
  // One line per failure (the request is still answered): the message, not the stack.
  onError: (error, where) =>
    console.error(`postcache: ${where} failed: ${error instanceof Error ? error.message : String(error)}`),
});

// Where the middleware runs: every path, which a proxy in front of ORIGIN needs; narrow it to the APIs
// worth caching when it fronts your own routes. Vercel reads this as a literal `export const config`
// (https://vercel.com/docs/routing-middleware/api#config-object): keep it a plain object literal.
export const config = { matcher: "/:path*" };
