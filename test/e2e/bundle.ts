/** Bundles an entry exactly as `npm run build` does for a deploy target, in memory, for runtime tests. */
import { build } from "esbuild";
import { DEPLOY_TARGETS, deployOptions } from "../../build.ts";

export async function bundleAs(targetName: string, entry: string): Promise<string> {
  const target = DEPLOY_TARGETS.find((t) => t.name === targetName);
  if (!target) throw new Error(`no deploy target named ${targetName} in build.ts`);
  const result = await build({ ...deployOptions(target, entry), write: false, logLevel: "error" });
  return result.outputFiles[0].text;
}
