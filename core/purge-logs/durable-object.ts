/**
 * Cloudflare Durable Object purge log: one object (by name) holds the log, strongly consistent, since
 * every request to one object runs on that one instance, in order
 * (https://developers.cloudflare.com/durable-objects/). The object keeps the log in memory, loaded once
 * (`blockConcurrencyWhile`), and persists it under one storage key after each record; a read is one
 * subrequest from the isolate to the object. Export `PurgeLogObject` from the Worker, bind it
 * (`[[durable_objects.bindings]] name = "PURGES", class_name = "PurgeLogObject"`, plus a migration), and
 * pass `durableObjectPurgeLog(env.PURGES)`. Bounded like the memory log (it is one inside); the stored
 * value must stay within the storage's value limit, so `maxTargets` defaults to 5000 here.
 */
import type { PurgeLog, PurgeState } from "../purge-log.ts";
import { memoryPurgeLog, type PurgeLogBounds } from "./memory.ts";

/** The part of a Durable Object namespace binding this log uses. */
export interface DurableObjectNamespaceLike {
  idFromName(name: string): unknown;
  get(id: never): { fetch(input: string, init?: RequestInit): Promise<Response> };
}

/** The part of `DurableObjectState` the object uses. */
export interface DurableObjectStateLike {
  storage: { get(key: string): Promise<unknown>; put(key: string, value: unknown): Promise<void> };
  blockConcurrencyWhile<T>(run: () => Promise<T>): Promise<T>;
}

const ORIGIN = "https://purge-log.postcache.invalid";

/** The client side: a PurgeLog whose calls go to the object `name` (default `postcache-purges`). */
export function durableObjectPurgeLog(namespace: DurableObjectNamespaceLike, name = "postcache-purges"): PurgeLog {
  if (typeof namespace?.idFromName !== "function") {
    throw new TypeError('[postcache] [durable-object-purge-log] "namespace" must be a Durable Object namespace binding');
  }
  const stub = () => namespace.get(namespace.idFromName(name) as never);
  async function call(path: string, body?: object): Promise<unknown> {
    const res = await stub().fetch(ORIGIN + path, { method: "POST", body: JSON.stringify(body ?? {}) });
    if (!res.ok) throw new Error(`[postcache] [durable-object-purge-log] ${path} answered ${res.status}`);
    return res.json();
  }
  return {
    name: "durable-object",
    record: async (target, at) => void (await call("/record", { target, at })),
    read: async () => (await call("/read")) as PurgeState,
  };
}

/** The Durable Object class. Options: the bounds (`retentionMs`, `maxTargets`). */
export function purgeLogObject(bounds: PurgeLogBounds = {}) {
  return class PurgeLogObject {
    readonly log = memoryPurgeLog({ maxTargets: 5000, ...bounds });
    constructor(readonly state: DurableObjectStateLike) {
      state.blockConcurrencyWhile(async () => {
        const saved = (await state.storage.get("log")) as PurgeState | undefined;
        for (const [target, at] of Object.entries(saved?.purges ?? {})) await this.log.record(target, at);
        this.floor = saved?.floor ?? 0;
      });
    }
    floor = 0;
    async fetch(request: Request): Promise<Response> {
      const path = new URL(request.url).pathname;
      if (request.method !== "POST") return new Response(null, { status: 405 });
      if (path === "/read") return Response.json(await this.snapshot());
      if (path === "/record") {
        const { target, at } = (await request.json()) as { target?: unknown; at?: unknown };
        if (typeof target !== "string" || typeof at !== "number" || !Number.isFinite(at)) {
          return new Response("target (string) and at (ms) required", { status: 400 });
        }
        await this.log.record(target, at);
        await this.state.storage.put("log", await this.snapshot());
        return Response.json({});
      }
      return new Response(null, { status: 404 });
    }
    async snapshot(): Promise<PurgeState> {
      const state = await this.log.read();
      return { floor: Math.max(this.floor, state.floor), purges: state.purges };
    }
  };
}
