/**
 * Every code block in README.md, docs/*.md and examples/<provider>/README.md is checked (conventions in
 * blocks.ts and docs/checked-docs.md): TypeScript and JavaScript type-checked against the packed package
 * installed in .scratch/package/app (TypeScript 7, strict, exactOptionalPropertyTypes, Bun's and Node's
 * ambient types, since the snippets are for servers and edges alike), shell blocks syntax-checked with
 * their npm scripts and file paths present (and `run` ones run against the demo server), JSON and TOML
 * parsed, HTTP shaped as messages. A block in no known language fails.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { freePort, runToEnd, startProcess } from "../e2e/process.ts";
import { APP, BIN, packAndInstall, ROOT } from "../package/scratch.ts";
import { requireTool } from "../system-tool.ts";
import {
  type Block,
  blocksOf,
  CODE_LANGUAGES,
  filePaths,
  isHttp,
  KNOWN_LANGUAGES,
  npmScripts,
  SHELL_LANGUAGES,
} from "./blocks.ts";

const FILES = [
  "README.md",
  ...[...new Bun.Glob("docs/*.md").scanSync(ROOT)].sort(),
  ...[...new Bun.Glob("examples/*/README.md").scanSync(ROOT)].sort(),
];
const BLOCKS = FILES.flatMap((file) => blocksOf(ROOT, file));
// The run blocks are curl commands, as a reader types them.
const curl = await requireTool({
  name: "curl",
  install: ["bash", "test/install-tool.sh", "curl", "curl"],
  neededBy: "docs' run blocks",
});
const where = (b: Block) => `${b.file}:${b.line}`;
/** The folder whose package.json a block's `npm` commands and paths refer to. */
const homeOf = (b: Block) => (b.file.startsWith("examples/") ? join(ROOT, dirname(b.file)) : ROOT);

test("the docs have code blocks, each in a language the check knows", () => {
  expect(BLOCKS.length).toBeGreaterThan(40);
  const unknown = BLOCKS.filter((b) => !KNOWN_LANGUAGES.has(b.language)).map((b) => `${where(b)} \`\`\`${b.language}`);
  expect(unknown).toEqual([]);
});

describe("TypeScript and JavaScript blocks type-check against the packed package", () => {
  const snippets = BLOCKS.filter((b) => CODE_LANGUAGES.has(b.language));
  const dir = join(APP, "doc-snippets");
  const fileOf = (b: Block) => `${b.file.replace(/[/.]/g, "_")}_${b.line}.${b.language.startsWith("j") ? "js" : "ts"}`;

  beforeAll(async () => {
    await packAndInstall();
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const b of snippets) {
      // The prelude on the first line, so the snippet's own line numbers are its line in the doc + 1.
      writeFileSync(join(dir, fileOf(b)), `${b.prelude}\n${b.code}\nexport {};\n`);
    }
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "ESNext",
          moduleResolution: "Bundler",
          strict: true,
          exactOptionalPropertyTypes: true,
          allowJs: true,
          checkJs: true,
          noEmit: true,
          skipLibCheck: true,
          types: ["bun"],
        },
        include: ["*.ts", "*.js"],
      }),
    );
  }, 360_000);

  test("zero errors (each reported at its line in the doc)", async () => {
    expect(snippets.length).toBeGreaterThan(15);
    const run = await runToEnd([join(BIN, "tsc"), "-p", "tsconfig.json"], { cwd: dir, timeoutMs: 60_000 });
    const byFile = new Map(snippets.map((b) => [fileOf(b), b]));
    const errors = `${run.stdout}${run.stderr}`
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const m = /^([^(]+)\((\d+),\d+\): (.*)$/.exec(line);
        const b = m && byFile.get(m[1]);
        return b && m ? `${b.file}:${b.line + Number(m[2]) - 2}: ${m[3]}` : line;
      });
    expect(errors).toEqual([]);
    expect(run.code).toBe(0);
  }, 60_000);
});

describe("shell blocks", () => {
  const shells = BLOCKS.filter((b) => SHELL_LANGUAGES.has(b.language));

  test.each(shells.map((b) => [where(b), b] as const))("%s: parses; its npm scripts and files exist", async (_, b) => {
    const syntax = await runToEnd(["bash", "-n", "-c", b.code], { timeoutMs: 5000 });
    expect(syntax.stderr).toBe("");
    const home = homeOf(b);
    const scripts =
      (JSON.parse(readFileSync(join(home, "package.json"), "utf8")) as { scripts?: Record<string, string> }).scripts ?? {};
    for (const name of npmScripts(b.code)) expect(Object.keys(scripts), `npm ${name} in ${where(b)}`).toContain(name);
    for (const path of filePaths(b.code)) {
      // A path in a template's README is the template's own, or (cd'ed into) the repository's.
      expect(existsSync(join(home, path)) || existsSync(join(ROOT, path)), `${path} named in ${where(b)}`).toBe(true);
    }
  });

  const runs = shells.filter((b) => b.run);
  test("some are run", () => {
    expect(runs.length).toBeGreaterThan(0);
  });
  test.skipIf(!curl).each(runs.map((b) => [where(b), b] as const))(
    "%s: runs against npm start (the postcache command and its demo origin), every curl answered by postcache",
    async (_, b) => {
      const port = await freePort();
      const server = await startProcess(
        [process.execPath, join(ROOT, "cli/postcache.ts"), "--demo"],
        { PORT: String(port), ORIGIN: "" },
        /listening on (http:\/\/\S+?),/,
      );
      try {
        const code = b.code.replaceAll("127.0.0.1:8787", `127.0.0.1:${port}`);
        // curl where it was found, and nothing else from its folder (a PATH that hides tools stays so).
        const bin = join(APP, ".bin-curl");
        mkdirSync(bin, { recursive: true });
        if (!existsSync(join(bin, "curl"))) symlinkSync(curl as string, join(bin, "curl"));
        const path = `${bin}:${process.env.PATH}`;
        const run = await runToEnd(["bash", "-e", "-c", code], {
          cwd: ROOT,
          env: { ...process.env, PATH: path },
          timeoutMs: 20_000,
        });
        expect(run.code, run.stderr).toBe(0);
        const curls = (code.match(/\bcurl\b/g) ?? []).length;
        expect((run.stdout.match(/^cache-status: postcache; /gim) ?? []).length).toBe(curls);
      } finally {
        await server.stop();
      }
    },
    30_000,
  );
});

describe("data and message blocks", () => {
  test.each(BLOCKS.filter((b) => b.language === "json").map((b) => [where(b), b] as const))("%s: JSON parses", (_, b) => {
    expect(() => JSON.parse(b.code)).not.toThrow();
  });
  test.each(BLOCKS.filter((b) => b.language === "toml").map((b) => [where(b), b] as const))("%s: TOML parses", (_, b) => {
    expect(() => Bun.TOML.parse(b.code)).not.toThrow();
  });
  test.each(BLOCKS.filter((b) => b.language === "http").map((b) => [where(b), b] as const))("%s: HTTP messages", (_, b) => {
    expect(isHttp(b.code)).toBe(true);
  });
});

describe("links", () => {
  test("every relative link in the README, docs/ and the templates' READMEs names a file that exists", () => {
    const broken: string[] = [];
    for (const file of FILES) {
      const text = readFileSync(join(ROOT, file), "utf8");
      for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/.test(target)) continue; // https:, mailto:
        if (!existsSync(join(ROOT, dirname(file), target))) broken.push(`${file} -> ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
