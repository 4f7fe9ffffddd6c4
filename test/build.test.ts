/**
 * `npm run build`: runs it once, as CI would, then checks what it wrote: every package.json export,
 * every deployable bundle within its limits, the EdgeOne script form, and that the build's own guards
 * (missing entries, size limits, platform-neutral core) do fail when they should.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import {
  BUDGET_GZIP_BYTES,
  build,
  checkPure,
  DEPLOY_TARGETS,
  type DeployTarget,
  LIB_ENTRIES,
  PROVIDER_LIMITS,
  rewriteTsSpecifiers,
  violations,
} from "../build.ts";
import { runToEnd } from "./e2e/process.ts";

const ROOT = join(import.meta.dir, "..");
const DIST = join(ROOT, "dist");
const scratch = mkdtempSync(join(tmpdir(), "postcache-build-"));
let run: { code: number; stdout: string; stderr: string };

beforeAll(async () => {
  run = await runToEnd([process.execPath, "build.ts"], { cwd: ROOT });
}, 20_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The files a deploy target writes, relative to dist/. */
function outputsOf(target: DeployTarget): string[] {
  if (Array.isArray(target.entries)) return target.entries.map(target.out);
  const { dir, extension } = target.entries;
  return [...new Bun.Glob(`**/*${extension}`).scanSync(join(ROOT, dir))].map((name) => target.out(join(dir, name)));
}

test("npm run build succeeds and prints target, file, raw and gzip bytes", () => {
  expect(run.stderr, run.stderr).toBe("");
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/^target\s+file\s+raw bytes\s+gzip bytes/);
  for (const target of DEPLOY_TARGETS) expect(run.stdout).toContain(`\n${target.name} `);
});

describe("package.json exports", () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
    exports: Record<string, Record<string, string>>;
    files: string[];
    scripts: Record<string, string>;
  };

  test("one export per library entry: core as `.`, each adapter as `./<name>`; cli is the bin", () => {
    const expected = Object.keys(LIB_ENTRIES)
      .filter((name) => name !== "cli")
      .map((name) => (name === "core" ? "." : `./${name}`));
    expect((pkg as unknown as { bin: Record<string, string> }).bin).toEqual({ postcache: "bin/postcache.mjs" });
    expect(readFileSync(join(ROOT, "bin/postcache.mjs"), "utf8")).toMatch(
      /^#!\/usr\/bin\/env node\n[\s\S]*import "\.\.\/dist\/lib\/cli\.js";/,
    );
    expect(
      Object.keys(pkg.exports)
        .filter((p) => p !== "./package.json")
        .sort(),
    ).toEqual(expected.sort());
    expect(pkg.scripts.build).toBe("bun build.ts");
  });

  test('every export has emitted declarations and a built module, both in "files", and the module loads', async () => {
    for (const [path, conditions] of Object.entries(pkg.exports)) {
      if (path === "./package.json") continue;
      // TypeScript reads conditions in order: "types" first. "default" serves import and require alike.
      expect(Object.keys(conditions)).toEqual(["types", "default"]);
      expect(conditions.types).toMatch(/^\.\/dist\/types\/.+\.d\.ts$/);
      for (const file of Object.values(conditions)) {
        expect(existsSync(join(ROOT, file)), `${path} → ${file}`).toBe(true);
        expect(
          pkg.files.some((f) => file.startsWith(`./${f}/`)),
          `${file} is not in "files"`,
        ).toBe(true);
      }
      const module = await import(join(ROOT, conditions.default));
      const functions = Object.values(module).filter((v) => typeof v === "function");
      expect(functions.length, `${path} exports no function`).toBeGreaterThan(0);
    }
    expect(typeof (await import(join(DIST, "lib/core.js"))).createPostcache).toBe("function");
  });

  test("declarations import only each other, by .js specifiers, Node's modules and declared packages: no .ts", () => {
    const full = pkg as unknown as { dependencies?: object; peerDependencies?: object };
    const declared = [...Object.keys(full.dependencies ?? {}), ...Object.keys(full.peerDependencies ?? {})];
    const allowed = new RegExp(`^(?:\\.\\.?/.*\\.js|node:[a-z/_]+|(?:${declared.join("|")})(?:/[\\w/-]+)?)$`);
    const files = [...new Bun.Glob("**/*.d.ts").scanSync(join(DIST, "types"))];
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      const code = readFileSync(join(DIST, "types", file), "utf8")
        .split("\n")
        .filter((line) => !/^\s*(\*|\/\*|\/\/)/.test(line))
        .join("\n");
      for (const [, specifier] of code.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)) {
        expect(specifier, `${file} imports ${specifier}`).toMatch(allowed);
      }
    }
  });

  test("rewriteTsSpecifiers rewrites relative .ts imports and leaves the rest", () => {
    expect(rewriteTsSpecifiers('import { a } from "./a.ts";\nexport * from "../b/c.ts";\ntype T = import("./t.ts").T;')).toBe(
      'import { a } from "./a.js";\nexport * from "../b/c.js";\ntype T = import("./t.js").T;',
    );
    expect(rewriteTsSpecifiers('import x from "pkg.ts"; const s = "./not-an-import.ts";')).toBe(
      'import x from "pkg.ts"; const s = "./not-an-import.ts";',
    );
  });

  test("the package is publishable: versioned, licensed, engines, one runtime dependency (prom-client)", () => {
    const full = pkg as unknown as Record<string, unknown>;
    expect(full.private).toBeUndefined();
    expect(full.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(full.license).toBe("MIT");
    expect(readFileSync(join(ROOT, "LICENSE"), "utf8")).toContain("Copyright (c) 2026 postcache contributors");
    expect(full.sideEffects).toBe(false);
    expect(full.engines).toEqual({ node: ">=20" });
    expect(Object.keys(full.dependencies as object)).toEqual(["prom-client"]);
    expect(pkg.scripts.prepack).toBe("npm run build");
    expect(readFileSync(join(DIST, "lib/THIRD-PARTY-NOTICES.md"), "utf8")).toContain("Apache License");
  });

  test("core and an adapter share one engine chunk, not two copies", () => {
    const core = readFileSync(join(DIST, "lib/core.js"), "utf8");
    const cloudflare = readFileSync(join(DIST, "lib/cloudflare.js"), "utf8");
    const chunk = core.match(/from "(\.\/chunks\/[^"]+)"/)?.[1];
    expect(chunk).toBeDefined();
    expect(cloudflare).toContain(`from "${chunk}"`);
    expect(cloudflare).not.toContain("function createPostcache");
  });
});

describe("deployable bundles", () => {
  test.each(DEPLOY_TARGETS.map((t) => [t.name, t] as const))(
    "%s: written, within its provider limit and 16 KiB gzip",
    (_, target) => {
      const outputs = outputsOf(target);
      expect(outputs.length).toBeGreaterThan(0);
      expect(target.limits.some((l) => l.bytes === BUDGET_GZIP_BYTES && l.of === "gzip")).toBe(true);
      for (const file of outputs) {
        const bytes = readFileSync(join(DIST, file));
        const measured = {
          target: target.name,
          file,
          raw: bytes.byteLength,
          gzip: gzipSync(bytes).byteLength,
          limits: target.limits,
        };
        expect(violations(measured)).toEqual([]);
        expect(measured.gzip).toBeLessThanOrEqual(BUDGET_GZIP_BYTES);
      }
    },
  );

  test("the EdgeOne Edge Functions bundle is a classic script: no import or export", () => {
    const script = readFileSync(join(DIST, "edgeone/edge-function.js"), "utf8");
    // A Function body parses as a script: an import/export declaration or import.meta is a SyntaxError.
    expect(() => new Function(script)).not.toThrow();
    expect(script).not.toMatch(/\bimport\s*\(/);
    expect(script).toContain('addEventListener("fetch"');
  });

  test("ESM bundles are modules with a default export (Cloudflare, Netlify, Vercel) or onRequest (EdgeOne Pages)", () => {
    for (const file of ["cloudflare/worker.js", "netlify/postcache.js", "vercel/middleware.js"]) {
      expect(readFileSync(join(DIST, file), "utf8"), file).toMatch(/export\s*\{[^}]*\bas default\b/);
    }
    const pages = DEPLOY_TARGETS.find((t) => t.name === "edgeone-pages");
    if (!pages) throw new Error("no edgeone-pages target");
    const routes = outputsOf(pages);
    expect(routes).toContain("edgeone-pages/edge-functions/index.js");
    for (const file of routes) expect(readFileSync(join(DIST, file), "utf8"), file).toMatch(/export\s*\{[^}]*\bas onRequest\b/);
  });

  test("Vercel: the middleware bundle declares `export const config = {...}`, the literal Vercel's static analysis reads", async () => {
    const file = join(DIST, "vercel/middleware.js");
    const script = readFileSync(file, "utf8");
    // https://vercel.com/docs/routing-middleware/api#config-object: read from the file, not run; an
    // export through an alias (`export { aa as config }`) is not seen, so the matcher would be ignored.
    expect(script).toMatch(/\nexport const config = \{"matcher":/);
    expect(script).not.toMatch(/\bas config\b/);
    const built = (await import(`${file}?literal`)) as { config: unknown };
    const source = (await import(join(ROOT, "examples/vercel/middleware.ts"))) as { config: unknown };
    expect(built.config).toEqual(source.config);
  });

  test("provider limits are the documented ones", () => {
    expect(PROVIDER_LIMITS.cloudflare.find((l) => l.of === "gzip")?.bytes).toBe(3_000_000);
    expect(PROVIDER_LIMITS.edgeone[0].bytes).toBe(5_000_000);
    expect(PROVIDER_LIMITS.netlify[0]).toMatchObject({ bytes: 20_000_000, of: "gzip" });
    expect(PROVIDER_LIMITS.vercel[0]).toMatchObject({ bytes: 1_000_000, of: "gzip" });
  });
});

describe("the build's guards fail when they should", () => {
  const cloudflare = DEPLOY_TARGETS.find((t) => t.name === "cloudflare") as DeployTarget;

  test("a missing entry fails the build, naming it", async () => {
    const ghost: DeployTarget = { ...cloudflare, name: "ghost", entries: ["examples/ghost/worker.ts"] };
    const pages: DeployTarget = {
      ...cloudflare,
      name: "ghost-pages",
      entries: { dir: "examples/ghost/pages", extension: ".ts" },
    };
    await expect(build({ outdir: join(scratch, "missing"), targets: [cloudflare, ghost, pages] })).rejects.toThrow(
      /entry files are missing:\n {2}ghost: examples\/ghost\/worker\.ts\n {2}ghost-pages: no \.ts file under examples\/ghost\/pages/,
    );
    expect(existsSync(join(scratch, "missing"))).toBe(false);
  });

  test("a bundle over a limit fails the build, naming the file and the limit", async () => {
    const tight: DeployTarget = { ...cloudflare, limits: [{ what: "test", bytes: 1000, of: "gzip" }] };
    await expect(build({ outdir: join(scratch, "tight"), only: ["cloudflare"], targets: [tight] })).rejects.toThrow(
      /cloudflare\/worker\.js is \d+ bytes gzip, over the test limit of 1000/,
    );
  });

  test("an unknown --only target is refused", async () => {
    await expect(build({ outdir: join(scratch, "only"), only: ["nope"] })).rejects.toThrow(/unknown target "nope"/);
  });

  test("the real core is platform-neutral", async () => {
    const files = [...new Bun.Glob("**/*.ts").scanSync(join(ROOT, "core"))].map((f) => join("core", f));
    expect(files.length).toBeGreaterThan(5);
    await checkPure(files, join(ROOT, "core"));
  });

  /** A throwaway "core" with one offending line, checked with the core settings. */
  async function pureCheckOf(source: string): Promise<unknown> {
    const dir = mkdtempSync(join(scratch, "core-"));
    mkdirSync(join(dir, "stores"));
    writeFileSync(join(dir, "stores/ok.ts"), "export const ok = new Response('fine');\n");
    writeFileSync(join(dir, "index.ts"), `import { ok } from "./stores/ok.ts";\n${source}\nexport { ok };\n`);
    return checkPure([join(dir, "index.ts")], dir).then(
      () => undefined,
      (error: Error) => error,
    );
  }

  test.each([
    ['import { readFileSync } from "node:fs"; export const read = readFileSync;', /imports "node:fs"/],
    ['import { RedisClient } from "bun"; export const client = RedisClient;', /imports "bun"/],
    ['import { getCache } from "@vercel/functions"; export const cache = getCache;', /imports "@vercel\/functions"/],
    ["export const origin = process.env.ORIGIN;", /uses process\./],
    ['export const hash = new Bun.CryptoHasher("sha256");', /uses Bun\./],
    ['export const origin = Deno.env.get("ORIGIN");', /uses Deno\./],
  ])("core importing or using a runtime fails: %s", async (source, message) => {
    const error = await pureCheckOf(source);
    expect(error).toBeInstanceOf(Error);
    expect(String(error)).toMatch(/core is not platform-neutral/);
    expect(String(error)).toMatch(message);
  });

  test("Web-standard code passes the same check (the check is not always failing)", async () => {
    expect(await pureCheckOf("export const digest = (b: Uint8Array) => crypto.subtle.digest('SHA-256', b);")).toBeUndefined();
  });
});

test("dist/lib holds only the library files and their chunks", () => {
  const files = [...new Bun.Glob("**/*").scanSync(join(DIST, "lib"))];
  for (const file of files) expect(file).toMatch(/^(chunks\/chunk-[A-Z0-9]+\.js|[a-z-]+\.js|THIRD-PARTY-NOTICES\.md)$/);
  for (const name of Object.keys(LIB_ENTRIES)) expect(files).toContain(`${name}.js`);
});

test("tsconfig.json maps every export name to its source, as the build's postcacheFromSource does", () => {
  const paths = (
    JSON.parse(readFileSync(join(ROOT, "tsconfig.json"), "utf8")) as { compilerOptions: { paths: Record<string, string[]> } }
  ).compilerOptions.paths;
  const expected = Object.fromEntries(
    Object.entries(LIB_ENTRIES)
      .filter(([name]) => name !== "cli")
      .map(([name, entry]) => [name === "core" ? "postcache" : `postcache/${name}`, [`./${entry}`]]),
  );
  expect(paths).toEqual(expected);
});
