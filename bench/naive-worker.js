/**
 * Cloudflare's "Cache POST requests" example (developers.cloudflare.com/workers/examples/cache-post-request/,
 * the seed /work/shared/seeds/000_*), as published, for the workerd cell. One change: the seed calls
 * `fetch(request)` and Cloudflare routes it to the zone's origin; in workerd alone that would be the
 * Worker itself, so the request goes to `env.ORIGIN` with the same path and query (as postcache's
 * example does with its ORIGIN binding).
 */
export default {
  async fetch(request, env, ctx) {
    async function sha256(message) {
      // encode as UTF-8
      const msgBuffer = await new TextEncoder().encode(message);
      // hash the message
      const hashBuffer = await crypto.subtle.digest("SHA-256", msgBuffer);
      // convert bytes to hex string
      return [...new Uint8Array(hashBuffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
    }
    const toOrigin = (r) => {
      const url = new URL(r.url);
      return new Request(new URL(url.pathname + url.search, env.ORIGIN), r);
    };
    try {
      if (request.method.toUpperCase() === "POST") {
        const body = await request.clone().text();
        // Hash the request body to use it as a part of the cache key
        const hash = await sha256(body);
        const cacheUrl = new URL(request.url);
        // Store the URL in cache by prepending the body's hash
        cacheUrl.pathname = "/posts" + cacheUrl.pathname + hash;
        // Convert to a GET to be able to cache
        const cacheKey = new Request(cacheUrl.toString(), {
          headers: request.headers,
          method: "GET",
        });

        const cache = caches.default;
        // Find the cache key in the cache
        let response = await cache.match(cacheKey);
        // Otherwise, fetch response to POST request from origin
        if (!response) {
          response = await fetch(toOrigin(request));
          ctx.waitUntil(cache.put(cacheKey, response.clone()));
        }
        return response;
      }
      return fetch(toOrigin(request));
    } catch (e) {
      return new Response("Error thrown " + e.message);
    }
  },
};
