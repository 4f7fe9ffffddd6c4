/**
 * `npm run build` (`bun build.ts`): one esbuild bundle per target, in the form each provider deploys,
 * then a size table. Fails when an entry file is missing, when core imports anything but itself or
 * touches a runtime global, or when a bundle is over its provider's code-size limit or our own budget.
 *
 *   dist/lib/<name>.js       the package's exports: ESM, platform-neutral, shared code in dist/lib/chunks/
 *   dist/types/**.d.ts       their declarations (tsc), one per source file
 *   dist/<provider>/...      deployable bundles, minified: what you upload or point the provider at
 *
 * `bun build.ts --only cloudflare,bun` builds some targets; `--outdir dir` writes elsewhere.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { gzipSync } from "node:zlib";
import { type BuildOptions, build as esbuild, type Plugin } from "esbuild";

const ROOT = import.meta.dir;
const KiB = 1024;
const MB = 1000 * 1000;
const MiB = 1024 * 1024;

/** Our own budget for every deployable bundle, min+gzip: postcache should stay a small addition to a site. */
export const BUDGET_GZIP_BYTES = 16 * KiB;

/** A size ceiling; `gzip` limits count the gzip-compressed bundle, `raw` the file as written. */
export interface SizeLimit {
  what: string;
  bytes: number;
  of: "raw" | "gzip";
}

const budget: SizeLimit = { what: "postcache budget", bytes: BUDGET_GZIP_BYTES, of: "gzip" };

/** Providers' code-size limits, from their docs (checked 2026-11). Where a plan decides, the smallest. */
export const PROVIDER_LIMITS = {
  // "Worker size: 3 MB (Free) / 10 MB (Paid)" after compression, https://developers.cloudflare.com/workers/platform/limits/
  // (the docs have since moved to 64 MiB uncompressed on every plan; we keep the stricter old rule too).
  cloudflare: [
    { what: "Cloudflare Workers Free, compressed", bytes: 3 * MB, of: "gzip" },
    { what: "Cloudflare Workers, uncompressed", bytes: 64 * MiB, of: "raw" },
  ],
  // "Code Package Size: 5 MB" per function, https://edgeone.ai/document/53372 (Edge Functions overview, limits).
  edgeone: [{ what: "EdgeOne code package", bytes: 5 * MB, of: "raw" }],
  // "Code size limit: 20 MB after compression", https://docs.netlify.com/build/edge-functions/limits/
  netlify: [{ what: "Netlify Edge Functions, compressed", bytes: 20 * MB, of: "gzip" }],
  // Edge "Size (after gzip compression): Hobby 1 MB, Pro 2 MB, Ent 4 MB", https://vercel.com/docs/functions/limitations
  vercel: [{ what: "Vercel Edge Hobby, compressed", bytes: 1 * MB, of: "gzip" }],
} satisfies Record<string, SizeLimit[]>;

/** A library entry: `dist/lib/<name>.js`, exported by package.json as `.` (core) or `./<name>`. */
export const LIB_ENTRIES: Record<string, string> = {
  core: "core/index.ts",
  cloudflare: "adapters/cloudflare.ts",
  edgeone: "adapters/edgeone.ts",
  netlify: "adapters/netlify.ts",
  vercel: "adapters/vercel.ts",
  deno: "adapters/deno.ts",
  bun: "adapters/bun.ts",
  "bun-redis": "adapters/bun-redis.ts",
  node: "adapters/node.ts",
  metrics: "adapters/metrics.ts",
  hono: "adapters/hono.ts",
  cli: "cli/postcache.ts",
  "node-redis": "adapters/node-redis.ts",
  client: "core/client.ts",
  admin: "core/admin.ts",
  "purge-log": "core/purge-log-entry.ts",
  "native-purge": "core/native-purge-entry.ts",
  "canonical-json": "core/canonical-json.ts",
  protocols: "core/protocols/index.ts",
};

/**
 * Imports the libraries leave to the runtime or the user's bundler. The one runtime dependency is
 * prom-client, loaded only by postcache/metrics and the command (a server's metrics; it runs on Node 20,
 * so no engine warnings); redis and hono are optional peers, loaded only by the entries that use them:
 * - Bun's Redis client is reached as `Bun.RedisClient` when the store is created, not imported from "bun",
 *   so `postcache/bun-redis` loads (and type-checks) anywhere and fails only if used outside Bun.
 * - The three functions the Vercel adapter takes from `@vercel/functions` (Apache-2.0) are bundled into
 *   dist/lib/vercel.js through `vercelFunctionsSlim`, with the license in dist/lib/THIRD-PARTY-NOTICES.md.
 *   An optional peer dependency was the other choice, but its package is CommonJS and a user's bundler
 *   could not drop what the adapter leaves unused: 17.6 KiB gzip for a middleware, over our 16 KiB
 *   budget, against 14.7 KiB with the slimmed copy. The cost: a change in Vercel's runtime contract
 *   needs a postcache release (the copy is pinned by our lockfile).
 * - `redis` and `hono` are the optional peer dependencies of `postcache/node-redis` and `postcache/hono`
 *   (whose import of hono is for its types only), left to the user's install.
 * - `prom-client`, the one dependency, is imported only by the server entries (`postcache/metrics`, the
 *   `postcache` command): no edge bundle reaches it.
 * - `node:*` modules, for the server adapters (Bun, Node): the edge targets below stay platform-neutral,
 *   so an edge entry that reached for one still fails there.
 * Anything else that is not part of this package fails the build.
 */
export const LIB_EXTERNALS: string[] = ["redis", "hono", "prom-client", "node:*"];

/** Packages the declarations may name: the package's dependencies and (optional) peer dependencies. */
const DECLARED_PACKAGES = new Set(
  (() => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    return [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})];
  })(),
);

/** Where `npm run build` writes the declarations: tsc's emit of every library entry, mirroring the sources. */
export const TYPES_DIR = "types";

/** A deployable bundle. */
export interface DeployTarget {
  name: string;
  /** Entry files relative to the repository, or every file with `extension` under `dir`, found at build time. */
  entries: string[] | { dir: string; extension: string };
  /** Where each entry's bundle goes, relative to `dist/`. */
  out: (entry: string) => string;
  format: "esm" | "iife";
  platform: "neutral" | "browser" | "node";
  external?: string[];
  target?: string;
  /** esbuild plugins for this target, besides the pure-core guard. */
  plugins?: () => Plugin[];
  /** Rewrites the written bundle (e.g. a `config` the provider reads statically). */
  after?: (file: string) => Promise<void>;
  limits: SizeLimit[];
  /** Why the settings are what they are. */
  note: string;
}

const EDGEONE_PAGES_DIR = "examples/edgeone/pages/edge-functions";

export const DEPLOY_TARGETS: DeployTarget[] = [
  {
    name: "cloudflare",
    entries: ["examples/cloudflare/worker.ts"],
    out: () => "cloudflare/worker.js",
    format: "esm",
    platform: "neutral",
    limits: [...PROVIDER_LIMITS.cloudflare, budget],
    note: "module Worker (export default { fetch })",
  },
  {
    name: "edgeone",
    entries: ["examples/edgeone/edge-function.ts"],
    out: () => "edgeone/edge-function.js",
    format: "iife",
    platform: "neutral",
    limits: [...PROVIDER_LIMITS.edgeone, budget],
    note: "service-worker script: EdgeOne Edge Functions take no import/export",
  },
  {
    name: "edgeone-pages",
    // Every file under edge-functions/ is a route (index → `/`, [[default]] → the rest), so each is built,
    // keeping its name: dist/edgeone-pages is then a Pages project root.
    entries: { dir: EDGEONE_PAGES_DIR, extension: ".ts" },
    out: (entry) => join("edgeone-pages/edge-functions", relative(EDGEONE_PAGES_DIR, entry)).replace(/\.ts$/, ".js"),
    format: "esm",
    platform: "neutral",
    // EdgeOne documents no separate limit for Pages Functions; the Edge Functions one is assumed.
    limits: [...PROVIDER_LIMITS.edgeone, budget],
    note: "Pages Functions (export function onRequest)",
  },
  {
    name: "netlify",
    entries: ["examples/netlify/netlify/edge-functions/postcache.ts"],
    out: () => "netlify/postcache.js",
    format: "esm",
    platform: "neutral",
    limits: [...PROVIDER_LIMITS.netlify, budget],
    note: "edge function (export default, export const config)",
  },
  {
    name: "vercel",
    entries: ["examples/vercel/middleware.ts"],
    out: () => "vercel/middleware.js",
    format: "esm",
    // @vercel/functions is bundled in; it reaches `ws`, which needs the `browser` field to avoid Node built-ins.
    platform: "browser",
    plugins: () => [vercelFunctionsSlim()],
    after: (file) => literalExport(file, "config"),
    limits: [...PROVIDER_LIMITS.vercel, budget],
    note: "Routing Middleware, @vercel/functions included",
  },
  {
    name: "deno",
    entries: ["examples/deno/main.ts"],
    out: () => "deno/main.js",
    format: "esm",
    platform: "neutral",
    limits: [budget],
    note: "deno serve (export default { fetch })",
  },
  {
    name: "bun",
    entries: ["examples/bun/server.ts"],
    out: () => "bun/server.js",
    format: "esm",
    // esbuild has no Bun platform: Node's resolution rules, Bun's built-in modules left to Bun.
    platform: "node",
    external: ["bun", "bun:*"],
    target: "esnext",
    // The demo origin rides along (about 1 KiB gzip), so the edge budget still fits.
    limits: [budget],
    note: "Bun server with the demo origin",
  },
  {
    name: "node",
    entries: ["examples/node/server.ts"],
    out: () => "node/server.js",
    format: "esm",
    platform: "node",
    target: "node20",
    limits: [budget],
    note: "Node.js server (node:http listener)",
  },
];

/** One written file, measured. */
export interface BuiltFile {
  target: string;
  /** Relative to the output directory. */
  file: string;
  raw: number;
  gzip: number;
  limits: SizeLimit[];
}

export class BuildError extends Error {
  constructor(message: string) {
    super(`[build] ${message}`);
    this.name = "BuildError";
  }
}

function filesUnder(dir: string, extension: string): string[] {
  const absolute = resolve(ROOT, dir);
  if (!existsSync(absolute)) return [];
  return readdirSync(absolute, { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(extension) && !name.endsWith(".d.ts"))
    .map((name) => join(dir, name))
    .sort();
}

/**
 * Keeps `root` (core/) free of platform code: a file under it may import only other files by relative
 * path. esbuild's neutral platform already fails on `node:*`; this also catches `bun`, `deno`, `npm:`
 * and packages from node_modules.
 */
export function pureCore(root: string): Plugin {
  const base = resolve(root) + sep;
  return {
    name: "pure-core",
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => {
        if (!args.importer.startsWith(base) || args.path.startsWith("./") || args.path.startsWith("../")) return undefined;
        const from = relative(ROOT, args.importer);
        return {
          errors: [
            {
              text: `${from} imports "${args.path}": core may import only its own files (Web standards only, no runtime modules)`,
            },
          ],
        };
      });
    },
  };
}

/** Property access on runtime globals that Web-standard code never touches. */
const RUNTIME_GLOBALS = /\b(?:Bun|Deno|process|Buffer|EdgeRuntime|Netlify)\s*\.|\brequire\s*\(|\b__(?:dirname|filename)\b/g;

/**
 * Bundles every file in `entries` with the core settings (neutral platform, the pure-core guard for
 * files under `root`) and scans the result for runtime globals. Throws a BuildError naming the problem.
 */
export async function checkPure(entries: string[], root: string): Promise<void> {
  let files: { path: string; text: string }[];
  try {
    const result = await esbuild({
      entryPoints: entries.map((e) => resolve(ROOT, e)),
      bundle: true,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      write: false,
      outdir: "/pure-check",
      logLevel: "silent",
      plugins: [pureCore(root)],
    });
    files = result.outputFiles;
  } catch (error) {
    throw new BuildError(`core is not platform-neutral:\n${esbuildMessages(error)}`);
  }
  for (const { path, text } of files) {
    const found = [...new Set(text.match(RUNTIME_GLOBALS))];
    if (found.length > 0) {
      throw new BuildError(`core is not platform-neutral: ${relative("/pure-check", path)} uses ${found.join(", ")}`);
    }
  }
}

function esbuildMessages(error: unknown): string {
  const errors = (error as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors;
  if (!errors) return String(error);
  return errors.map((e) => `  ${e.location ? `${e.location.file}:${e.location.line}: ` : ""}${e.text}`).join("\n");
}

/**
 * The examples import postcache as a user's project does (`postcache`, `postcache/cloudflare`), so that a
 * copied template works as it is. Inside the repository those names resolve to the sources behind each
 * export (LIB_ENTRIES), so the build and the e2e tests bundle the examples from the code under test;
 * tsconfig.json's `paths` say the same to tsc and Bun. A name that is no export fails the build.
 */
export function postcacheFromSource(): Plugin {
  return {
    name: "postcache-from-source",
    setup(b) {
      b.onResolve({ filter: /^postcache(\/.*)?$/ }, (args) => {
        const name = args.path === "postcache" ? "core" : args.path.slice("postcache/".length);
        const entry = LIB_ENTRIES[name];
        if (!entry || (name === "core" && args.path !== "postcache")) {
          return {
            errors: [{ text: `"${args.path}" is not an export of postcache (exports: ${Object.keys(LIB_ENTRIES).join(", ")})` }],
          };
        }
        return { path: join(ROOT, entry) };
      });
    },
  };
}

/** The settings every bundle shares. */
function common(): BuildOptions {
  return {
    absWorkingDir: ROOT,
    bundle: true,
    target: "es2022",
    logLevel: "silent",
    legalComments: "none",
    plugins: [pureCore(join(ROOT, "core")), postcacheFromSource()],
  };
}

/** The esbuild options that turn `entry` into `t`'s deployable bundle; tests bundle with these too. */
export function deployOptions(t: DeployTarget, entry: string): BuildOptions {
  const base = common();
  return {
    ...base,
    entryPoints: [join(ROOT, entry)],
    format: t.format,
    platform: t.platform,
    external: t.external,
    target: t.target ?? "es2022",
    plugins: [...(base.plugins ?? []), ...(t.plugins?.() ?? [])],
    // Deployed code is minified: what the size limits count, and what the provider runs.
    minify: true,
  };
}

/**
 * `@vercel/functions` is CommonJS, so esbuild cannot drop what the adapter leaves unused (websocket,
 * db-connections, OIDC...): half the package's weight. Resolve the package root to a module that
 * re-exports only what adapters/vercel.ts imports, from the files that define it. Importing anything
 * else from it fails the build with esbuild's "No matching export", never silently.
 */
export function vercelFunctionsSlim(): Plugin {
  const dir = join(ROOT, "node_modules/@vercel/functions");
  const from = (file: string) => JSON.stringify(join(dir, file));
  return {
    name: "vercel-functions-slim",
    setup(b) {
      b.onResolve({ filter: /^@vercel\/functions$/ }, () => ({ path: "@vercel/functions", namespace: "vercel-functions-slim" }));
      b.onLoad({ filter: /.*/, namespace: "vercel-functions-slim" }, () => ({
        contents: [
          `export { getCache } from ${from("cache/index.js")};`,
          `export { waitUntil } from ${from("wait-until.js")};`,
          `export { next } from ${from("middleware.js")};`,
        ].join("\n"),
        resolveDir: dir,
        loader: "js",
      }));
    },
  };
}

/** dist/lib/THIRD-PARTY-NOTICES.md: what of other packages the library bundles, with their licenses. */
function writeNotices(dir: string): void {
  const vercel = join(ROOT, "node_modules/@vercel/functions");
  const { version, license } = JSON.parse(readFileSync(join(vercel, "package.json"), "utf8")) as {
    version: string;
    license: string;
  };
  writeFileSync(
    join(dir, "THIRD-PARTY-NOTICES.md"),
    [
      "# Third-party notices",
      "",
      `\`vercel.js\` (\`postcache/vercel\`) bundles \`getCache\`, \`waitUntil\` and \`next\` from \`@vercel/functions\` ${version},`,
      `Copyright Vercel, Inc., under the ${license} license, whose text follows.`,
      "",
      "```text",
      readFileSync(join(vercel, "LICENSE"), "utf8").trimEnd(),
      "```",
      "",
    ].join("\n"),
  );
}

/**
 * Declarations for every library entry, from tsc itself (declaration emit keeps one file per source, so
 * a type that two entries share, such as `PostcacheOptionError`, is one declaration, where a declaration
 * bundler would copy it into each entry's file). tsc writes relative imports as the sources spell them,
 * `./x.ts`, which a consumer's tsc refuses (TS5097) without `allowImportingTsExtensions`: each is
 * rewritten to the `.js` that sits beside it, which every `moduleResolution` resolves to the `.d.ts`.
 */
export async function emitDeclarations(outdir: string): Promise<void> {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const config = join(outdir, "..", ".tsconfig.types.json");
  writeFileSync(
    config,
    JSON.stringify({
      extends: join(ROOT, "tsconfig.json"),
      compilerOptions: { noEmit: false, declaration: true, emitDeclarationOnly: true, outDir: outdir, rootDir: ROOT },
      include: [],
      files: Object.values(LIB_ENTRIES).map((entry) => join(ROOT, entry)),
    }),
  );
  const tsc = Bun.spawnSync([join(ROOT, "node_modules/.bin/tsc"), "-p", config], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  rmSync(config, { force: true });
  if (tsc.exitCode !== 0) throw new BuildError(`declarations (tsc) failed:\n${tsc.stdout.toString()}${tsc.stderr.toString()}`);
  for (const name of readdirSync(outdir, { recursive: true, encoding: "utf8" })) {
    if (!name.endsWith(".d.ts")) continue;
    const path = join(outdir, name);
    const text = readFileSync(path, "utf8");
    const rewritten = rewriteTsSpecifiers(text);
    const code = rewritten
      .split("\n")
      .filter((line) => !/^\s*(?:\*|\/\*|\/\/)/.test(line))
      .join("\n");
    // Node's own modules, the dependency and the optional peers are allowed: only the server entries use
    // them (node-redis, metrics, node), never an edge entry, whose build is platform-neutral.
    const bare = [...code.matchAll(/(?:from|import)\s*\(?\s*"((?![./]|node:)[^"]+)"/g)]
      .filter((m) => !DECLARED_PACKAGES.has(m[1].split("/")[0]))
      .map((m) => m[0]);
    if (bare.length > 0)
      throw new BuildError(
        `${relative(outdir, path)} imports a package (${bare.join(", ")}): declarations must be self-contained`,
      );
    if (rewritten !== text) writeFileSync(path, rewritten);
  }
}

/** `from "./x.ts"` and `import("../y.ts")` become `.js`; other specifiers are left as they are. */
export function rewriteTsSpecifiers(text: string): string {
  return text.replace(/((?:from|import)\s*\(?\s*")(\.{1,2}\/[^"]*?)\.ts(")/g, "$1$2.js$3");
}

/**
 * Vercel reads a middleware's `config` (its matcher) from the deployed file without running it, and only
 * as `export const config = { ... }` (https://vercel.com/docs/routing-middleware/api#config-object).
 * esbuild always exports through a final `export { aa as config }`, which that reading misses, so the
 * matcher was ignored and the middleware ran on every path. This takes `name` out of the export clause
 * and declares it again as a JSON literal of the value the bundle exports (a config is plain data; one
 * that does not survive JSON fails the build).
 */
export async function literalExport(file: string, name: string): Promise<void> {
  const script = readFileSync(file, "utf8");
  const clause = /export\s*\{([^}]*)\};?\s*$/.exec(script);
  const members = clause?.[1].split(",").map((m) => m.trim()) ?? [];
  const member = members.find((m) => m === name || m.endsWith(` as ${name}`));
  if (!clause || !member) throw new BuildError(`${relative(ROOT, file)} exports no "${name}"`);
  const value = ((await import(`${file}?literal-${Date.now()}`)) as Record<string, unknown>)[name];
  const literal = JSON.stringify(value);
  if (literal === undefined || !Bun.deepEquals(JSON.parse(literal), value, true)) {
    throw new BuildError(`${relative(ROOT, file)}: "${name}" is not plain JSON data, so it cannot be declared as a literal`);
  }
  const rest = members.filter((m) => m !== member);
  const head = script.slice(0, clause.index);
  writeFileSync(file, `${head}${rest.length ? `export{${rest.join(",")}};` : ""}\nexport const ${name} = ${literal};\n`);
}

export function violations(file: BuiltFile): string[] {
  return file.limits
    .filter((limit) => file[limit.of] > limit.bytes)
    .map((limit) => `${file.file} is ${file[limit.of]} bytes ${limit.of}, over the ${limit.what} limit of ${limit.bytes}`);
}

function measure(target: string, outdir: string, path: string, limits: SizeLimit[]): BuiltFile {
  const bytes = readFileSync(path);
  return { target, file: relative(outdir, path), raw: bytes.byteLength, gzip: gzipSync(bytes, { level: 9 }).byteLength, limits };
}

export interface BuildRequest {
  /** Default `dist` in the repository. */
  outdir?: string;
  /** Target names to build (`lib` and the deploy targets' names). Default: all. */
  only?: string[];
  /** The deployable bundles. Default `DEPLOY_TARGETS` (tests pass others). */
  targets?: DeployTarget[];
}

/** Builds the targets and returns every written file, measured. Throws a BuildError on any failure. */
export async function build({
  outdir = join(ROOT, "dist"),
  only,
  targets = DEPLOY_TARGETS,
}: BuildRequest = {}): Promise<BuiltFile[]> {
  const names = ["lib", ...targets.map((t) => t.name)];
  for (const name of only ?? []) {
    if (!names.includes(name)) throw new BuildError(`unknown target "${name}" (targets: ${names.join(", ")})`);
  }
  const wanted = (name: string) => !only || only.includes(name);
  const deploys = targets
    .filter((t) => wanted(t.name))
    .map((t) => ({
      ...t,
      files: Array.isArray(t.entries) ? t.entries : filesUnder(t.entries.dir, t.entries.extension),
    }));

  // Every entry first, so one run names everything that is missing.
  const missing: string[] = [];
  if (wanted("lib")) {
    for (const [name, entry] of Object.entries(LIB_ENTRIES)) {
      if (!existsSync(join(ROOT, entry))) missing.push(`lib/${name}: ${entry}`);
    }
  }
  for (const t of deploys) {
    if (!Array.isArray(t.entries) && t.files.length === 0) {
      missing.push(`${t.name}: no ${t.entries.extension} file under ${t.entries.dir}`);
    }
    for (const entry of t.files) if (!existsSync(join(ROOT, entry))) missing.push(`${t.name}: ${entry}`);
  }
  if (missing.length > 0) throw new BuildError(`entry files are missing:\n  ${missing.join("\n  ")}`);

  await checkPure(filesUnder("core", ".ts"), join(ROOT, "core"));

  const built: BuiltFile[] = [];
  if (wanted("lib")) {
    const dir = join(outdir, "lib");
    rmSync(dir, { recursive: true, force: true });
    const result = await run("lib", {
      ...common(),
      entryPoints: Object.fromEntries(Object.entries(LIB_ENTRIES).map(([name, entry]) => [name, join(ROOT, entry)])),
      outdir: dir,
      format: "esm",
      platform: "neutral",
      // Core is one shared chunk: `postcache` and `postcache/<provider>` hold the same engine.
      splitting: true,
      chunkNames: "chunks/[name]-[hash]",
      external: LIB_EXTERNALS,
      plugins: [...(common().plugins ?? []), vercelFunctionsSlim()],
      metafile: true,
    });
    for (const path of Object.keys(result.metafile?.outputs ?? {})) built.push(measure("lib", outdir, resolve(ROOT, path), []));
    writeNotices(dir);
    await emitDeclarations(join(outdir, TYPES_DIR));
  }
  for (const t of deploys) {
    const outs = t.files.map((entry) => join(outdir, t.out(entry)));
    // A fresh directory per target, so a renamed entry leaves nothing stale behind.
    for (const top of new Set(t.files.map((entry) => t.out(entry).split("/")[0]))) {
      rmSync(join(outdir, top), { recursive: true, force: true });
    }
    for (const [i, entry] of t.files.entries()) {
      mkdirSync(dirname(outs[i]), { recursive: true });
      await run(t.name, { ...deployOptions(t, entry), outfile: outs[i] });
      await t.after?.(outs[i]);
      built.push(measure(t.name, outdir, outs[i], t.limits));
    }
  }

  const over = built.flatMap(violations);
  if (over.length > 0) throw new BuildError(`bundles over their size limits:\n  ${over.join("\n  ")}\n${table(built)}`);
  return built;
}

async function run(target: string, options: BuildOptions) {
  try {
    return await esbuild(options);
  } catch (error) {
    throw new BuildError(`${target} failed:\n${esbuildMessages(error)}`);
  }
}

/** The size table `npm run build` prints. */
export function table(files: BuiltFile[]): string {
  const rows = files.map((f) => {
    const tightest = f.limits.map((l) => ({ l, share: f[l.of] / l.bytes })).sort((a, b) => b.share - a.share)[0];
    const limit = tightest ? `${formatBytes(tightest.l.bytes)} ${tightest.l.of} (${tightest.l.what})` : "-";
    const verdict = tightest ? (violations(f).length > 0 ? "OVER" : `${(tightest.share * 100).toFixed(0)}%`) : "";
    return [f.target, f.file, String(f.raw), String(f.gzip), limit, verdict];
  });
  const header = ["target", "file", "raw bytes", "gzip bytes", "tightest limit", "used"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 2 || i === 3 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

function formatBytes(bytes: number): string {
  if (bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes % MB === 0) return `${bytes / MB} MB`;
  if (bytes % KiB === 0) return `${bytes / KiB} KiB`;
  return `${bytes} B`;
}

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

if (import.meta.main) {
  const started = performance.now();
  try {
    const only = argument("--only")?.split(",").filter(Boolean);
    const outdir = argument("--outdir");
    const files = await build({ only, outdir: outdir ? resolve(outdir) : undefined });
    console.log(table(files));
    console.log(`\nbuilt ${files.length} files in ${(performance.now() - started).toFixed(0)} ms`);
  } catch (error) {
    console.error(error instanceof BuildError ? error.message : error);
    process.exit(1);
  }
}
