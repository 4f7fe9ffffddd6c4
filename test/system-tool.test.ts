/** requireTool: a missing program is a one-line skip outside CI and a failure under CI=true. */
import { afterEach, expect, spyOn, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findTool, requireTool } from "./system-tool.ts";

const ABSENT = { name: "postcache-no-such-tool", install: ["false"], neededBy: "tool test" };
const ci = process.env.CI;
afterEach(() => {
  if (ci === undefined) delete process.env.CI;
  else process.env.CI = ci;
});

test("a program on PATH is found, with no install", async () => {
  expect(await requireTool({ ...ABSENT, name: "sh" })).toBe(findTool("sh") as string);
});

test("a missing program is installed by the given command, then found", async () => {
  const dir = mkdtempSync(join(tmpdir(), "postcache-tool-"));
  const path = process.env.PATH;
  process.env.PATH = `${dir}:${path}`;
  const errors = spyOn(console, "error").mockImplementation(() => {});
  try {
    const tool = join(dir, "postcache-installed-tool");
    const install = ["sh", "-c", `printf '#!/bin/sh\\n' > ${tool} && chmod +x ${tool}`];
    expect(await requireTool({ name: "postcache-installed-tool", install, neededBy: "tool test" })).toBe(tool);
    expect(String(errors.mock.calls[0]?.[0])).toContain("installing it with");
  } finally {
    errors.mockRestore();
    process.env.PATH = path;
    rmSync(dir, { recursive: true, force: true });
  }
});

test("outside CI, a program that stays missing is skipped with one line naming it and its install command", async () => {
  delete process.env.CI;
  const errors = spyOn(console, "error").mockImplementation(() => {});
  try {
    expect(await requireTool(ABSENT)).toBeUndefined();
    const lines = errors.mock.calls.map((call) => String(call[0]));
    const skip = lines.filter((line) => line.includes("skipped"));
    expect(skip).toHaveLength(1);
    expect(skip[0]).toContain("postcache-no-such-tool");
    expect(skip[0]).toContain("`false`");
  } finally {
    errors.mockRestore();
  }
});

test("under CI=true, a program that stays missing fails", async () => {
  process.env.CI = "true";
  const errors = spyOn(console, "error").mockImplementation(() => {});
  try {
    await expect(requireTool(ABSENT)).rejects.toThrow(/FAILED under CI=true.*postcache-no-such-tool/);
  } finally {
    errors.mockRestore();
  }
});
