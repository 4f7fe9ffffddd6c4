/**
 * Redis purge log: one sorted set, member = target, score = its latest purge time (ms), and a floor key.
 * Each call is one Lua script, atomic (https://redis.io/docs/latest/develop/programmability/eval-intro/):
 * `record` keeps the later time, drops targets past `retentionMs` (ZREMRANGEBYSCORE) and, past
 * `maxTargets`, the oldest (ZPOPMIN, Redis 5+) raising the floor; `read` is one round trip. Both keys
 * share the hash tag `{purge-log}`, so the scripts run on Redis Cluster too
 * (https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#hash-tags). Any client
 * with `send` fits, Bun's or node-redis (adapters/bun-redis.ts, adapters/node-redis.ts).
 */
import type { PurgeLog, PurgeState } from "../purge-log.ts";
import type { RedisSend } from "../stores/redis.ts";
import { bounds, type PurgeLogBounds } from "./memory.ts";

export interface RedisPurgeLogOptions extends PurgeLogBounds {
  /** A connected client with `send` (the Redis store's `RedisLike`). */
  client: { send: RedisSend };
  /** Prepended to the log's two keys. Default `postcache:`. */
  prefix?: string;
}

const RECORD = `
local cur = redis.call('ZSCORE', KEYS[1], ARGV[1])
if (not cur) or tonumber(cur) < tonumber(ARGV[2]) then redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
local over = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[4])
if over > 0 then
  local popped = redis.call('ZPOPMIN', KEYS[1], over)
  local top = popped[#popped]
  local floor = redis.call('GET', KEYS[2])
  if (not floor) or tonumber(floor) < tonumber(top) then redis.call('SET', KEYS[2], top) end
end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[5]) end
return 1`;

const READ = `
return {redis.call('GET', KEYS[2]) or '0', redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf', 'WITHSCORES')}`;

export function redisPurgeLog(options: RedisPurgeLogOptions): PurgeLog {
  if (typeof options?.client?.send !== "function") {
    throw new TypeError('[postcache] [redis-purge-log] option "client" must have send(command, args)');
  }
  const { retentionMs, maxTargets, now } = bounds("redis-purge-log", options);
  const prefix = options.prefix ?? "postcache:";
  const keys = [`${prefix}{purge-log}`, `${prefix}{purge-log}:floor`];
  const send = options.client.send.bind(options.client);
  return {
    name: "redis",
    async record(target, at) {
      const args = [String(at), String(now() - retentionMs), String(maxTargets), String(retentionMs)];
      await send("EVAL", [RECORD, "2", ...keys, target, ...args]);
    },
    async read(): Promise<PurgeState> {
      const reply = await send("EVAL", [READ, "2", ...keys, String(now() - retentionMs)]);
      if (!Array.isArray(reply) || reply.length !== 2 || !Array.isArray(reply[1])) {
        throw new Error("[postcache] [redis-purge-log] unexpected reply to the read script");
      }
      const [floor, flat] = reply as [unknown, unknown[]];
      const purges: Record<string, number> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) purges[text(flat[i])] = Number(text(flat[i + 1]));
      return { floor: Number(text(floor)) || 0, purges };
    },
  };
}

/** RESP bulk strings arrive as strings from Bun's client, as strings or Buffers from others. */
function text(value: unknown): string {
  return value instanceof Uint8Array ? new TextDecoder().decode(value) : String(value);
}
