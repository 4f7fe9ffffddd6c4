/**
 * A Redis client over Upstash's REST API, for the Redis purge log where no TCP client runs (Vercel's
 * and Netlify's edge, Cloudflare, EdgeOne): `redisPurgeLog({ client: upstashRedis({ url, token }) })`.
 * Upstash is reached over plain HTTPS: a command is a JSON array (`["EVAL", script, "2", ...]`) posted to
 * the database's REST URL with `Authorization: Bearer <token>`, answered `{"result": ...}` or
 * `{"error": "..."}` (https://upstash.com/docs/redis/features/restapi). One database is one primary, so
 * the log is as consistent as Redis itself; Vercel's marketplace offers Upstash Redis for its projects.
 *
 * Only `send`, with string arguments: what the purge log needs. JSON carries text, not bytes, so this is
 * not a client for the Redis store's binary values. Each call is bounded by `timeoutMs` (the engine
 * bounds a log read too, but a hung fetch would hold its connection).
 */
import type { RedisSend } from "../stores/redis.ts";

export interface UpstashRedisOptions {
  /** The database's REST URL, e.g. `https://us1-merry-cat-32748.upstash.io`. */
  url: string;
  /** The database's REST token (not the read-only one: a purge writes). */
  token: string;
  /** Most ms a command may take. Default 2000. */
  timeoutMs?: number;
  /** The fetch to use (tests). Default the global `fetch`, looked up at call time. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
}

const NAME = "upstash-redis";

export function upstashRedis(options: UpstashRedisOptions): { send: RedisSend } {
  let url: URL;
  try {
    url = new URL(options?.url);
  } catch {
    throw new TypeError(`[postcache] [${NAME}] option "url" must be the database's REST URL (got ${String(options?.url)})`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new TypeError(`[postcache] [${NAME}] option "url" must be an http(s) URL`);
  }
  if (typeof options.token !== "string" || options.token === "") {
    throw new TypeError(`[postcache] [${NAME}] option "token" must be the database's REST token`);
  }
  const timeoutMs = options.timeoutMs ?? 2000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new TypeError(`[postcache] [${NAME}] option "timeoutMs" must be a positive number of ms (got ${timeoutMs})`);
  }
  const headers = { authorization: `Bearer ${options.token}`, "content-type": "application/json" };
  const target = url.href;
  return {
    async send(command, args) {
      if (args.some((arg) => typeof arg !== "string")) {
        throw new TypeError(`[postcache] [${NAME}] takes string arguments only (JSON carries no raw bytes)`);
      }
      const doFetch = options.fetch ?? fetch;
      const res = await doFetch(target, {
        method: "POST",
        headers,
        body: JSON.stringify([command, ...args]),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const reply = (await res.json().catch(() => undefined)) as { result?: unknown; error?: unknown } | undefined;
      // The error text is Redis's or Upstash's, never the token; a non-JSON answer says only its status.
      if (!res.ok || reply === undefined || "error" in reply) {
        const why = typeof reply?.error === "string" ? reply.error : `HTTP ${res.status}`;
        throw new Error(`[postcache] [${NAME}] ${command} failed: ${why}`);
      }
      return reply.result ?? null;
    },
  };
}
