/**
 * Parses a `Cache-Control` field value (RFC 9111 §5.2) into directive → argument.
 * Directive names are case-insensitive; a directive without an argument maps to `true`.
 * Unparseable members are skipped rather than guessed at.
 */
export function parseCacheControl(value: string | null): Map<string, string | true> {
  const directives = new Map<string, string | true>();
  if (!value) return directives;
  // Split on commas outside quoted strings (RFC 9110 §5.6.4 quoted-string).
  const members = value.match(/(?:[^,"]|"(?:[^"\\]|\\.)*")+/g) ?? [];
  for (const member of members) {
    const eq = member.indexOf("=");
    const name = (eq === -1 ? member : member.slice(0, eq)).trim().toLowerCase();
    if (!name) continue;
    let arg: string | true = true;
    if (eq !== -1) {
      arg = member.slice(eq + 1).trim();
      if (arg.startsWith('"') && arg.endsWith('"') && arg.length >= 2) arg = arg.slice(1, -1).replace(/\\(.)/g, "$1");
    }
    // RFC 9111 §4.2.1: when a directive appears more than once, the first one wins for our purposes.
    if (!directives.has(name)) directives.set(name, arg);
  }
  return directives;
}

/** A delta-seconds argument (RFC 9111 §1.2.2), or undefined when absent or invalid. */
export function deltaSeconds(arg: string | true | undefined): number | undefined {
  if (typeof arg !== "string" || !/^\d+$/.test(arg)) return undefined;
  // RFC 9111 §1.2.2: values too large are capped at 2^31.
  return Math.min(Number(arg), 2 ** 31);
}
