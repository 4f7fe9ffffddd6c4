/**
 * Canonical JSON for cache keys: two documents that differ only in member order or insignificant
 * whitespace give the same text. Strict where a guess could serve a wrong answer:
 * - duplicate member names are refused (parsers disagree on which one wins, RFC 8259 §4);
 * - numbers are kept exactly as written (`1.0` and `1` stay distinct: origins may parse them apart);
 * - strings are compared by value (`"\u0041"` equals `"A"`), re-escaped deterministically.
 * Anything else that is not valid JSON (RFC 8259), including invalid UTF-8 or a byte-order mark,
 * returns `undefined` and the caller keys on the raw bytes.
 */
import type { BodyKey } from "./types.ts";

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

export interface CanonicalJsonKeyOptions {
  /** Dotted paths left out of the key (`requestId`, `meta.sentAt`); a path applies through arrays. */
  ignoreFields?: string[] | undefined;
}

/**
 * Keys JSON bodies (`application/json`, `*+json`) by their canonical form, so member order and
 * whitespace do not matter; anything that is not strict JSON is keyed by its bytes. Its own entry, so
 * that bundles which do not use it carry none of its code.
 *
 * @example
 * import { canonicalJsonKey } from "postcache/canonical-json";
 * createPostcache({ bodyKey: canonicalJsonKey({ ignoreFields: ["requestId"] }) });
 */
export function canonicalJsonKey(options: CanonicalJsonKeyOptions = {}): BodyKey {
  const fields = options.ignoreFields ?? [];
  if (!Array.isArray(fields) || fields.some((f) => typeof f !== "string" || f === "")) {
    throw new TypeError('[postcache] canonicalJsonKey: option "ignoreFields" must be an array of non-empty strings');
  }
  const ignore = fields.map((path) => path.split("."));
  return (body, headers) => (isJson(headers.get("content-type")) ? canonicalJson(body, ignore) : undefined);
}

/** `application/json`, or any `+json` structured syntax suffix (RFC 6839 §3.1). */
function isJson(contentType: string | null): boolean {
  if (!contentType) return false;
  const type = contentType.split(";")[0].trim().toLowerCase();
  return type === "application/json" || type.endsWith("+json");
}

export function canonicalJson(bytes: Uint8Array, ignore: readonly string[][] = []): Uint8Array | undefined {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return undefined;
  }
  try {
    const parser = new Parser(text, ignore);
    const out = parser.document();
    return encoder.encode(out);
  } catch {
    // Invalid JSON, duplicate names, or nesting too deep for the stack: key on the raw bytes.
    return undefined;
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;

class Parser {
  private i = 0;
  constructor(
    private readonly text: string,
    private readonly ignore: readonly string[][],
  ) {}

  document(): string {
    const value = this.value([]);
    this.space();
    if (this.i !== this.text.length) throw new SyntaxError("trailing data");
    return value;
  }

  private space(): void {
    WHITESPACE.lastIndex = this.i;
    WHITESPACE.test(this.text);
    this.i = WHITESPACE.lastIndex;
  }

  private value(path: string[]): string {
    this.space();
    const c = this.text[this.i];
    if (c === "{") return this.object(path);
    if (c === "[") return this.array(path);
    if (c === '"') return JSON.stringify(this.string());
    for (const literal of ["true", "false", "null"]) {
      if (this.text.startsWith(literal, this.i)) {
        this.i += literal.length;
        return literal;
      }
    }
    NUMBER.lastIndex = this.i;
    const match = NUMBER.exec(this.text);
    if (!match) throw new SyntaxError(`unexpected character at ${this.i}`);
    this.i = NUMBER.lastIndex;
    return match[0];
  }

  private string(): string {
    const start = this.i;
    let j = start + 1;
    for (;;) {
      const c = this.text.charCodeAt(j);
      if (Number.isNaN(c)) throw new SyntaxError("unterminated string");
      if (c === 0x22) break;
      j += c === 0x5c ? 2 : 1;
    }
    this.i = j + 1;
    // JSON.parse validates escapes and rejects raw control characters.
    return JSON.parse(this.text.slice(start, j + 1)) as string;
  }

  private object(path: string[]): string {
    this.i++; // {
    const members: [string, string][] = [];
    const seen = new Set<string>();
    this.space();
    if (this.text[this.i] === "}") {
      this.i++;
      return "{}";
    }
    for (;;) {
      this.space();
      if (this.text[this.i] !== '"') throw new SyntaxError("expected a member name");
      const name = this.string();
      if (seen.has(name)) throw new SyntaxError(`duplicate member ${name}`);
      seen.add(name);
      this.space();
      if (this.text[this.i++] !== ":") throw new SyntaxError("expected ':'");
      const childPath = this.ignore.length > 0 ? [...path, name] : path;
      const value = this.value(childPath);
      if (!this.ignored(childPath)) members.push([name, value]);
      this.space();
      const c = this.text[this.i++];
      if (c === "}") break;
      if (c !== ",") throw new SyntaxError("expected ',' or '}'");
    }
    // Code-unit order, as JCS (RFC 8785 §3.2.3) sorts.
    members.sort((a, b) => (a[0] < b[0] ? -1 : 1));
    return `{${members.map(([n, v]) => `${JSON.stringify(n)}:${v}`).join(",")}}`;
  }

  private array(path: string[]): string {
    this.i++; // [
    const items: string[] = [];
    this.space();
    if (this.text[this.i] === "]") {
      this.i++;
      return "[]";
    }
    for (;;) {
      items.push(this.value(path));
      this.space();
      const c = this.text[this.i++];
      if (c === "]") break;
      if (c !== ",") throw new SyntaxError("expected ',' or ']'");
    }
    return `[${items.join(",")}]`;
  }

  private ignored(path: string[]): boolean {
    return this.ignore.some((p) => p.length === path.length && p.every((part, k) => part === path[k]));
  }
}
