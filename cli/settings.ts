/**
 * What the `postcache` command is told: flags, each also an environment variable (a flag wins), and
 * the options of a config file. Every mistake is a `UsageError`: one line, naming the flag, variable
 * or file, and exit code 2.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type { PostcacheOptions } from "../core/options.ts";

/** A mistake in how the command was called: printed as one line, exit 2. */
export class UsageError extends Error {
  name = "UsageError";
}

export interface Settings {
  /** Where misses go; absent with `demo`, which starts the built-in demo origin. */
  origin?: string;
  demo: boolean;
  port: number;
  host: string;
  config?: string;
  options: PostcacheOptions;
  redis?: string;
  /** A Redis URL: purges reach every process through a purge log there (core/purge-log.ts). */
  purgeLog?: string;
  /** How often, at most, each process reads the purge log, in ms. */
  purgeCheckMs: number;
  /** The in-memory store's cap, in MiB (without --redis). */
  cacheMb: number;
  log: "text" | "json" | "off";
  adminToken?: string;
  /** Longest wait for in-flight requests on SIGTERM/SIGINT, in ms. */
  shutdownTimeoutMs: number;
}

export const USAGE = `postcache: cache the answers to POST and QUERY requests, in front of your API

Usage: postcache --origin <url> [options]

  --origin <url>             where misses go, e.g. https://api.example.com          POSTCACHE_ORIGIN, ORIGIN
  --port <n>                 port to listen on (default 8787; 0 picks a free one)   POSTCACHE_PORT, PORT
  --host <addr>              address to listen on (default 127.0.0.1)               POSTCACHE_HOST, HOST
  --config <file>            options: a .json file, or a .js/.mjs/.ts module        POSTCACHE_CONFIG
                             whose default export is the options object
  --redis <url>              share one cache through Redis, e.g. redis://10.0.0.5   POSTCACHE_REDIS, REDIS_URL
  --purge-log <url>          keep this process's cache, share purges through Redis  POSTCACHE_PURGE_LOG
  --purge-check-ms <n>       how often the purge log is read (default 1000)         POSTCACHE_PURGE_CHECK_MS
  --cache-mb <n>             in-memory cache size in MiB (default 64)               POSTCACHE_CACHE_MB
  --log <text|json|off>      one line per request (default text)                    POSTCACHE_LOG
  --admin-token-file <file>  turns on /.postcache/stats, purge and metrics          POSTCACHE_ADMIN_TOKEN_FILE
                             (or the token itself in POSTCACHE_ADMIN_TOKEN)
  --shutdown-timeout <ms>    wait for in-flight requests on SIGTERM (default 10000) POSTCACHE_SHUTDOWN_TIMEOUT
  --demo                     without an origin, start the built-in demo origin
  --help                     this text

GET /.postcache/health answers 200 while the server runs. Docs: docs/cli.md.`;

const FLAGS = {
  origin: { type: "string" },
  port: { type: "string" },
  host: { type: "string" },
  config: { type: "string" },
  redis: { type: "string" },
  "purge-log": { type: "string" },
  "purge-check-ms": { type: "string" },
  "cache-mb": { type: "string" },
  log: { type: "string" },
  "admin-token-file": { type: "string" },
  "shutdown-timeout": { type: "string" },
  demo: { type: "boolean" },
  help: { type: "boolean" },
} as const;

type Env = Record<string, string | undefined>;

/** The settings from `argv` (without the runtime and script) and `env`; undefined for --help. */
export async function readSettings(argv: string[], env: Env): Promise<Settings | undefined> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split("\n")[0]} (postcache --help lists the flags)`);
  }
  if (values.help) return undefined;
  const pick = (flag: keyof typeof FLAGS, ...names: string[]): string | undefined => {
    const value = values[flag];
    if (typeof value === "string") return value;
    for (const name of names) if (env[name]) return env[name];
    return undefined;
  };
  const origin = pick("origin", "POSTCACHE_ORIGIN", "ORIGIN");
  const demo = values.demo === true;
  if (!origin && !demo) throw new UsageError("--origin is required, e.g. postcache --origin https://api.example.com");
  if (origin && !/^https?:\/\/[^/?#]+/.test(origin)) {
    throw new UsageError(`--origin must be an absolute http(s) URL (got ${JSON.stringify(origin)})`);
  }
  const log = pick("log", "POSTCACHE_LOG") ?? "text";
  if (log !== "text" && log !== "json" && log !== "off")
    throw new UsageError(`--log must be text, json or off (got ${JSON.stringify(log)})`);
  const config = pick("config", "POSTCACHE_CONFIG");
  const settings: Settings = {
    demo,
    port: integer("--port", pick("port", "POSTCACHE_PORT", "PORT") ?? "8787", 0, 65535),
    host: pick("host", "POSTCACHE_HOST", "HOST") ?? "127.0.0.1",
    options: config ? await loadConfig(config) : {},
    purgeCheckMs: integer("--purge-check-ms", pick("purge-check-ms", "POSTCACHE_PURGE_CHECK_MS") ?? "1000", 0, 3_600_000),
    cacheMb: integer("--cache-mb", pick("cache-mb", "POSTCACHE_CACHE_MB") ?? "64", 1, 1_048_576),
    log,
    shutdownTimeoutMs: integer(
      "--shutdown-timeout",
      pick("shutdown-timeout", "POSTCACHE_SHUTDOWN_TIMEOUT") ?? "10000",
      0,
      3_600_000,
    ),
  };
  if (origin) settings.origin = origin;
  if (config) settings.config = config;
  const redis = pick("redis", "POSTCACHE_REDIS", "REDIS_URL");
  if (redis) settings.redis = redis;
  const purgeLog = pick("purge-log", "POSTCACHE_PURGE_LOG");
  if (purgeLog && !/^rediss?:\/\//.test(purgeLog))
    throw new UsageError(`--purge-log must be a redis:// or rediss:// URL (got ${JSON.stringify(purgeLog)})`);
  // One Redis cache is already one place: its purges reach every process without a log.
  if (purgeLog && redis)
    throw new UsageError("--purge-log is for per-process caches; with --redis every purge is already shared");
  if (purgeLog) settings.purgeLog = purgeLog;
  const token = adminToken(pick("admin-token-file", "POSTCACHE_ADMIN_TOKEN_FILE"), env.POSTCACHE_ADMIN_TOKEN);
  if (token) settings.adminToken = token;
  return settings;
}

function integer(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max)
    throw new UsageError(`${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)})`);
  return n;
}

/** The admin token from its file (trimmed) or the variable; at least 16 characters. */
function adminToken(file: string | undefined, direct: string | undefined): string | undefined {
  let token = direct;
  let from = "POSTCACHE_ADMIN_TOKEN";
  if (file) {
    from = file;
    try {
      token = readFileSync(file, "utf8").trim();
    } catch (error) {
      throw new UsageError(`--admin-token-file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  if (token !== undefined && token.length < 16) {
    throw new UsageError(
      `${from}: the admin token must be at least 16 characters (got ${token.length}); try: openssl rand -hex 16`,
    );
  }
  return token;
}

/** A config file's options: JSON, or a module's default export (functions such as `scope` allowed). */
export async function loadConfig(file: string): Promise<PostcacheOptions> {
  const path = resolve(file);
  let options: unknown;
  try {
    if (path.endsWith(".json")) options = JSON.parse(readFileSync(path, "utf8"));
    else {
      const module = await import(pathToFileURL(path).href);
      options = module.default ?? module;
    }
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message.split("\n")[0];
    const hint = path.endsWith(".ts") && !("Bun" in globalThis) ? " (a .ts config needs Bun, or Node 22.18+)" : "";
    throw new UsageError(`${file}: ${why}${hint}`);
  }
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new UsageError(`${file}: must hold an object of postcache options`);
  }
  return options as PostcacheOptions;
}
