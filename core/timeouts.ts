/**
 * Every wait the engine makes is bounded: store calls, the origin's response headers, each pause in the
 * origin's body, and a wait on an identical request in flight.
 */
import type { Fetcher } from "./types.ts";

/** The origin sent no response headers within `originTimeoutMs`. */
export class OriginTimeout extends Error {
  constructor(ms: number) {
    super(`[postcache] the origin did not answer within ${ms} ms`);
    this.name = "OriginTimeout";
  }
}

/** The origin's body paused for longer than `originBodyTimeoutMs` between two chunks. */
export class OriginBodyTimeout extends Error {
  constructor(ms: number) {
    super(`[postcache] the origin's body stalled for ${ms} ms`);
    this.name = "OriginBodyTimeout";
  }
}

/** A store call did not settle within `storeTimeoutMs` (reported through `onError`, then skipped). */
export class StoreTimeout extends Error {
  constructor(what: string, ms: number) {
    super(`[postcache] ${what} did not settle within ${ms} ms`);
    this.name = "StoreTimeout";
  }
}

/** Calls the origin; past `ms` without response headers, aborts it and rejects with OriginTimeout. */
export async function callOrigin(fetcher: Fetcher, request: Request, ms: number): Promise<Response> {
  if (ms === 0) return fetcher(request);
  const controller = new AbortController();
  const timed = new Request(request, { signal: controller.signal });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new OriginTimeout(ms));
    }, ms);
  });
  try {
    return await Promise.race([fetcher(timed), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `body` as it comes, but erroring with OriginBodyTimeout (and cancelling the origin's stream) when no
 * chunk arrives within `ms` of being asked for. Only time spent waiting on the origin counts: a slow
 * reader pauses the clock, since nothing is asked of the origin meanwhile.
 */
export function idleTimeout(body: ReadableStream<Uint8Array>, ms: number): ReadableStream<Uint8Array> {
  if (ms === 0) return body;
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const stalled = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new OriginBodyTimeout(ms)), ms);
        });
        try {
          const { done, value } = await Promise.race([reader.read(), stalled]);
          if (done) controller.close();
          else controller.enqueue(value);
        } catch (error) {
          reader.cancel(error).catch(noop);
          controller.error(error);
        } finally {
          clearTimeout(timer);
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

const PENDING = Symbol("pending");
/** What `withDeadline` gives when the deadline passed first. */
export const TIMED_OUT = Symbol("timed out");

/** Settles like `promise`, or with TIMED_OUT after `ms`. */
export async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Settles like `promise`, or rejects after `ms`. */
export async function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  // An in-process store has settled already: racing a settled marker tells (Promise.race settles with
  // the first argument that has settled), and saves arming and clearing a timer per call.
  const first = await Promise.race([promise, PENDING]);
  if (first !== PENDING) return first as T;
  const result = await withDeadline(promise, ms);
  if (result === TIMED_OUT) throw new StoreTimeout(what, ms);
  return result;
}

/** Passes chunks through unchanged, and ends only once `settled` has settled. */
export function holdUntil(settled: Promise<unknown>): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream({ flush: () => settled.then(noop, noop) });
}

export function noop(): void {}
