/**
 * The GraphQL lexer and document reader (October 2021 edition, §2.1, §2.2, §2.3, §6.1), unit by unit:
 * what is insignificant disappears, what is significant (strings above all) is kept byte for byte, and
 * what is not a valid document is refused rather than guessed at.
 */
import { describe, expect, test } from "bun:test";
import {
  graphqlTokens,
  normalizeGraphql,
  type Operation,
  operationsOf,
  selectOperation,
} from "../../../core/protocols/graphql.ts";

const ops = (source: string) => {
  const tokens = graphqlTokens(source);
  return tokens && operationsOf(tokens);
};

describe("lexer: Ignored tokens (§2.1.7) are dropped", () => {
  test("white space, line terminators (LF, CR, CRLF) and commas separate tokens and nothing more", () => {
    const forms = ["query Q { a b }", "query Q{a,b}", "query\tQ\r\n{\ra\n,,,b,}", ",query,Q,{,a,b,},"];
    for (const form of forms) expect(normalizeGraphql(form)).toBe("query Q { a b }");
  });

  test("comments run to the end of the line (§2.1.4), whatever they contain", () => {
    const source = '# leading "quote\nquery Q { # { unbalanced\n  a # "b"\n  b\r# last line without newline';
    expect(normalizeGraphql(source)).toBe("query Q { a b");
  });

  test("a byte order mark is ignored anywhere (§2.1.1)", () => {
    expect(normalizeGraphql("\ufeff{ a\ufeff b }")).toBe("{ a b }");
  });

  test("the normal form is a fixed point", () => {
    const once = normalizeGraphql('query Q($v: [Int!]! = [1, 2]) @dir(x: {y: "z , #"}) { a(b: $v) { ...F } }') ?? "";
    expect(normalizeGraphql(once)).toBe(once);
  });
});

describe("lexer: strings are kept exactly as written (§2.9.4)", () => {
  test("a # inside a string is not a comment", () => {
    expect(graphqlTokens('{ a(s: "# not a comment") b }')).toEqual(["{", "a", "(", "s", ":", '"# not a comment"', ")", "b", "}"]);
  });

  test("white space and commas inside strings are significant", () => {
    expect(normalizeGraphql('{ a(s: "x  y,") }')).toBe('{ a ( s : "x  y," ) }');
    expect(normalizeGraphql('{ a(s: "x  y,") }')).not.toBe(normalizeGraphql('{ a(s: "x y,") }'));
  });

  test("block strings keep comments, quotes, newlines and indentation inside them", () => {
    const block = '"""\n  # not a comment\n  "quoted" and ""two"" \\n stays\n"""';
    expect(graphqlTokens(`{ a(s: ${block}) }`)).toEqual(["{", "a", "(", "s", ":", block, ")", "}"]);
  });

  test('only \\""" escapes inside a block string; other backslashes are literal', () => {
    const block = '"""a \\""" still inside \\\\""" b"""';
    // `\\"""`: the first backslash is literal, the second escapes the quotes, so the string goes on.
    expect(graphqlTokens(block)).toEqual([block]);
    expect(graphqlTokens('"""ends here""" b')).toEqual(['"""ends here"""', "b"]);
  });

  test("unicode escapes: exactly four hex digits (the braced form came after October 2021)", () => {
    expect(graphqlTokens('"\\u00e9\\u00E9"')).toEqual(['"\\u00e9\\u00E9"']);
    expect(graphqlTokens('"\\u00g9"')).toBeUndefined();
    expect(graphqlTokens('"\\u00e"')).toBeUndefined();
    expect(graphqlTokens('"\\u{1F600}"')).toBeUndefined();
    // An escape and the character it stands for are different source text: different keys, never merged.
    expect(normalizeGraphql('"\\u0041"')).not.toBe(normalizeGraphql('"A"'));
  });

  test('the escapes of §2.9.4 are accepted, others are not: \\" \\\\ \\/ \\b \\f \\n \\r \\t', () => {
    expect(graphqlTokens('"\\" \\\\ \\/ \\b \\f \\n \\r \\t"')).toHaveLength(1);
    expect(graphqlTokens('"\\x41"')).toBeUndefined();
    expect(graphqlTokens('"\\a"')).toBeUndefined();
    expect(graphqlTokens('"\\# not an escape"')).toBeUndefined();
  });

  test("non-ASCII text, including characters outside the BMP, may appear in strings and comments", () => {
    expect(graphqlTokens('{ a(s: "café 😀 猫") } # ねこ 😀')).toEqual(["{", "a", "(", "s", ":", '"café 😀 猫"', ")", "}"]);
  });

  test("unterminated strings and line breaks inside a plain string are errors", () => {
    expect(graphqlTokens('{ a(s: "open) }')).toBeUndefined();
    expect(graphqlTokens('"line\nbreak"')).toBeUndefined();
    expect(graphqlTokens('"""never closed')).toBeUndefined();
    expect(graphqlTokens('"""closed only by an escape \\"""')).toBeUndefined();
  });

  test('"" is the empty string, """ opens a block string', () => {
    expect(graphqlTokens('"" a')).toEqual(['""', "a"]);
    expect(graphqlTokens('"""""" a')).toEqual(['""""""', "a"]);
  });
});

describe("lexer: source characters, names, numbers, punctuators", () => {
  test("C0 controls other than tab, LF and CR are not source characters, even in strings and comments (§2.1)", () => {
    expect(graphqlTokens('"bell \u0007"')).toBeUndefined();
    expect(graphqlTokens("# nul \u0000\n{ a }")).toBeUndefined();
    expect(graphqlTokens('"tab\tok"')).toEqual(['"tab\tok"']);
  });

  test("numbers obey their lookahead restrictions (§2.9.1, §2.9.2)", () => {
    for (const good of ["0", "-0", "123", "-4.5", "1e5", "1.5E-3", "6.02e+23"]) expect(graphqlTokens(good)).toEqual([good]);
    for (const bad of ["0123", "123abc", "1.", "1.5.3", "1e", ".5", "- 1", "1_000"]) expect(graphqlTokens(bad)).toBeUndefined();
  });

  test("names are ASCII letters, digits and underscores, longest match (§2.1.9)", () => {
    expect(graphqlTokens("_a1 B2_")).toEqual(["_a1", "B2_"]);
    expect(graphqlTokens("café")).toBeUndefined();
  });

  test("punctuators (§2.1.8), `...` as one token, and nothing else", () => {
    expect(graphqlTokens("! $ & ( ) ... : = @ [ ] { | }")).toHaveLength(14);
    expect(graphqlTokens("{ ...F }")).toEqual(["{", "...", "F", "}"]);
    for (const bad of ["..", "....", "%", "a;b", "<"]) expect(graphqlTokens(bad)).toBeUndefined();
  });
});

describe("documents: operations (§2.2, §2.3) and which one runs (§6.1)", () => {
  test("query shorthand, named and anonymous operations of each type", () => {
    expect(ops("{ a }")).toEqual([{ type: "query" }]);
    expect(ops("query { a }")).toEqual([{ type: "query" }]);
    expect(ops("query Q($v: Int) { a }")).toEqual([{ type: "query", name: "Q" }]);
    expect(ops("mutation M { a }")).toEqual([{ type: "mutation", name: "M" }]);
    expect(ops("subscription @live { a }")).toEqual([{ type: "subscription" }]);
    // `mutation` as a name: the keyword is the first token of a definition, not any token.
    expect(ops("query mutation { mutation }")).toEqual([{ type: "query", name: "mutation" }]);
  });

  test("braces inside variable defaults and directive arguments do not end a definition", () => {
    const source = 'query Q($f: In = {a: {b: [1]}}) @dir(o: {x: "}"}) { a(f: $f) { b } } mutation M { c }';
    expect(ops(source)).toEqual([
      { type: "query", name: "Q" },
      { type: "mutation", name: "M" },
    ]);
  });

  test("fragments are skipped, not counted as operations", () => {
    expect(ops("fragment F on T { a { b } } query Q { ...F } fragment G on T { c }")).toEqual([{ type: "query", name: "Q" }]);
    expect(ops("fragment F on T { a }")).toBeUndefined();
  });

  test("anything not executable, or not balanced, is refused", () => {
    for (const bad of [
      "type Query { a: Int }",
      "schema { query: Q }",
      '"description" query Q { a }',
      "query Q { a ",
      "query Q { a ) }",
      "query Q ( { a }",
      "{ a } }",
      "",
    ]) {
      expect(ops(bad)).toBeUndefined();
    }
  });

  test("GetOperation: the only operation, or the one named; anything else is no operation", () => {
    const two: Operation[] = [
      { type: "query", name: "A" },
      { type: "mutation", name: "B" },
    ];
    expect(selectOperation(two, "A")).toEqual(two[0]);
    expect(selectOperation(two, "B")).toEqual(two[1]);
    expect(selectOperation(two, undefined)).toBeUndefined();
    expect(selectOperation(two, "C")).toBeUndefined();
    expect(selectOperation([{ type: "query" }], undefined)).toEqual({ type: "query" });
    expect(selectOperation([{ type: "query" }], "Q")).toBeUndefined();
    // §5.2.1.1: names are unique; a document breaking that is not guessed at.
    expect(selectOperation([two[0], { type: "mutation", name: "A" }], "A")).toBeUndefined();
  });

  test("a megabyte-long string lexes in linear time", () => {
    const started = performance.now();
    const tokens = graphqlTokens(`{ a(s: "${"x".repeat(1024 * 1024)}") }`);
    expect(tokens).toHaveLength(8);
    expect(graphqlTokens(`{ a(s: """${"y".repeat(1024 * 1024)}""") }`)).toHaveLength(8);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
