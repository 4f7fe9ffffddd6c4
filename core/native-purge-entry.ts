/** `postcache/native-purge`: purges sent to the provider's own purge API as well (docs/purge.md#provider-purges). */
export * from "./native-purge.ts";
export { CLOUDFLARE_API_BASE, type CloudflarePurgerOptions, cloudflarePurger } from "./native-purges/cloudflare.ts";
export { EDGEONE_ENDPOINT, type EdgeOnePurgerOptions, edgeOnePurger } from "./native-purges/edgeone.ts";
export { NETLIFY_API_BASE, type NetlifyPurgerOptions, netlifyPurger } from "./native-purges/netlify.ts";
