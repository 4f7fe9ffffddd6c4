/**
 * Runs the store conformance suite against a store that lives inside another runtime (workerd, Deno,
 * the Edge Runtime), where the real platform cache is. The runtime serves `storeTestHandler`; the
 * test process talks to it through `remoteStore`, which is itself a CacheStore. The clock travels
 * with each call in `x-test-now`, so expiry is tested on a controlled clock everywhere.
 *
 * `storeTestHandler` is Web-standard code: bundle it into the runtime's test entry.
 */
import { entryFromJson, entryToJson } from "../../core/stores/codec.ts";
import type { CacheStore } from "../../core/types.ts";
import type { TestClock } from "./conformance.ts";

/** The runtime side: `makeStore(now)` builds the store under test once; each call sets the clock. */
export function storeTestHandler(makeStore: (now: () => number) => CacheStore | Promise<CacheStore>) {
  let clock = Date.now();
  let store: Promise<CacheStore> | undefined;
  return async (request: Request): Promise<Response> => {
    store ??= Promise.resolve(makeStore(() => clock));
    const s = await store;
    const now = request.headers.get("x-test-now");
    if (now) clock = Number(now);
    const { op, key, ttl, entry, tag } = (await request.json()) as {
      op: string;
      key: string;
      ttl?: number;
      entry?: unknown;
      tag?: string;
    };
    try {
      if (op === "get") {
        const got = await s.get(key);
        return Response.json({ entry: got ? entryToJson(got) : null });
      }
      if (op === "set") {
        await s.set(key, entryFromJson(entry, "remote"), ttl ?? 0);
        return Response.json({});
      }
      if (op === "delete") return Response.json({ removed: await s.delete(key) });
      if (op === "deleteTag" && s.deleteTag) return Response.json({ removed: await s.deleteTag(tag ?? "") });
      if (op === "clear" && s.clear) {
        await s.clear();
        return Response.json({});
      }
      if (op === "deleteTag" || op === "clear") return Response.json({ error: `${s.name} has no ${op}` }, { status: 501 });
      return Response.json({ error: `unknown op ${op}` }, { status: 400 });
    } catch (error) {
      return Response.json({ error: String((error as Error)?.stack ?? error) }, { status: 500 });
    }
  };
}

/** The test side: a CacheStore that forwards every call to `url`, carrying `clock`. `deleteTag` and
 * `clear` reject when the store in the runtime has none. */
export function remoteStore(url: string, clock: TestClock, name = "remote"): CacheStore {
  async function call(body: object): Promise<Record<string, unknown>> {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-test-now": String(clock.ms) },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`[remote ${name}] ${json.error}`);
    return json;
  }
  return {
    name,
    async get(key) {
      const { entry } = await call({ op: "get", key });
      return entry ? entryFromJson(entry, name) : undefined;
    },
    async set(key, entry, ttl) {
      await call({ op: "set", key, ttl, entry: entryToJson(entry) });
    },
    async delete(key) {
      return Boolean((await call({ op: "delete", key })).removed);
    },
    async deleteTag(tag) {
      return Number((await call({ op: "deleteTag", tag })).removed);
    },
    async clear() {
      await call({ op: "clear" });
    },
  };
}
