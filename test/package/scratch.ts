/**
 * The package as a user gets it: `npm pack` (whose `prepack` runs the build), then the tarball installed
 * from the registry's way of doing things into a fresh project under .scratch/, once per test run and
 * shared by the tests that need it (the consumer test, the templates).
 *
 * Offline-friendly: besides the tarball, the scratch project installs only TypeScript 5 (`typescript@5`,
 * the latest 5.x) and @types/bun (for the docs' snippets, test/docs) from the npm registry, or from npm's
 * cache after the first run (`--prefer-offline`).
 * TypeScript 7, esbuild, Deno, Bun and Node 22 are the repository's own devDependencies.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { runToEnd } from "../e2e/process.ts";

export const ROOT = resolve(import.meta.dir, "../..");
export const SCRATCH = join(ROOT, ".scratch/package");
export const APP = join(SCRATCH, "app");
export const FIXTURES = join(import.meta.dir, "fixtures");
export const BIN = join(ROOT, "node_modules/.bin");
export const NODE22 = join(ROOT, "node_modules/node/bin/node");

/**
 * The machine's own Node (20 here), not the `node` that npm scripts put first on PATH: node_modules/.bin
 * holds node@22's. The first `node` on PATH outside a node_modules folder.
 */
export function systemNode(): string {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (!dir || dir.includes("node_modules")) continue;
    const candidate = join(dir, "node");
    if (existsSync(candidate)) return candidate;
  }
  throw new Error("no node on PATH outside node_modules");
}

export interface Packed {
  /** The tarball's absolute path. */
  tarball: string;
  /** The files it holds, relative to its `package/` folder. */
  files: string[];
  /** What `npm install` printed in the scratch project. */
  installOutput: string;
  /** Milliseconds taken by `npm pack` and by `npm install`. */
  packMs: number;
  installMs: number;
}

/** Runs `cmd`, failing with its output unless it exits 0. */
export async function mustRun(cmd: string[], cwd: string, timeoutMs: number, env: Record<string, string> = {}): Promise<string> {
  const run = await runToEnd(cmd, { cwd, env: { ...process.env, ...env }, timeoutMs });
  const output = `${run.stdout}${run.stderr}`;
  if (run.code !== 0) throw new Error(`${cmd.join(" ")} (in ${cwd}) exited with ${run.code}:\n${output}`);
  return output;
}

let packed: Promise<Packed> | undefined;

/** Packs the repository and installs the tarball into .scratch/package/app; memoised for the run. */
export function packAndInstall(): Promise<Packed> {
  packed ??= (async () => {
    rmSync(SCRATCH, { recursive: true, force: true });
    mkdirSync(APP, { recursive: true });
    let started = performance.now();
    // The notices npm prints go to stderr; --json to stdout names the tarball.
    const run = await runToEnd(["npm", "pack", "--json", "--pack-destination", SCRATCH], { cwd: ROOT, timeoutMs: 120_000 });
    if (run.code !== 0) throw new Error(`npm pack exited with ${run.code}:\n${run.stdout}${run.stderr}`);
    // prepack's build table comes first on stdout; npm's JSON starts on a line of its own.
    const json = run.stdout.slice(run.stdout.search(/^\[$/m));
    const [info] = JSON.parse(json) as { filename: string; files: { path: string }[] }[];
    const packMs = performance.now() - started;
    const tarball = join(SCRATCH, info.filename);
    writeFileSync(
      join(APP, "package.json"),
      `${JSON.stringify(
        {
          name: "postcache-consumer",
          private: true,
          type: "module",
          // redis, hono: the optional peers a user of postcache/node-redis or postcache/hono installs beside it.
          dependencies: { postcache: `file:../${info.filename}`, redis: "^6.3.1", hono: "^4.13.19" },
          devDependencies: { typescript: "5", "@types/bun": "^1.4.4" },
        },
        null,
        2,
      )}\n`,
    );
    cpSync(FIXTURES, APP, { recursive: true });
    started = performance.now();
    const installOutput = await mustRun(
      ["npm", "install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=warn"],
      APP,
      300_000,
      { npm_config_update_notifier: "false" },
    );
    return {
      tarball,
      files: info.files.map((f) => f.path).sort(),
      installOutput,
      packMs,
      installMs: performance.now() - started,
    };
  })();
  return packed;
}

/** The package.json of the installed package. */
export function installedManifest(): {
  version: string;
  exports: Record<string, unknown>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  dependencies?: Record<string, string>;
} {
  return JSON.parse(readFileSync(join(APP, "node_modules/postcache/package.json"), "utf8"));
}
