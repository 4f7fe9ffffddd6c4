/** The adversarial tour (attack.ts) against the real Bun server, as `npm run attack` runs it. */
import { expect, test } from "bun:test";
import { runToEnd } from "../e2e/process.ts";

test("every attack of test/adversarial/attack.ts holds against the Bun server", async () => {
  const run = await runToEnd([process.execPath, "test/adversarial/attack.ts"], { timeoutMs: 90_000 });
  const failures = run.stdout.split("\n").filter((line) => line.startsWith("FAIL"));
  expect(failures).toEqual([]);
  expect(run.stdout).toMatch(/(\d+) of \1 checks held/);
  expect(run.code).toBe(0);
}, 100_000);
