/**
 * For the client tests: the Bun adapter on a real `Bun.serve` (127.0.0.1, free port) in front of the
 * counting test origin, and a recorder that sees every request the client sends and what came back.
 */
import { type BunOptions, postcacheBun } from "../../adapters/bun.ts";
import type { FetchLike } from "../../core/client.ts";
import { startTestOrigin, type TestOrigin } from "../e2e/origin.ts";

export interface Edge {
  url: string;
  origin: TestOrigin;
  stop(): Promise<void>;
}

export async function startEdge(options: Omit<BunOptions, "origin"> = {}): Promise<Edge> {
  const origin = await startTestOrigin();
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: postcacheBun({ origin: origin.url, ...options }) });
  return {
    url: `http://127.0.0.1:${server.port}`,
    origin,
    stop: async () => {
      await server.stop(true);
      await origin.stop();
    },
  };
}

/** One request as it left the client, and the answer the network gave to it (not the caller's). */
export interface Exchange {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** Bytes of the request body; -1 when not read (`recorder(false)`, for stream bodies). */
  bodyBytes: number;
  status: number;
  cacheStatus: string;
}

/** A `fetch` that writes down each exchange; with `readBodies` false it leaves request bodies alone. */
export function recorder(readBodies = true): { fetch: FetchLike; log: Exchange[] } {
  const log: Exchange[] = [];
  return {
    log,
    fetch: async (request) => {
      const exchange: Exchange = {
        method: request.method,
        url: request.url,
        headers: Object.fromEntries(request.headers),
        bodyBytes: request.body === null ? 0 : -1,
        status: 0,
        cacheStatus: "",
      };
      // A copy: the request still goes out with its body.
      if (request.body !== null && readBodies) {
        exchange.bodyBytes = (await request.clone().arrayBuffer()).byteLength;
      }
      log.push(exchange);
      const response = await fetch(request);
      exchange.status = response.status;
      exchange.cacheStatus = response.headers.get("cache-status") ?? "";
      return response;
    },
  };
}

/** A JSON body of at least `bytes` bytes, different for each `tag`. */
export function jsonBody(tag: string, bytes = 4096): string {
  const pad = "x".repeat(Math.max(0, bytes - tag.length - 20));
  return JSON.stringify({ query: tag, pad });
}

export const HIT = /;\s*hit\b/;
