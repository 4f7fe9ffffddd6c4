/**
 * A local stand-in for a provider's purge API: Bun.serve on 127.0.0.1, recording every request, and
 * answering as `answer` says (or never, for timeout tests; a stopped server ends those waits).
 */
import type { Server } from "bun";

export interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Headers;
  body: string;
  json: unknown;
}

export type Answer = (request: Recorded) => Response | "hang";

export interface StandIn {
  readonly base: string;
  readonly requests: Recorded[];
  /** What the next requests are answered with. */
  answer: Answer;
  stop(): Promise<void>;
}

export function standIn(answer: Answer): StandIn {
  const requests: Recorded[] = [];
  const state = { answer };
  const hanging: (() => void)[] = [];
  const server: Server<undefined> = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      const body = await request.text();
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const recorded = {
        method: request.method,
        path: url.pathname,
        query: url.searchParams,
        headers: request.headers,
        body,
        json,
      };
      requests.push(recorded);
      const result = state.answer(recorded);
      if (result !== "hang") return result;
      // Never answers on its own; bounded by stop() (and by the purger's own timeout under test).
      return new Promise<Response>((resolve) => hanging.push(() => resolve(new Response("stopped", { status: 503 }))));
    },
  });
  return {
    base: `http://127.0.0.1:${server.port}`,
    requests,
    get answer() {
      return state.answer;
    },
    set answer(a: Answer) {
      state.answer = a;
    },
    async stop() {
      for (const release of hanging.splice(0)) release();
      await server.stop(true);
    },
  };
}
