/**
 * The Redis store on node-redis (`redis` on npm, v6), for any runtime with Node's `net`: Node 20+, Bun,
 * and Deno through npm. One server or a Redis Cluster; Valkey too (it speaks the same protocol).
 *
 *   nodeRedisStore({ url: "redis://10.0.0.5:6379" })
 *   nodeRedisStore({ cluster: ["redis://10.0.0.5:7000", "redis://10.0.0.6:7000"] })
 *
 * Why node-redis rather than ioredis (https://github.com/redis/node-redis, .../redis/ioredis):
 * - Maintenance: node-redis is Redis's actively developed client (v6, 2026: RESP3 by default, Node 20
 *   or later). ioredis's own README says it is maintained on a best-effort basis and recommends
 *   node-redis for new projects.
 * - Cluster: `createCluster` follows MOVED/ASK, refreshes the topology, and keeps one client per node,
 *   which gives `clear` a SCAN per master (`masters`).
 * - Binary: a per-command type mapping returns bulk strings as `Buffer`, so `GET` is byte-exact with no
 *   second client; arguments are sent as raw bytes when they are Buffers.
 * - Failing fast: one option, `disableOfflineQueue`, makes a command on a disconnected client reject at
 *   once, on every node of a cluster too (through `defaults`), while the client reconnects by itself.
 *   ioredis can do this as well, but through several settings that must line up (its offline queue,
 *   per-request retries, and Cluster's own retry delays); we tested node-redis only.
 * - It imports only `node:` built-ins, so it runs unchanged under Node, Bun and Deno (tested in all three).
 *
 * Behaviour while Redis is down, checked with redis 6.3.1 (test/stores/node-redis.test.ts,
 * test/stores/redis-cluster.test.ts): store calls reject within milliseconds (`ClientOfflineError`), so
 * postcache goes to the origin at once and no command holds a body in memory; node-redis reconnects
 * with its default backoff (50 ms doubling to 2 s, for ever); if the client has stopped for good (a
 * cluster whose root nodes were all down at start, or a client of yours whose reconnect strategy gave
 * up), the next store call starts `connect()` again, one attempt at a time. A command already sent when
 * the connection drops rejects when it does. `error` events are handled (node-redis would otherwise
 * throw them) and passed to `onError`.
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

/** What the store uses of a node-redis client (`createClient`). */
export interface NodeRedisClient {
  readonly isOpen: boolean;
  sendCommand(args: Arg[], options?: Options): Promise<unknown>;
  connect(): Promise<unknown>;
  on(event: "error", listener: (error: unknown) => void): unknown;
  listenerCount(event: "error"): number;
  destroy(): void;
}

/** What the store uses of a node-redis cluster client (`createCluster`). */
export interface NodeRedisCluster {
  readonly isOpen: boolean;
  readonly masters: { client?: NodeRedisClient; address: string }[];
  sendCommand(firstKey: Arg | undefined, isReadonly: boolean | undefined, args: Arg[], options?: Options): Promise<unknown>;
  nodeClient(node: never): Promise<NodeRedisClient>;
  connect(): Promise<unknown>;
  on(event: "error", listener: (error: unknown) => void): unknown;
  listenerCount(event: "error"): number;
  destroy(): void;
}

export interface NodeRedisOptions extends Omit<RedisStoreOptions, "client"> {
  /** One server, e.g. `redis://127.0.0.1:6379` (or `rediss://` for TLS). Default: node-redis's, localhost:6379. */
  url?: string;
  /** A Redis Cluster: the URLs of some of its nodes, to discover the rest from. */
  cluster?: string[];
  /** A client of your own from `createClient` or `createCluster`; create it with `disableOfflineQueue: true`
   * (for a cluster, in `defaults`) so that it fails fast. Not connected yet, or connected: either works. */
  client?: NodeRedisClient | NodeRedisCluster;
  /** Connection errors the client reports (each failed reconnect, ...), when the client has no `error`
   * listener of its own. Default: ignored (failing store calls still reach postcache's `onError`). */
  onError?: (error: unknown) => void;
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
  const send: RedisSend = async (command, args) => {
    ready();
    return run([command, ...args.map(asArg)], false);
  };
  const like: SendingRedisLike = {
    async getBuffer(key) {
      ready();
      return (await run(["GET", key], true, BYTES)) as Buffer | null;
    },
    async set(key, value, mode, ms) {
      ready();
      return run(["SET", key, asArg(value), mode, String(ms)], false);
    },
    async del(key) {
      ready();
      return Number(await run(["DEL", key], false));
    },
    send,
  };
  if (isCluster(client)) {
    like.masters = async () => {
      ready();
      // Each master's own client (connected eagerly by node-redis unless minimizeConnections is set).
      const nodes = await Promise.all(client.masters.map(async (node) => node.client ?? client.nodeClient(node as never)));
      return nodes.map(
        (node) => (command: string, args: (string | Uint8Array)[]) => node.sendCommand([command, ...args.map(asArg)]),
      );
    };
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
