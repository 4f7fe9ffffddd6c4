/**
 * What the three protocol classifiers share: the verdict a classifier gives, the name rules (allow,
 * deny, mutation verbs) that judge an operation, method or action by its name, and strict readers for
 * the JSON and UTF-8 they see.
 */
import { isMutationPath } from "../exclusions.ts";

export type { BodyClass } from "./protocol.ts";

/** An operation, method or action name to match: a string (`*` matches any run of characters, anything
 * else literally, over the whole name) or a RegExp. */
export type NamePattern = string | RegExp;

/** Compiled name rules. */
export interface NameRules {
  allow: RegExp[];
  deny: RegExp[];
  /** Mutation verbs; undefined where the name rule is not used (GraphQL states its operation type). */
  verbs?: ReadonlySet<string>;
}

/**
 * Why the operation must bypass, or undefined if it may be cached. `names` are the ways it is named (a
 * pattern matching any of them counts); the first is its short name. A denied operation bypasses; with
 * an allow list, exactly the allowed ones are cached; without one, a short name whose words start with
 * a mutation verb bypasses (the path rule of exclusions.ts, on each part of the name cut at any
 * non-alphanumeric: `eth_sendTransaction`, `user.create`, `DeleteItem`).
 */
export function judgeName(protocol: string, names: string[], rules: NameRules): string | undefined {
  const matches = (patterns: RegExp[]) => patterns.some((re) => names.some((name) => re.test(name)));
  if (matches(rules.deny)) return `${protocol}-denied`;
  if (rules.allow.length > 0) return matches(rules.allow) ? undefined : `${protocol}-not-allowed`;
  if (rules.verbs && isMutationPath(`/${names[0].replace(/[^A-Za-z0-9]+/g, "/")}`, rules.verbs)) return `${protocol}-mutation`;
  return undefined;
}

/** `*` is a wildcard, everything else literal, anchored at both ends. */
export function nameToRegExp(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^]*")}$`);
}

/** The media type of a `Content-Type` value, lower-cased, without parameters. */
export function mediaType(contentType: string | null): string {
  return (contentType ?? "").split(";")[0].trim().toLowerCase();
}

/** `application/json`, or any `+json` structured syntax suffix (RFC 6839 §3.1). */
export function isJsonType(contentType: string | null): boolean {
  const type = mediaType(contentType);
  return type === "application/json" || type.endsWith("+json");
}

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
export const encoder = new TextEncoder();

/** The UTF-8 text of `bytes`, or undefined if they are not UTF-8 (RFC 8259 §8.1: JSON is UTF-8). */
export function utf8(bytes: Uint8Array | undefined): string | undefined {
  if (!bytes) return undefined;
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/** The parsed JSON of `text`, or undefined if it is not JSON. */
export function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
