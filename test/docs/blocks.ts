/**
 * The fenced code blocks of the documentation, with what the docs test does with each. Conventions,
 * for whoever writes the docs (docs/checked-docs.md says the same):
 * - Every block names its language. `ts`/`typescript`/`js`/`javascript` blocks are type-checked against
 *   the packed package; `sh`/`bash` blocks are syntax-checked, their `npm run` scripts and file paths
 *   must exist, and `<!-- check: run -->` runs one against the demo server; `json`/`toml` must parse;
 *   `http` must be an HTTP message; `text` is sample output, shown as it is.
 * - An HTML comment on the line just before a block talks to the check:
 *   `<!-- check: prelude <code> -->` puts `<code>` before the snippet (declarations a fragment assumes,
 *   such as `declare const request: Request;`), `<!-- check: run -->` runs a shell block.
 */
import { readFileSync } from "node:fs";

export const CODE_LANGUAGES = new Set(["ts", "typescript", "js", "javascript"]);
export const SHELL_LANGUAGES = new Set(["sh", "bash", "shell"]);
export const KNOWN_LANGUAGES = new Set([...CODE_LANGUAGES, ...SHELL_LANGUAGES, "json", "toml", "http", "text"]);

export interface Block {
  /** The Markdown file, relative to the repository. */
  file: string;
  /** 1-based line of the block's first line of code. */
  line: number;
  language: string;
  code: string;
  prelude: string;
  run: boolean;
}

/** The fenced blocks of `file` (read from `root`), in order. */
export function blocksOf(root: string, file: string): Block[] {
  const lines = readFileSync(`${root}/${file}`, "utf8").split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})\s*([\w-]*)/.exec(lines[i]);
    if (!open) continue;
    const fence = open[1];
    const start = i + 1;
    let end = start;
    while (end < lines.length && !lines[end].startsWith(fence)) end++;
    const directive = /^<!--\s*check:\s*(.*?)\s*-->\s*$/.exec(lines[i - 1] ?? "")?.[1] ?? "";
    blocks.push({
      file,
      line: start + 1,
      language: open[2].toLowerCase(),
      code: lines.slice(start, end).join("\n"),
      prelude: directive.startsWith("prelude ") ? directive.slice("prelude ".length) : "",
      run: directive === "run",
    });
    i = end;
  }
  return blocks;
}

/** `npm run x`, `npm start`, `npm test` in a shell block: the script names it needs. */
export function npmScripts(code: string): string[] {
  const names: string[] = [];
  for (const match of code.matchAll(/\bnpm\s+(?:run(?:-script)?\s+([\w:-]+)|(start|test)\b)/g)) names.push(match[1] ?? match[2]);
  return names;
}

/** Repository-relative file paths a shell block names (`examples/deno/main.ts`, `test/redis.sh`). */
export function filePaths(code: string): string[] {
  const paths: string[] = [];
  for (const token of code.split(/[\s'"=`()]+/)) {
    if (/^(?:\.\/)?[\w.-]+(?:\/[\w.[\]-]+)+\.(?:ts|js|mjs|sh|md|toml|json)$/.test(token)) paths.push(token.replace(/^\.\//, ""));
  }
  return paths;
}

/** Whether `code` reads as HTTP messages: request or status lines, each followed by header fields. */
export function isHttp(code: string): boolean {
  const lines = code.split("\n");
  const start = /^(?:[A-Z]+ \S+ HTTP\/\d(?:\.\d)?|HTTP\/\d(?:\.\d)? \d{3}\b.*)$/;
  if (!start.test(lines[0] ?? "")) return false;
  let inHeaders = true;
  for (const line of lines.slice(1)) {
    if (start.test(line)) inHeaders = true;
    else if (line === "") inHeaders = false;
    else if (inHeaders && !/^[!#$%&'*+.^_`|~\w-]+:\s?.*$/.test(line)) return false;
  }
  return true;
}
