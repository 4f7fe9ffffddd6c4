/**
 * Node-run entries for the tests: the Node server example (examples/node/server.ts, bundled as the build
 * ships it), the `postcache` command (cli/postcache.ts, bundled as dist/lib/cli.js is), and fixtures,
 * each run by a real Node: the machine's own (20 here) or node@22 from npm.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { build } from "esbuild";
import { postcacheFromSource } from "../../build.ts";
import { NODE22, systemNode } from "../package/scratch.ts";
import { bundleAs } from "./bundle.ts";
import { startProcess } from "./process.ts";
import type { RunningTarget } from "./suite.ts";

export { NODE22 };

const SCRATCH = resolve(".scratch/node-server");
const bundles = new Map<string, Promise<string>>();

/** `entry` bundled for Node once per test run (packages stay imports, found in node_modules); its path. */
export function bundledForNode(entry: string, deployTarget?: string): Promise<string> {
  let file = bundles.get(entry);
  if (!file) {
    file = (async () => {
      mkdirSync(SCRATCH, { recursive: true });
      const out = join(SCRATCH, `${basename(entry).replace(/\.[cm]?[jt]s$/, "")}-${bundles.size}.mjs`);
      const code = deployTarget
        ? await bundleAs(deployTarget, entry)
        : (
            await build({
              entryPoints: [entry],
              bundle: true,
              format: "esm",
              platform: "node",
              target: "node20",
              // Packages stay imports, found in node_modules; `postcache/*` is this repository's source.
              packages: "external",
              plugins: [postcacheFromSource()],
              write: false,
              logLevel: "error",
            })
          ).outputFiles[0].text;
      writeFileSync(out, code);
      return out;
    })();
    bundles.set(entry, file);
  }
  return file;
}

export function bundledNodeServer(): Promise<string> {
  return bundledForNode("examples/node/server.ts", "node");
}

export function bundledCli(): Promise<string> {
  return bundledForNode("cli/postcache.ts");
}

/** Starts the Node server in front of `origin` with `node` (default: the machine's Node). */
export async function startNodeServer(origin: string, node = systemNode()): Promise<RunningTarget> {
  return startProcess([node, await bundledNodeServer()], { ORIGIN: origin }, /listening on (http:\/\/\S+?),/, 15_000);
}

/** Starts the `postcache` command with `args` under Node (`node`) or under Bun (`"bun"`). */
export async function startCli(
  args: string[],
  env: Record<string, string> = {},
  runtime: string = systemNode(),
): Promise<RunningTarget & { output(): string }> {
  const command = runtime === "bun" ? [process.execPath, "cli/postcache.ts"] : [runtime, await bundledCli()];
  return startProcess([...command, "--port", "0", ...args], env, /listening on (http:\/\/\S+?),/, 15_000);
}
