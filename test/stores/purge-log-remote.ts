/**
 * Runs the purge log conformance suite against a log inside another runtime (Deno, workerd): the
 * runtime's fixture answers `{op, prefix, bounds, target, at}` with the test's clock in `x-test-now`.
 */
import type { PurgeLog, PurgeState } from "../../core/purge-log.ts";
import type { TestClock } from "./conformance.ts";

let n = 0;
export function remotePurgeLog(
  url: string,
  clock: TestClock,
  bounds: object,
  name: string,
  prefix = `p${n++}-${Date.now()}`,
): PurgeLog & { prefix: string } {
  async function call(body: object): Promise<unknown> {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-test-now": String(clock.ms) },
      body: JSON.stringify({ prefix, bounds, ...body }),
    });
    const json = (await res.json()) as { error?: string };
    if (!res.ok) throw new Error(`[${name}] ${json.error}`);
    return json;
  }
  return {
    name,
    prefix,
    record: async (target, at) => void (await call({ op: "record", target, at })),
    read: async () => (await call({ op: "read" })) as PurgeState,
  };
}
