/**
 * A real HTTP origin for the runtime tests (msw cannot reach inside another runtime): it counts
 * calls per method + path + body, so tests can tell a HIT from an origin call.
 */
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import { gzipSync } from "node:zlib";

/** One request as the origin received it. */
export interface SeenRequest {
  method: string;
  /** The request target exactly as it arrived. */
  path: string;
  host: string | undefined;
  body: string;
}

export interface TestOrigin {
  url: string;
  /** Every request received, in order. */
  seen: SeenRequest[];
  /** Origin calls for `method path` with exactly this body. */
  calls(method: string, path: string, body?: string): number;
  total(): number;
  stop(): Promise<void>;
}

export async function startTestOrigin(): Promise<TestOrigin> {
  const counts = new Map<string, number>();
  const seen: SeenRequest[] = [];
  let total = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const path = req.url ?? "/";
      const id = `${req.method} ${path} ${body.toString("latin1")}`;
      counts.set(id, (counts.get(id) ?? 0) + 1);
      seen.push({ method: req.method ?? "", path, host: req.headers.host, body: body.toString("latin1") });
      total++;
      const digest = createHash("sha256").update(body).digest("hex");
      const answer = JSON.stringify({ method: req.method, path, digest, call: total });
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (path.startsWith("/gzip")) {
        // A compressed answer: whatever the runtime's fetch does with it, the client must be able to read it.
        headers["content-encoding"] = "gzip";
        headers["cache-control"] = "public, max-age=300";
        res.writeHead(200, headers).end(gzipSync(answer));
        return;
      }
      if (path.startsWith("/nostore")) headers["cache-control"] = "no-store";
      else if (path.startsWith("/private")) headers["cache-control"] = "private, max-age=60";
      else headers["cache-control"] = "public, max-age=300";
      res.writeHead(200, headers).end(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("origin did not bind");
  return {
    url: `http://127.0.0.1:${address.port}`,
    seen,
    calls: (method, path, body = "") => counts.get(`${method} ${path} ${body}`) ?? 0,
    total: () => total,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
