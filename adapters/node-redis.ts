/**
 * The Redis store on node-redis (`redis` on npm, v6, an optional peer dependency), one server or a Redis
 * Cluster, under Node 20+, Bun and Deno (each tested): `nodeRedisStore({ url })`, `nodeRedisStore({
 * cluster: [urls] })`. Valkey is untested (docs/redis.md).
 *
 * Why node-redis rather than ioredis (both do Cluster, Lua and binary replies):
 * - Maintenance: node-redis is Redis's actively developed client (v6: RESP3, Node 20+); ioredis's README
 *   says it is maintained best-effort and recommends node-redis for new projects.
 * - Failing fast is one option, `disableOfflineQueue`, applied to every node of a cluster through
 *   `defaults`; ioredis needs several to agree (offline queue, per-request retries, Cluster's retry
 *   delays), and we tested node-redis only.
 * - Binary: a per-command type mapping returns `GET`'s bulk string as a `Buffer` (no second client).
 * - Cluster: `createCluster` follows MOVED/ASK and keeps a client per node, for `clear`'s SCAN per master.
 * - It imports only `node:` built-ins, so it runs unchanged under Node, Bun and Deno.
 *
 * While Redis is down, checked with redis 6.3.1 (test/stores/node-redis.test.ts, redis-cluster.test.ts):
 * store calls reject within milliseconds (`ClientOfflineError`), so postcache goes to the origin at once
 * and no queued command holds a body; node-redis reconnects with its backoff (50 ms doubling to 2 s,
 * forever). A client that stopped for good (a cluster whose nodes were all down at start, a reconnect
 * strategy of yours that gave up) is connected again by the next store call, one attempt at a time.
 * `error` events are handled (node-redis would throw them) and passed to `onError`.
 */
import { Buffer } from "node:buffer";
import { createClient, createCluster, RESP_TYPES } from "redis";
import {
  type RedisSend,
  type RedisStoreOptions,
  redisStore,
  type SendingRedisLike,
  type TaggedRedisStore,
} from "../core/stores/redis.ts";

export {
  DEFAULT_CLUSTER_SHARDS,
  DEFAULT_REDIS_PREFIX,
  type RedisLike,
  type RedisStore,
  type RedisStoreOptions,
  redisStore,
  type SendingRedisLike,
  type TaggedRedisStore,
} from "../core/stores/redis.ts";

type Arg = string | Buffer;
type Options = { typeMapping?: Record<number, unknown> };

interface Connectable {
  readonly isOpen: boolean;
  connect(): Promise<unknown>;
  on(event: "error", listener: (error: unknown) => void): unknown;
  listenerCount(event: "error"): number;
  destroy(): void;
}
/** What the store uses of a node-redis client (`createClient`). */
export interface NodeRedisClient extends Connectable {
  sendCommand(args: Arg[], options?: Options): Promise<unknown>;
}
/** What the store uses of a node-redis cluster client (`createCluster`). */
export interface NodeRedisCluster extends Connectable {
  readonly masters: { client?: NodeRedisClient }[];
  sendCommand(firstKey: Arg | undefined, isReadonly: boolean | undefined, args: Arg[], options?: Options): Promise<unknown>;
  nodeClient(node: never): Promise<NodeRedisClient>;
}

export interface NodeRedisOptions extends Omit<RedisStoreOptions, "client"> {
  /** One server, e.g. `redis://127.0.0.1:6379` (or `rediss://` for TLS). Default: node-redis's, localhost:6379. */
  url?: string | undefined;
  /** A Redis Cluster: the URLs of some of its nodes, to discover the rest from. */
  cluster?: string[] | undefined;
  /** A client of your own from `createClient` or `createCluster`; create it with `disableOfflineQueue: true`
   * (for a cluster, in `defaults`) so that it fails fast. Not connected yet, or connected: either works. */
  client?: NodeRedisClient | NodeRedisCluster | undefined;
  /** Connection errors the client reports (each failed reconnect, ...), when the client has no `error`
   * listener of its own. Default: ignored (failing store calls still reach postcache's `onError`). */
  onError?: ((error: unknown) => void) | undefined;
}

export interface NodeRedisStore extends TaggedRedisStore {
  /** The underlying client, e.g. to `destroy()` or `close()` it on shutdown. */
  readonly client: NodeRedisClient | NodeRedisCluster;
}

const BYTES: Options = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } };

function isCluster(client: NodeRedisClient | NodeRedisCluster): client is NodeRedisCluster {
  return Array.isArray((client as NodeRedisCluster).masters) && typeof (client as NodeRedisCluster).nodeClient === "function";
}

const asArg = (value: string | Uint8Array): Arg =>
  typeof value === "string" || Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);

/** The key a cluster routes a command by: an EVAL's first key in KEYS, else the first argument. */
function routingKey(command: string, args: Arg[]): Arg | undefined {
  if (/^(EVAL|EVALSHA|EVAL_RO|EVALSHA_RO|FCALL|FCALL_RO)$/i.test(command)) return Number(args[1]) > 0 ? args[2] : undefined;
  return args[0];
}

/**
 * A node-redis client or cluster as a `RedisLike`: binary-safe, failing fast while disconnected, and
 * connecting again when the client has stopped trying. On a cluster, `send` routes by key (see
 * `routingKey`) and `masters` lists a `send` per master, for SCAN.
 */
export function nodeRedis(
  client: NodeRedisClient | NodeRedisCluster,
  onError: (error: unknown) => void = () => {},
): SendingRedisLike {
  // node-redis emits connection errors as `error` events, which throw without a listener.
  if (client.listenerCount("error") === 0) client.on("error", onError);
  let connecting = false;
  const connect = () => {
    if (connecting || client.isOpen) return;
    connecting = true;
    client
      .connect()
      .catch(onError)
      .finally(() => {
        connecting = false;
      });
  };
  function ready(): void {
    if (client.isOpen) return;
    connect();
    throw new Error("[postcache] [redis] not connected to the server (reconnecting)");
  }
  // Connect now, so the first request finds the connection open; until then store calls fail fast.
  connect();
  const run = isCluster(client)
    ? (args: Arg[], readonly: boolean, options?: Options) =>
        client.sendCommand(routingKey(args[0] as string, args.slice(1)), readonly, args, options)
    : (args: Arg[], _readonly: boolean, options?: Options) => client.sendCommand(args, options);
  const guarded =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      ready();
      return call(...args);
    };
  const like: SendingRedisLike = {
    getBuffer: guarded(async (key) => (await run(["GET", key], true, BYTES)) as Buffer | null),
    set: guarded((key, value, mode, ms) => run(["SET", key, asArg(value), mode, String(ms)], false)),
    del: guarded(async (key) => Number(await run(["DEL", key], false))),
    send: guarded((command, args) => run([command, ...args.map(asArg)], false)),
  };
  if (isCluster(client)) {
    // Each master's own client (connected eagerly by node-redis unless minimizeConnections is set).
    like.masters = guarded(async () => {
      const nodes = await Promise.all(client.masters.map(async (node) => node.client ?? client.nodeClient(node as never)));
      return nodes.map(
        (node): RedisSend =>
          (command, args) =>
            node.sendCommand([command, ...args.map(asArg)]),
      );
    });
  }
  return like;
}

/**
 * @example
 * const store = nodeRedisStore({ url: process.env.REDIS_URL });
 * const response = await postcache.handle(request, store, fetcher);
 */
export function nodeRedisStore({ url, cluster, client, onError, ...options }: NodeRedisOptions = {}): NodeRedisStore {
  if ([url, cluster, client].filter((x) => x !== undefined).length > 1) {
    throw new TypeError('[postcache] [redis] give one of the options "url", "cluster" and "client"');
  }
  if (cluster !== undefined && (!Array.isArray(cluster) || cluster.length === 0)) {
    throw new TypeError('[postcache] [redis] option "cluster" must be a non-empty array of node URLs');
  }
  const redis =
    client ??
    (cluster
      ? createCluster({ rootNodes: cluster.map((node) => ({ url: node })), defaults: { disableOfflineQueue: true } })
      : createClient({ url, disableOfflineQueue: true }));
  return { ...redisStore({ ...options, client: nodeRedis(redis, onError) }), client: redis };
}
