/**
 * postcache core: cache idempotent POST and QUERY responses, keyed by a SHA-256 digest of the body.
 * Web standards only, so every runtime can run it.
 */

export { type CacheStatusParams, cacheStatus } from "./cache-status.ts";
// canonicalJsonKey (postcache/canonical-json) and adminEndpoints (postcache/admin) are entries of their own.
export { isMutationPath } from "./exclusions.ts";
export { createPostcache, handlePost, type Postcache } from "./handler.ts";
export { type CacheKey, cacheKey, KEY_PATH } from "./key.ts";
export * from "./options.ts";
// The protocols themselves (graphql, jsonRpc, soap) are their own entry, postcache/protocols, so that
// bundles which do not use them carry none of their code.
export { type BodyClass, classifyBody, type Protocol, type ProtocolContext } from "./protocols/protocol.ts";
export { type CacheApiStoreOptions, type CacheLike, cacheApiStore } from "./stores/cache-api.ts";
// The shared tiers of the edge platforms (docs/purge.md, "A shared tier"); a bundle that imports
// neither carries neither (package.json: sideEffects false).
export { type CloudflareKvStoreOptions, cloudflareKvStore, type WorkersKvLike } from "./stores/cloudflare-kv.ts";
export { type DenoKvLike, type DenoKvStoreOptions, denoKvStore } from "./stores/deno-kv.ts";
export {
  cacheStoreObject,
  type DurableObjectStoreNamespaceLike,
  type DurableObjectStoreOptions,
  durableObjectStore,
  type SqlDurableObjectStateLike,
} from "./stores/durable-object.ts";
export { type MemoryStore, type MemoryStoreOptions, memoryStore } from "./stores/memory.ts";
export { DEFAULT_REDIS_PREFIX, type RedisLike, type RedisStoreOptions, redisStore } from "./stores/redis.ts";
export { type TieredStoreOptions, tieredStore } from "./stores/tiered.ts";
export type * from "./types.ts";
