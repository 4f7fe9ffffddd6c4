/**
 * GraphQL over POST: queries are cached, mutations and subscriptions go to the origin. The key holds the
 * query normalised by the lexical grammar (GraphQL, October 2021 edition, §2.1: comments, white space,
 * line terminators, commas and byte order marks are insignificant; strings are kept exactly as written),
 * and the canonical JSON of everything else in the request: variables, operationName and extensions,
 * hence an Apollo persisted-query hash.
 */
import { canonicalJson } from "../canonical-json.ts";
import { toHex } from "../key.ts";
import { concat } from "../options.ts";
import type { Sha256 } from "../types.ts";
import { type BodyClass, encoder, isJsonType, isObject, judgeName, mediaType, type NameRules, parseJson, utf8 } from "./rules.ts";

export interface Operation {
  /** §2.3 OperationType. */
  type: "query" | "mutation" | "subscription";
  /** Absent for an anonymous operation. */
  name?: string;
}

/** GraphQL settings after validation. */
export interface ResolvedGraphql {
  paths: RegExp[];
  operations: NameRules;
  storeErrors: boolean;
  /** Apollo persisted-query hashes seen with their query, verified: hash → the document's operations. */
  learned: Map<string, Operation[]>;
}

/** How many persisted-query hashes an engine remembers (oldest forgotten first). */
export const LEARNED_HASHES = 1000;

// §2.1.7 Ignored, but for comments: §2.1.1 UnicodeBOM, §2.1.2 WhiteSpace, §2.1.3 LineTerminator,
// §2.1.5 Comma.
const IGNORED = new Set(["\ufeff", "\t", " ", "\n", "\r", ","]);
// §2.1.8 Punctuator, §2.1.9 Name, and §2.9.1 IntValue / §2.9.2 FloatValue with their lookahead
// restriction (neither may be followed by a Digit, `.` or NameStart).
const TOKEN = /\.\.\.|[!$&():=@[\]{|}]|[_A-Za-z]\w*|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w.])/y;
const ESCAPED = new Set(['"', "\\", "/", "b", "f", "n", "r", "t"]);
const HEX4 = /^[0-9A-Fa-f]{4}$/;

/**
 * The lexical tokens of a GraphQL document (§2.1.6), Ignored tokens (§2.1.7) dropped and strings kept
 * byte for byte; undefined if the source is not a valid token sequence. Hand-written rather than one
 * regular expression: engines' regex backtracking stacks give out on megabyte-long strings.
 */
export function graphqlTokens(source: string): string[] | undefined {
  // §2.1 (October 2021): SourceCharacter is /[\u0009\u000A\u000D\u0020-\uFFFF]/, everywhere, strings
  // and comments included: any other C0 control makes the document invalid.
  for (let i = 0; i < source.length; i++) {
    const code = source.charCodeAt(i);
    if (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) return undefined;
  }
  const tokens: string[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (IGNORED.has(c)) {
      i++;
      continue;
    }
    if (c === "#") {
      // §2.1.4: a comment runs to the end of the line.
      while (i < source.length && source[i] !== "\n" && source[i] !== "\r") i++;
      continue;
    }
    let end: number;
    if (source.startsWith('"""', i)) end = blockStringEnd(source, i + 3);
    else if (c === '"') end = stringEnd(source, i + 1);
    else {
      TOKEN.lastIndex = i;
      end = TOKEN.test(source) ? TOKEN.lastIndex : -1;
    }
    if (end < 0) return undefined;
    tokens.push(source.slice(i, end));
    i = end;
  }
  return tokens;
}

/** §2.9.4 StringValue: the index after the closing quote, or -1. */
function stringEnd(source: string, i: number): number {
  while (i < source.length) {
    const c = source[i];
    if (c === '"') return i + 1;
    if (c === "\n" || c === "\r") return -1;
    if (c === "\\") {
      const next = source[i + 1];
      if (next === "u") {
        // EscapedUnicode :: /[0-9A-Fa-f]{4}/ (the braced form came after October 2021).
        if (!HEX4.test(source.slice(i + 2, i + 6))) return -1;
        i += 6;
        continue;
      }
      if (!ESCAPED.has(next)) return -1;
      i += 2;
      continue;
    }
    i++;
  }
  return -1;
}

/** §2.9.4 BlockString: the index after the closing `"""`, or -1. Only `\"""` is an escape inside. */
function blockStringEnd(source: string, i: number): number {
  for (;;) {
    const quotes = source.indexOf('"""', i);
    if (quotes < 0) return -1;
    if (source[quotes - 1] !== "\\") return quotes + 3;
    i = quotes + 3;
  }
}

/** The query as its tokens separated by single spaces: equal for documents that differ only in Ignored
 * tokens, and distinct otherwise (tokens never contain a space outside strings, which are kept whole). */
export function normalizeGraphql(source: string): string | undefined {
  return graphqlTokens(source)?.join(" ");
}

const OPERATION_TYPES = new Set(["query", "mutation", "subscription"]);
const PAIRS = new Map([
  ["(", ")"],
  ["[", "]"],
  ["{", "}"],
]);

/**
 * The operations of an executable document (§2.2, §2.3), or undefined if it is not one: each definition
 * starts with `{` (query shorthand), an OperationType, or `fragment`, and ends with the selection set
 * that is the first `{` outside parentheses and brackets (variable defaults and directive arguments
 * live inside parentheses). Anything else, type system definitions included, is not executable.
 */
export function operationsOf(tokens: string[]): Operation[] | undefined {
  const operations: Operation[] = [];
  let i = 0;
  while (i < tokens.length) {
    const first = tokens[i];
    const next = tokens[i + 1] ?? "";
    if (first === "{") operations.push({ type: "query" });
    else if (OPERATION_TYPES.has(first)) {
      const type = first as Operation["type"];
      operations.push(/^[_A-Za-z]/.test(next) ? { type, name: next } : { type });
    } else if (first !== "fragment") return undefined;
    const open: string[] = [];
    for (;;) {
      const token = tokens[i++];
      if (token === undefined) return undefined;
      const close = PAIRS.get(token);
      if (close) open.push(close);
      else if (token === ")" || token === "]" || token === "}") {
        if (open.pop() !== token) return undefined;
        if (open.length === 0 && token === "}") break;
      }
    }
  }
  return operations.length > 0 ? operations : undefined;
}

/** §6.1 GetOperation: the one operation, or the one named; undefined where the service would refuse. */
export function selectOperation(operations: Operation[], name: string | undefined): Operation | undefined {
  if (name === undefined) return operations.length === 1 ? operations[0] : undefined;
  const named = operations.filter((op) => op.name === name);
  return named.length === 1 ? named[0] : undefined;
}

/**
 * Classifies a request on a GraphQL path. `application/json` bodies are one request object or a batch
 * (array) of them; `application/graphql` bodies are the document itself (operationName from the URL).
 * A batch is cached only when every operation in it is a cacheable query.
 */
export async function classifyGraphql(
  url: URL,
  headers: Headers,
  bytes: Uint8Array,
  g: ResolvedGraphql,
  sha256: Sha256,
): Promise<BodyClass> {
  const bypass = (reason: string): BodyClass => ({ protocol: "graphql", bypass: `graphql-${reason}` });
  const type = mediaType(headers.get("content-type"));
  const text = utf8(bytes);
  if (text === undefined) return bypass("invalid");
  let requests: unknown[];
  let rest: Uint8Array = new Uint8Array(0);
  let batch = false;
  if (type === "application/graphql") {
    requests = [{ query: text, operationName: url.searchParams.get("operationName") }];
  } else if (isJsonType(type)) {
    const value = parseJson(text);
    // Canonical JSON of all but the query: variables in any member order share a key, and duplicate
    // member names (which parsers resolve differently) are refused.
    const canonical = canonicalJson(bytes, [["query"]]);
    if (value === undefined || !canonical) return bypass("invalid");
    batch = Array.isArray(value);
    requests = batch ? (value as unknown[]) : [value];
    rest = canonical;
  } else return bypass("content-type");
  if (requests.length === 0) return bypass("invalid");

  const queries: (string | null)[] = [];
  for (const request of requests) {
    const judged = await judge(request, g, sha256);
    if (judged.bypass) return { protocol: "graphql", bypass: judged.bypass };
    queries.push(judged.query);
  }
  return {
    protocol: "graphql",
    keyBody: concat([encoder.encode(`${JSON.stringify(queries)}\n`), rest]),
    rejectAnswer: (response, body) => rejectAnswer(response, body, g.storeErrors, batch),
  };
}

async function judge(request: unknown, g: ResolvedGraphql, sha256: Sha256): Promise<{ bypass?: string; query: string | null }> {
  const no = (bypass: string) => ({ bypass, query: null });
  if (!isObject(request)) return no("graphql-invalid");
  const { query, operationName, extensions } = request;
  if (operationName != null && typeof operationName !== "string") return no("graphql-invalid");
  const name = operationName ?? undefined;
  const persisted = isObject(extensions) && isObject(extensions.persistedQuery) ? extensions.persistedQuery : undefined;
  const hash = persisted?.sha256Hash;
  if (hash !== undefined && typeof hash !== "string") return no("graphql-invalid");

  let operations: Operation[] | undefined;
  let normalized: string | null = null;
  if (typeof query === "string") {
    const tokens = graphqlTokens(query);
    operations = tokens && operationsOf(tokens);
    if (!tokens || !operations) return no("graphql-invalid");
    normalized = tokens.join(" ");
    // Apollo APQ registration (query and hash together): remember what the hash stands for, once the
    // hash is shown to be the query's (APQ: lower-case hex SHA-256 of the query text).
    if (hash && !g.learned.has(hash)) {
      const digest = await sha256([encoder.encode(query)]);
      if (toHex(digest instanceof Uint8Array ? digest : new Uint8Array(digest)) === hash) learn(g, hash, operations);
    }
  } else if (query != null) return no("graphql-invalid");
  else if (hash) {
    // A hash alone names a document this engine may never have seen. Known: judge it like the query.
    // Unknown: only an operation name on the allow list is taken as the operator's word that it is a query.
    operations = g.learned.get(hash);
    if (!operations) {
      if (g.operations.allow.length === 0 || name === undefined) return no("graphql-persisted-unknown");
      operations = [{ type: "query", name }];
    }
  } else return no("graphql-invalid");

  const operation = selectOperation(operations, name);
  if (!operation) return no("graphql-operation-unknown");
  if (operation.type !== "query") return no(`graphql-${operation.type}`);
  const denied = judgeName("graphql", [operation.name ?? ""], g.operations);
  return denied ? no(denied) : { query: normalized };
}

function learn(g: ResolvedGraphql, hash: string, operations: Operation[]): void {
  if (g.learned.size >= LEARNED_HASHES) g.learned.delete(g.learned.keys().next().value as string);
  g.learned.set(hash, operations);
}

/** Apollo's answers to a hash it does not (or cannot) resolve; the client then sends the query. */
const PERSISTED_QUERY_MISSING = /^(?:PERSISTED_QUERY_NOT_(?:FOUND|SUPPORTED)|PersistedQueryNot(?:Found|Supported))$/;

async function rejectAnswer(
  response: Response,
  body: Promise<Uint8Array | undefined>,
  storeErrors: boolean,
  batch: boolean,
): Promise<string | undefined> {
  // Not JSON (an incremental-delivery multipart, an HTML error page): nothing to vouch for, nor wait on.
  if (!isJsonType(response.headers.get("content-type"))) return "graphql-not-json";
  const bytes = await body;
  if (!bytes) return undefined; // past the response cap: not stored anyway
  const value = parseJson(utf8(bytes));
  const results = Array.isArray(value) ? value : [value];
  if (Array.isArray(value) !== batch || !results.every(isObject)) return "graphql-unreadable";
  const errors = results.flatMap((r) => (Array.isArray(r.errors) ? r.errors : r.errors == null ? [] : [r.errors]));
  // Never stored, whatever storeErrors says: it would answer every later hash-only request with "send
  // the query", forever.
  if (errors.some((e) => isObject(e) && (PERSISTED_QUERY_MISSING.test(String(e.message)) || isMissingCode(e.extensions)))) {
    return "graphql-persisted-query-not-found";
  }
  return errors.length > 0 && !storeErrors ? "graphql-errors" : undefined;
}

function isMissingCode(extensions: unknown): boolean {
  return isObject(extensions) && PERSISTED_QUERY_MISSING.test(String(extensions.code));
}
