/**
 * Tags for targeted purge. The origin names them in `Cache-Tag` (comma-separated, as Cloudflare and
 * others read it) or `Surrogate-Key` (space-separated, as Fastly reads it); rules may add more.
 */
/** The tag every entry carries, so "purge everything" is a purge by tag on stores without a clear. */
export const ALL_TAG = "postcache:all";
/** A tag: visible ASCII without commas or spaces, at most 256 characters. */
const TAG = /^[\x21-\x2b\x2d-\x7e]{1,256}$/;

export function tagsOf(headers: Headers, ruleTags: readonly string[] = []): string[] {
  const tags = new Set<string>([ALL_TAG]);
  for (const tag of headers.get("cache-tag")?.split(",") ?? []) tags.add(tag.trim());
  for (const tag of headers.get("surrogate-key")?.split(/\s+/) ?? []) tags.add(tag.trim());
  for (const tag of ruleTags) tags.add(tag);
  return [...tags].filter((tag) => TAG.test(tag));
}

export function isTag(value: unknown): value is string {
  return typeof value === "string" && TAG.test(value);
}
