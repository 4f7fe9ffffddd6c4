/**
 * The "do not cache" side (eBay's write-up, shared/seeds/002): requests that must always reach the
 * origin. Each rule returns the reason reported in `Cache-Status: ...; detail=<reason>`.
 */
import { parseCacheControl } from "./cache-control.ts";
import type { ResolvedOptions } from "./options.ts";

/** Why a request to this URL must bypass the cache, judged from the URL alone: the same path always
 * gets the same answer, so the engine remembers it per path. */
export function pathBypassReason(path: string, pathname: string, options: ResolvedOptions): string | undefined {
  if (options.exclude.some((re) => re.test(path))) return "excluded";
  if (options.include.length > 0 && !options.include.some((re) => re.test(path))) return "not-included";
  if (isMutationPath(pathname, options.mutationVerbs)) return "mutation";
  return undefined;
}

/** Why a request must bypass the cache, judged from its headers. */
export function headerBypassReason(headers: Headers, options: ResolvedOptions): string | undefined {
  // A POST that claims to be a PUT or DELETE is one (Google, Microsoft and Rails conventions).
  if (options.methodOverrideHeaders.some((h) => headers.has(h))) return "method-override";
  // RFC 9111 §5.2.1.5: no-store in a request forbids storing the request or its response.
  if (parseCacheControl(headers.get("cache-control")).has("no-store")) return "no-store-request";
  return undefined;
}

/** Whether the request carries a credential header (RFC 9111 §3.5 treats Authorization so). */
export function hasCredentials(request: Request, options: ResolvedOptions): boolean {
  return options.credentialHeaders.some((h) => request.headers.has(h));
}

/**
 * Whether any path segment names a mutation: the first word of a segment, or of a dotted part of it,
 * is a verb from the list (`/cart/addItem`, `/users.delete`, `/Svc/CreateUser`, `/set_price`).
 * Words are cut at case changes and at non-letters, so `/settings` and `/address` do not match.
 */
export function isMutationPath(pathname: string, verbs: ReadonlySet<string>): boolean {
  if (verbs.size === 0) return false;
  for (const segment of pathname.split("/")) {
    if (!segment) continue;
    let decoded = segment;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      // A malformed escape: judge the raw segment.
    }
    for (const part of decoded.split(/[.:]/)) {
      const word = firstWord(part);
      if (word && verbs.has(word)) return true;
    }
  }
  return false;
}

function firstWord(part: string): string | undefined {
  // All-caps names (DELETE_ITEM) are one case; otherwise a capital starts a new word (setUser).
  const text = part === part.toUpperCase() ? part.toLowerCase() : part;
  return text.match(/^[A-Za-z][a-z]*/)?.[0].toLowerCase();
}
