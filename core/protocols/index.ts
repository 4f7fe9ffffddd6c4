/**
 * Protocol awareness: for GraphQL, JSON-RPC 2.0 and SOAP, the operation inside the request decides
 * whether it is cached, and what its key holds. Off unless passed to the engine, which is also what keeps
 * their code out of bundles that do not use them: `createPostcache({ protocols: [graphql(), jsonRpc()] })`.
 * See docs/protocols.md.
 */
import { describe, PostcacheOptionError, patterns, type UrlPattern } from "../options.ts";
import { classifyGraphql, type ResolvedGraphql } from "./graphql.ts";
import { classifyJsonRpc, type ResolvedJsonRpc } from "./json-rpc.ts";
import type { Protocol } from "./protocol.ts";
import { type BodyClass, type NamePattern, type NameRules, nameToRegExp } from "./rules.ts";
import { classifySoap, type ResolvedSoap } from "./soap.ts";

export type { BodyClass, NamePattern, Protocol, ResolvedGraphql, ResolvedJsonRpc, ResolvedSoap };

/** Settings for `graphql()`. */
export interface GraphqlOptions {
  /** Where GraphQL is served (path globs or RegExps, as `include`). Every POST/QUERY there is judged as
   * GraphQL; what is not a cacheable query goes to the origin. Default `["/graphql"]`. */
  paths?: UrlPattern[];
  /** If non-empty, only queries whose operation name matches are cached (anonymous ones are not). A
   * persisted-query hash sent without its query, whose document this engine has not seen, is cached only
   * when its operationName matches: listing a name here says that operation is a query. Default `[]`. */
  allowOperations?: NamePattern[];
  /** Operation names never cached. Default `[]`. */
  denyOperations?: NamePattern[];
  /** Store answers whose `errors` is non-empty (partial results). Apollo's persisted-query "not found"
   * answers are never stored, whatever this says. Default false. */
  storeErrors?: boolean;
}

/** Settings for `jsonRpc()`. */
export interface JsonRpcOptions {
  /** Where JSON-RPC may be served. A JSON body with `"jsonrpc": "2.0"` there is judged as JSON-RPC; other
   * bodies are cached as usual. Default: every path. */
  paths?: UrlPattern[];
  /** If non-empty, exactly the matching methods are cached, and the verb rule is not consulted. Default `[]`. */
  allowMethods?: NamePattern[];
  /** Methods never cached. Default `[]`. */
  denyMethods?: NamePattern[];
  /** Verbs that make a method a mutation (`eth_sendTransaction`, `user.create`); `false` switches the
   * rule off. Default: the engine's `mutationVerbs`. */
  mutationVerbs?: string[] | false;
}

/** Settings for `soap()`. */
export interface SoapOptions {
  /** Where SOAP may be served. A request with `SOAPAction` or of type `application/soap+xml` there is
   * judged as SOAP. Default: every path. */
  paths?: UrlPattern[];
  /** If non-empty, exactly the actions matching (their last segment, e.g. `GetUser`, or the whole action
   * URI) are cached, and the verb rule is not consulted. Default `[]`. */
  allowActions?: NamePattern[];
  /** Actions never cached (last segment or whole URI). Default `[]`. */
  denyActions?: NamePattern[];
  /** Verbs that make an action a mutation, judged on its last segment (`CreateUser`); `false` switches the
   * rule off. Default: the engine's `mutationVerbs`. */
  mutationVerbs?: string[] | false;
}

export const DEFAULT_GRAPHQL_PATHS = ["/graphql"];

/** A protocol with its resolved settings, for inspection. */
export interface ConfiguredProtocol<T> extends Protocol {
  readonly settings: T;
}

/**
 * GraphQL over POST: queries are cached under their normalised document, canonical variables and
 * operation name; mutations and subscriptions go to the origin; answers with `errors` are not stored.
 *
 * @example
 * createPostcache({ protocols: [graphql({ denyOperations: ["Me"] })] });
 */
export function graphql(options: GraphqlOptions = {}): ConfiguredProtocol<ResolvedGraphql> {
  const g = resolveGraphql(options);
  return {
    name: "graphql",
    paths: g.paths,
    settings: g,
    classify: (url, headers, bytes, c) => classifyGraphql(url, headers, bytes, g, c.sha256),
  };
}

/**
 * JSON-RPC 2.0: calls are judged by method, keyed without their `id`, and answered with the caller's own
 * `id`. Unless `mutationVerbs` is given, methods are judged by the engine's `mutationVerbs`.
 *
 * @example
 * createPostcache({ protocols: [jsonRpc({ denyMethods: ["eth_getFilterChanges"] })] });
 */
export function jsonRpc(options: JsonRpcOptions = {}): ConfiguredProtocol<ResolvedJsonRpc> {
  const j = resolveJsonRpc(options);
  return {
    name: "json-rpc",
    paths: j.paths,
    settings: j,
    classify: (_url, headers, bytes, c) => classifyJsonRpc(headers, bytes, withVerbs(j, "methods", c.mutationVerbs)),
  };
}

/**
 * SOAP 1.1 and 1.2: requests are judged by their action (`SOAPAction`, or `action` of
 * `application/soap+xml`); the action is part of the key.
 *
 * @example
 * createPostcache({ protocols: [soap({ allowActions: ["Get*"] })] });
 */
export function soap(options: SoapOptions = {}): ConfiguredProtocol<ResolvedSoap> {
  const s = resolveSoap(options);
  return {
    name: "soap",
    paths: s.paths,
    settings: s,
    classify: (_url, headers, bytes, c) => classifySoap(headers, bytes, withVerbs(s, "actions", c.mutationVerbs)),
  };
}

/** The settings with the engine's verbs filled in where the protocol was given none of its own. */
function withVerbs<T extends Record<K, NameRules>, K extends string>(settings: T, rules: K, engineVerbs: ReadonlySet<string>): T {
  return settings[rules].verbs ? settings : { ...settings, [rules]: { ...settings[rules], verbs: engineVerbs } };
}

function resolveGraphql(value: unknown): ResolvedGraphql {
  const g = settings<GraphqlOptions>("graphql", value, ["paths", "allowOperations", "denyOperations", "storeErrors"]);
  if (g.storeErrors !== undefined && typeof g.storeErrors !== "boolean") {
    throw new PostcacheOptionError("graphql.storeErrors", `must be true or false (got ${describe(g.storeErrors)})`);
  }
  return {
    paths: patterns("graphql.paths", g.paths ?? DEFAULT_GRAPHQL_PATHS),
    operations: {
      allow: names("graphql.allowOperations", g.allowOperations),
      deny: names("graphql.denyOperations", g.denyOperations),
    },
    storeErrors: g.storeErrors ?? false,
    learned: new Map(),
  };
}

function resolveJsonRpc(value: unknown): ResolvedJsonRpc {
  const j = settings<JsonRpcOptions>("jsonRpc", value, ["paths", "allowMethods", "denyMethods", "mutationVerbs"]);
  return {
    paths: patterns("jsonRpc.paths", j.paths ?? []),
    methods: rules("jsonRpc", j.allowMethods, j.denyMethods, j.mutationVerbs, "Methods"),
  };
}

function resolveSoap(value: unknown): ResolvedSoap {
  const s = settings<SoapOptions>("soap", value, ["paths", "allowActions", "denyActions", "mutationVerbs"]);
  return {
    paths: patterns("soap.paths", s.paths ?? []),
    actions: rules("soap", s.allowActions, s.denyActions, s.mutationVerbs, "Actions"),
  };
}

/** An object of settings with known members only. */
function settings<T>(name: string, value: unknown, known: string[]): T {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new PostcacheOptionError(name, `settings must be an object (got ${describe(value)})`);
  }
  for (const member of Object.keys(value)) {
    if (!known.includes(member)) throw new PostcacheOptionError(`${name}.${member}`, "is not a postcache option");
  }
  return value as T;
}

/** Name rules; `verbs` is left undefined when the engine's `mutationVerbs` are to be used. */
function rules(name: string, allow: unknown, deny: unknown, mutationVerbs: unknown, what: string): NameRules {
  let verbs: ReadonlySet<string> | undefined;
  if (mutationVerbs === false) verbs = new Set();
  else if (mutationVerbs !== undefined) {
    if (!Array.isArray(mutationVerbs) || mutationVerbs.some((v) => typeof v !== "string" || v === "")) {
      throw new PostcacheOptionError(
        `${name}.mutationVerbs`,
        `must be an array of non-empty strings or false (got ${describe(mutationVerbs)})`,
      );
    }
    verbs = new Set(mutationVerbs.map((v: string) => v.toLowerCase()));
  }
  return { allow: names(`${name}.allow${what}`, allow), deny: names(`${name}.deny${what}`, deny), verbs };
}

function names(name: string, value: unknown): RegExp[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((p) => !(p instanceof RegExp) && (typeof p !== "string" || p === ""))) {
    throw new PostcacheOptionError(name, `must be an array of non-empty strings or RegExps (got ${describe(value)})`);
  }
  return value.map((p: NamePattern) => (p instanceof RegExp ? p : nameToRegExp(p)));
}
