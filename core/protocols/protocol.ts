/**
 * What the engine knows of protocols: a small interface, and the dispatch over the ones configured.
 * The protocols themselves (core/protocols/index.ts: `graphql()`, `jsonRpc()`, `soap()`) are imported
 * by whoever uses them, so a bundle without them carries none of their code.
 */
import type { Sha256 } from "../types.ts";

/** What a protocol makes of one request body. */
export interface BodyClass {
  /** `graphql`, `jsonrpc` or `soap`: also marks the key, so protocol keys never meet raw-body keys. */
  protocol: string;
  /** Set when the request must go to the origin untouched: the reason, e.g. `graphql-mutation`. */
  bypass?: string;
  /** What the key is computed over instead of the body bytes (already canonical). */
  keyBody?: Uint8Array;
  /** Why the origin's answer must not be stored, judged from its headers and then, if need be, its body;
   * undefined to store it. The body is undefined past the response cap (never stored anyway). */
  rejectAnswer?(response: Response, body: Promise<Uint8Array | undefined>): Promise<string | undefined>;
  /** The stored answer as this request must see it (JSON-RPC: with this request's own `id`). */
  replayBody?(stored: Uint8Array): Uint8Array;
}

/** What the engine lends a protocol. */
export interface ProtocolContext {
  sha256: Sha256;
  /** The engine's `mutationVerbs`, for protocols that judge names by them unless told otherwise. */
  mutationVerbs: ReadonlySet<string>;
}

/** A protocol postcache understands: made by `graphql()`, `jsonRpc()` or `soap()`. */
export interface Protocol {
  readonly name: string;
  /** Where it applies; empty means every path. */
  readonly paths: readonly RegExp[];
  /** The verdict on a body on one of its paths, or undefined when the body is not this protocol's. */
  classify(
    url: URL,
    headers: Headers,
    bytes: Uint8Array,
    context: ProtocolContext,
  ): BodyClass | undefined | Promise<BodyClass | undefined>;
}

/** The first verdict of the protocols whose paths match, in the order given; undefined when none claims
 * the body (then it is cached as any body is). Never throws: a body that cannot be judged bypasses. */
export async function classifyBody(
  protocols: readonly Protocol[],
  url: URL,
  headers: Headers,
  bytes: Uint8Array,
  context: ProtocolContext,
  onError: (error: unknown, where: string) => void,
): Promise<BodyClass | undefined> {
  const path = url.pathname + url.search;
  try {
    for (const protocol of protocols) {
      if (protocol.paths.length > 0 && !protocol.paths.some((re) => re.test(path))) continue;
      const verdict = await protocol.classify(url, headers, bytes, context);
      if (verdict) return verdict;
    }
    return undefined;
  } catch (error) {
    onError(error, "protocol");
    return { protocol: "unknown", bypass: "protocol-error" };
  }
}
