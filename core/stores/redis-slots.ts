/**
 * Redis Cluster key slots, for the Redis store's sharded layout (core/stores/redis.ts). A cluster maps
 * every key to one of 16384 slots by CRC16 (XMODEM) of the key, or of its hash tag: the part between
 * the first `{` and the next `}` when that part is not empty
 * (https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#hash-tags). Keys with the
 * same hash tag share a slot, which a script touching several keys needs. Written here because it is a
 * dozen lines and core takes no dependencies.
 */

export const CLUSTER_SLOTS = 16384;

const encoder = new TextEncoder();
/** CRC16 table for polynomial 0x1021 (XMODEM), as in the cluster spec's appendix. */
const TABLE = Uint16Array.from({ length: 256 }, (_, byte) => {
  let crc = byte << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
  return crc & 0xffff;
});

export function crc16(text: string): number {
  let crc = 0;
  for (const byte of encoder.encode(text)) crc = ((crc << 8) ^ TABLE[((crc >> 8) ^ byte) & 0xff]) & 0xffff;
  return crc;
}

/** What Redis hashes for `key`: its hash tag if it has one, else the whole key. */
export function hashTagOf(key: string): string {
  const open = key.indexOf("{");
  if (open < 0) return key;
  const close = key.indexOf("}", open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

export function keySlot(key: string): number {
  return crc16(hashTagOf(key)) % CLUSTER_SLOTS;
}

/**
 * `count` short hash tags, the i-th hashing into the i-th of `count` equal ranges of slots. A cluster
 * gives each master contiguous slot ranges (`redis-cli --cluster create` splits 0-16383 evenly), so
 * evenly spaced tags spread the shards evenly over the masters, however many there are. Deterministic:
 * every instance computes the same tags.
 */
export function shardTags(count: number): string[] {
  const tags: string[] = new Array(count);
  let found = 0;
  for (let n = 0; found < count; n++) {
    const tag = n.toString(36);
    const range = Math.floor((keySlot(tag) * count) / CLUSTER_SLOTS);
    if (tags[range] === undefined) {
      tags[range] = tag;
      found++;
    }
  }
  return tags;
}
