import { describe, expect, test } from "bun:test";
import { decodeEntry, encodeEntry, entryFromJson, entryToJson } from "../../core/stores/codec.ts";
import { BINARY, entry } from "./conformance.ts";

describe("entry codec", () => {
  const original = entry({ body: BINARY, vary: [["x-a", null]], tags: ["t"] });

  test("binary form round trips", () => {
    expect(decodeEntry(encodeEntry(original), "t")).toEqual(original);
  });

  test("JSON form round trips through JSON text", () => {
    expect(entryFromJson(JSON.parse(JSON.stringify(entryToJson(original))), "t")).toEqual(original);
  });

  test("a truncated or foreign value is an error naming the store, never an entry", () => {
    const bytes = encodeEntry(original);
    expect(() => decodeEntry(bytes.subarray(0, 10), "redis")).toThrow(/\[postcache\] \[redis\]/);
    expect(() => decodeEntry(new TextEncoder().encode("hello world"), "redis")).toThrow(/\[redis\]/);
    expect(() => entryFromJson({ v: 1, body64: "", status: "200" }, "vercel")).toThrow(/\[vercel\]/);
    expect(() => entryFromJson(null, "vercel")).toThrow(/\[vercel\]/);
  });
});
