/**
 * The demo origin behind `npm start`: a slow, deterministic "search API". Web standards only, so any
 * runtime can serve it.
 *
 *   POST /search      {"query": "...", "page": 1}  → ranked results (cacheable, ~150 ms)
 *   POST /cart/add    {"sku": "..."}               → a mutation (postcache bypasses it)
 *   POST /me          with Authorization            → a private answer (never stored)
 *   GET  /            → this help
 */
export interface DemoOriginOptions {
  /** Delay before each answer, in ms. Default 150. */
  delayMs?: number;
}

const PRODUCTS = ["lamp", "desk", "chair", "shelf", "rug", "sofa", "mirror", "clock", "vase", "stool", "bench", "cabinet"];

export function createDemoOrigin({ delayMs = 150 }: DemoOriginOptions = {}) {
  let calls = 0;
  async function handle(request: Request): Promise<Response> {
    calls++;
    const url = new URL(request.url);
    if (request.method === "GET" && url.pathname === "/") {
      return new Response('postcache demo origin: POST /search with a JSON body such as {"query":"lamp"}\n');
    }
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (request.method !== "POST") return new Response("method not allowed\n", { status: 405 });
    const body = await request.text();
    if (url.pathname === "/search") return search(body);
    if (url.pathname === "/cart/add") return Response.json({ ok: true, call: calls });
    if (url.pathname === "/me") {
      const user = request.headers.get("authorization") ?? "anonymous";
      return Response.json({ user }, { headers: { "cache-control": "private, max-age=60" } });
    }
    return Response.json({ error: "not found" }, { status: 404 });
  }
  return {
    handle,
    get calls() {
      return calls;
    },
  };
}

function search(body: string): Response {
  let query: { query?: unknown; page?: unknown };
  try {
    query = JSON.parse(body);
  } catch {
    return Response.json({ error: "body must be JSON" }, { status: 400 });
  }
  const term = String(query.query ?? "").toLowerCase();
  const page = Number(query.page ?? 1) || 1;
  const seed = [...term].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
  const results = Array.from({ length: 5 }, (_, i) => {
    const n = (seed + page * 5 + i) % PRODUCTS.length;
    return { id: `${PRODUCTS[n]}-${(seed + i) % 1000}`, name: `${term || "any"} ${PRODUCTS[n]}`, price: 10 + ((seed >> i) % 90) };
  });
  return Response.json(
    { query: term, page, results, generatedAt: new Date().toISOString() },
    { headers: { "cache-control": "public, max-age=60, stale-while-revalidate=30" } },
  );
}
