/** The adversarial tour (attack.ts) against the real servers, as `npm run attack` runs it. */
import { expect, test } from "bun:test";
import { bundledCli } from "../e2e/node-server.ts";
import { runToEnd } from "../e2e/process.ts";
import { systemNode } from "../package/scratch.ts";

async function attack(server: string[] = []) {
  const run = await runToEnd([process.execPath, "test/adversarial/attack.ts", ...server], { timeoutMs: 90_000 });
  const failures = run.stdout.split("\n").filter((line) => line.startsWith("FAIL"));
  expect(failures).toEqual([]);
  expect(run.stdout).toMatch(/(\d+) of \1 checks held/);
  expect(run.code).toBe(0);
}

test("every attack of test/adversarial/attack.ts holds against the postcache command under Bun", () => attack(), 100_000);

test("every attack holds against the postcache command under Node", async () => {
  await attack(["--server", systemNode(), await bundledCli()]);
}, 100_000);
