import { expect, test } from "bun:test";
import { CLUSTER_SLOTS, crc16, hashTagOf, keySlot, shardTags } from "../../core/stores/redis-slots.ts";

test("CRC16 (XMODEM) and key slots as the cluster spec gives them", () => {
  // The spec's check value, and examples from https://redis.io/docs/latest/commands/cluster-keyslot/
  expect(crc16("123456789")).toBe(0x31c3);
  expect(keySlot("somekey")).toBe(11058);
  expect(keySlot("foo{hash_tag}")).toBe(2515);
  expect(keySlot("bar{hash_tag}")).toBe(2515);
});

test("hash tags: the first {...} with something inside, else the whole key", () => {
  expect(hashTagOf("{user1000}.following")).toBe("user1000");
  expect(hashTagOf("foo{}{bar}")).toBe("foo{}{bar}");
  expect(hashTagOf("foo{{bar}}zap")).toBe("{bar");
  expect(hashTagOf("foo{bar}{zap}")).toBe("bar");
  expect(hashTagOf("no tag")).toBe("no tag");
});

test("shard tags are distinct, deterministic, and each hashes into its own equal range of slots", () => {
  for (const count of [1, 3, 64, 1024]) {
    const tags = shardTags(count);
    expect(tags).toHaveLength(count);
    expect(new Set(tags).size).toBe(count);
    expect(shardTags(count)).toEqual(tags);
    tags.forEach((tag, i) => {
      expect(Math.floor((keySlot(tag) * count) / CLUSTER_SLOTS)).toBe(i);
    });
  }
});
