/**
 * JSON-RPC 2.0 (https://www.jsonrpc.org/specification): a request is judged by its `method`. The `id`
 * differs per call and changes nothing in the result, so it is left out of the key, and every answer
 * served from the cache carries the `id` of the request it answers (§5: the response's id "MUST be the
 * same as the value of the id member in the Request Object"), copied as written, so large numbers
 * keep every digit.
 */
import { canonicalJson } from "../canonical-json.ts";
import { type BodyClass, encoder, isJsonType, isObject, judgeName, type NameRules, parseJson, utf8 } from "./rules.ts";

/** JSON-RPC settings after validation. */
export interface ResolvedJsonRpc {
  paths: RegExp[];
  methods: NameRules;
}

/** The class of a JSON-RPC request, or undefined if the body is not one (then it is cached as any body). */
export function classifyJsonRpc(headers: Headers, bytes: Uint8Array, rules: ResolvedJsonRpc): BodyClass | undefined {
  if (!isJsonType(headers.get("content-type"))) return undefined;
  const text = utf8(bytes);
  const value = parseJson(text);
  const bypass = (reason: string): BodyClass => ({ protocol: "jsonrpc", bypass: `jsonrpc-${reason}` });
  // §6: a batch's calls may be anything, notifications included, and are answered in any order.
  if (Array.isArray(value)) return value.some(isCall) ? bypass("batch") : undefined;
  if (!isCall(value) || text === undefined) return undefined;
  // Another version (bitcoind's "1.0"): its notifications and rules differ; not guessed at.
  if (value.jsonrpc !== "2.0") return bypass("version");
  // §4.1: a request without an `id` is a notification: the client expects no answer and the server acts.
  if (!("id" in value)) return bypass("notification");
  if (typeof value.method !== "string") return bypass("invalid");
  const judged = judgeName("jsonrpc", [value.method], rules.methods);
  if (judged) return { protocol: "jsonrpc", bypass: judged };
  // Duplicate member names are refused: servers disagree on which one counts.
  const keyBody = canonicalJson(bytes, [["id"]]);
  const id = memberSpan(text, "id");
  if (!keyBody || !id) return bypass("invalid");
  const requestId = text.slice(id[0], id[1]);
  return {
    protocol: "jsonrpc",
    keyBody,
    rejectAnswer: async (response, body) => {
      if (!isJsonType(response.headers.get("content-type"))) return "jsonrpc-not-json";
      const bytes = await body;
      if (!bytes) return undefined; // past the response cap: not stored anyway
      const answer = utf8(bytes);
      const parsed = parseJson(answer);
      // §5: an answer has `result` or `error`; errors are not stored. (`"error": null` beside a result is
      // JSON-RPC 1.0's form, which some 2.0 servers still send.)
      if (isObject(parsed) && parsed.error != null) return "jsonrpc-error";
      if (!isObject(parsed) || !("result" in parsed) || !memberSpan(answer, "id")) return "jsonrpc-invalid-answer";
      return undefined;
    },
    replayBody: (stored) => {
      const answer = utf8(stored) ?? "";
      const span = memberSpan(answer, "id");
      return span ? encoder.encode(answer.slice(0, span[0]) + requestId + answer.slice(span[1])) : stored;
    },
  };
}

/** Marked as JSON-RPC. Only the marker is trusted: a plain body may well have `method` and `id` members,
 * and leaving its `id` out of the key would merge different requests. */
function isCall(value: unknown): value is Record<string, unknown> {
  return isObject(value) && "jsonrpc" in value;
}

const SPACE = /[ \t\n\r]*/y;
const SCALAR = /[^ \t\n\r,\]}]*/y;

function skip(pattern: RegExp, text: string, i: number): number {
  pattern.lastIndex = i;
  pattern.test(text);
  return pattern.lastIndex;
}

/**
 * Where the value of the top-level member `name` of the JSON object `text` starts and ends. Only used
 * on text JSON.parse has accepted, so it only walks the structure: strings, and nesting by brackets.
 */
export function memberSpan(text: string | undefined, name: string): [number, number] | undefined {
  if (text === undefined) return undefined;
  let i = skip(SPACE, text, 0);
  if (text[i] !== "{") return undefined;
  i = skip(SPACE, text, i + 1);
  while (text[i] === '"') {
    const keyEnd = stringEnd(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skip(SPACE, text, keyEnd);
    if (text[i] !== ":") return undefined;
    const start = skip(SPACE, text, i + 1);
    const end = valueEnd(text, start);
    if (end <= start) return undefined;
    if (key === name) return [start, end];
    i = skip(SPACE, text, end);
    if (text[i] !== ",") return undefined;
    i = skip(SPACE, text, i + 1);
  }
  return undefined;
}

/** The index after the string starting at `i` (an opening quote). */
function stringEnd(text: string, i: number): number {
  for (let j = i + 1; ; ) {
    const quote = text.indexOf('"', j);
    if (quote < 0) return text.length;
    let backslashes = 0;
    while (text[quote - 1 - backslashes] === "\\") backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    j = quote + 1;
  }
}

/** The index after the value starting at `i`. */
function valueEnd(text: string, i: number): number {
  const c = text[i];
  if (c === '"') return stringEnd(text, i);
  if (c !== "{" && c !== "[") return skip(SCALAR, text, i);
  let depth = 0;
  for (let j = i; j < text.length; j++) {
    const d = text[j];
    if (d === '"') j = stringEnd(text, j) - 1;
    else if (d === "{" || d === "[") depth++;
    else if ((d === "}" || d === "]") && --depth === 0) return j + 1;
  }
  return text.length;
}
