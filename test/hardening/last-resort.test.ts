/**
 * The servers run in production mode: a handler that throws (a bug, since handle() never rejects) gets
 * a plain 500 that names nothing internal, and one log line; not Bun's development page of source lines.
 */
import { expect, test } from "bun:test";
import { lastResort } from "../../adapters/last-resort.ts";
import { startProcess } from "../e2e/process.ts";

test("lastResort: a plain 500 naming nothing, and one log line with the error's first line", async () => {
  const lines: string[] = [];
  const response = lastResort((line) => lines.push(line))(new Error("boom at /work/secret.ts:3\n  at x"));
  expect(response.status).toBe(500);
  expect(await response.text()).toBe("Internal Server Error\n");
  expect(lines).toEqual(["postcache: internal error: Error: boom at /work/secret.ts:3"]);
});

test("a Bun server with productionServe answers a throwing handler with the plain 500 and logs one line", async () => {
  const server = await startProcess(
    [process.execPath, "test/fixtures/bun/throwing-server.ts"],
    {},
    /listening on (http:\/\/\S+?),/,
    15_000,
  );
  try {
    const res = await fetch(`${server.url}/x`, { method: "POST", body: "{}" });
    expect(res.status).toBe(500);
    const body = await res.text();
    expect(body).toBe("Internal Server Error\n");
    expect(body).not.toMatch(/secret|throwing-server|\.ts/);
    await Bun.sleep(100);
    const logged = server
      .output()
      .split("\n")
      .filter((line) => line.includes("internal error"));
    expect(logged).toHaveLength(1);
  } finally {
    await server.stop();
  }
}, 20_000);
