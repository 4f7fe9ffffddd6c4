/**
 * The request log: one line per POST/QUERY request. Written with one `JSON.stringify` (or a template)
 * and one write: a logging library (pino) would add a dependency to every install of the package,
 * edge users' included, for what a single line per request needs.
 */
import type { ResultInfo } from "../core/types.ts";

/** `text`: `MISS   200 POST /search (no-freshness)  12.3 ms  key=417615b6176e`; `json`: the same fields. */
export function requestLine(info: ResultInfo, format: "text" | "json"): string {
  const path = pathOf(info.url);
  const ms = Math.round(info.elapsedMs * 10) / 10;
  if (format === "json") {
    return JSON.stringify({
      time: new Date().toISOString(),
      method: info.method,
      path,
      status: info.status,
      outcome: info.outcome,
      detail: info.detail ?? null,
      key: info.shortKey ?? null,
      ms,
      ...(info.collapsed ? { collapsed: true } : {}),
    });
  }
  const detail = info.detail ? ` (${info.detail})` : "";
  const key = info.shortKey ? `  key=${info.shortKey}` : "";
  return `${info.outcome.padEnd(6)} ${info.status} ${info.method} ${path}${detail}  ${ms.toFixed(1)} ms${key}${info.collapsed ? "  collapsed" : ""}`;
}

/** The path and query of an absolute URL, without parsing it again. */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  return start === -1 ? "/" : url.slice(start);
}
