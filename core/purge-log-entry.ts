/** `postcache/purge-log`: edge-wide invalidation through a shared purge log (docs/purge.md). */
export * from "./purge-log.ts";
export { type CloudflareKvPurgeLogOptions, cloudflareKvPurgeLog, type KvNamespaceLike } from "./purge-logs/cloudflare-kv.ts";
export { type DenoKvPurgeLogOptions, denoKvPurgeLog, type KvLike } from "./purge-logs/deno-kv.ts";
export {
  type DurableObjectNamespaceLike,
  type DurableObjectStateLike,
  durableObjectPurgeLog,
  purgeLogObject,
} from "./purge-logs/durable-object.ts";
export { type EdgeOneKvLike, type EdgeOneKvPurgeLogOptions, edgeoneKvPurgeLog } from "./purge-logs/edgeone-kv.ts";
export { type MemoryPurgeLog, memoryPurgeLog, type PurgeLogBounds } from "./purge-logs/memory.ts";
export { type BlobStoreLike, type NetlifyBlobsPurgeLogOptions, netlifyBlobsPurgeLog } from "./purge-logs/netlify-blobs.ts";
export { type RedisPurgeLogOptions, redisPurgeLog } from "./purge-logs/redis.ts";
export { type UpstashRedisOptions, upstashRedis } from "./purge-logs/upstash.ts";
