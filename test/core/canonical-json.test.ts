import { describe, expect, test } from "bun:test";
import { canonicalJson } from "../../core/canonical-json.ts";

const canon = (text: string, ignore: string[] = []) => {
  const out = canonicalJson(
    new TextEncoder().encode(text),
    ignore.map((p) => p.split(".")),
  );
  return out && new TextDecoder().decode(out);
};

describe("canonical JSON", () => {
  test("sorts members at every depth and drops insignificant whitespace", () => {
    expect(canon(' { "b" : [ {"d":1, "c":2} ], "a" : null } ')).toBe('{"a":null,"b":[{"c":2,"d":1}]}');
  });

  test("compares strings by value and re-escapes them one way", () => {
    expect(canon('"\\u0041\\/"')).toBe('"A/"');
    expect(canon('{"\\u0062":1,"a":2}')).toBe('{"a":2,"b":1}');
  });

  test("keeps numbers exactly as written, so origins that parse them apart are not merged", () => {
    expect(canon("[1.0, 1, 1e2, 12345678901234567890, 12345678901234567891]")).toBe(
      "[1.0,1,1e2,12345678901234567890,12345678901234567891]",
    );
  });

  test("refuses what a guess could get wrong: duplicate names, invalid UTF-8, a BOM, invalid JSON", () => {
    expect(canon('{"a":1,"a":2}')).toBeUndefined();
    expect(canonicalJson(Uint8Array.of(0x22, 0xff, 0x22))).toBeUndefined();
    expect(canonicalJson(Uint8Array.of(0xef, 0xbb, 0xbf, 0x31))).toBeUndefined();
    for (const bad of ["", "{", "[1,]", "{'a':1}", "01", "1 2", "nul", '"\u0001"', "NaN", "[1]x"]) {
      expect(canon(bad)).toBeUndefined();
    }
  });

  test("nesting too deep for the stack falls back instead of crashing", () => {
    expect(canon("[".repeat(200_000) + "]".repeat(200_000))).toBeUndefined();
  });

  test("ignores dotted paths, through arrays too", () => {
    expect(canon('{"id":1,"q":"x","items":[{"ts":1,"n":2}]}', ["id", "items.ts"])).toBe('{"items":[{"n":2}],"q":"x"}');
  });
});
