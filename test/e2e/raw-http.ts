/**
 * A raw HTTP/1.1 client on `node:net`, for requests `fetch` refuses to send or quietly rewrites: odd
 * request targets (`//host/x`, absolute and authority form), bad or missing `Host`, HTTP/1.0. Every
 * request is bounded by a timeout and sent with `Connection: close`.
 */
import { connect } from "node:net";

export interface RawResponse {
  /** 0 when the server closed without an answer (or the timeout struck). */
  status: number;
  headers: Map<string, string>;
  body: string;
  /** Everything the server sent, as latin1. */
  raw: string;
  timedOut: boolean;
}

export interface RawRequest {
  method?: string;
  target: string;
  /** `null` sends no Host header at all. Default: the server's own `host:port`. */
  host?: string | null;
  headers?: Record<string, string>;
  body?: string;
  version?: "HTTP/1.1" | "HTTP/1.0";
  timeoutMs?: number;
}

/** Sends one request to `url`'s host and port exactly as written, and reads until the server closes. */
export function rawRequest(url: string, request: RawRequest): Promise<RawResponse> {
  const { hostname, port, host } = new URL(url);
  const body = request.body ?? "";
  const lines = [`${request.method ?? "POST"} ${request.target} ${request.version ?? "HTTP/1.1"}`];
  const hostHeader = request.host === undefined ? host : request.host;
  if (hostHeader !== null) lines.push(`Host: ${hostHeader}`);
  for (const [name, value] of Object.entries(request.headers ?? {})) lines.push(`${name}: ${value}`);
  lines.push(`Content-Length: ${Buffer.byteLength(body)}`, "Connection: close", "", body);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname.replace(/^\[|\]$/g, ""));
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (timedOut: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parse(Buffer.concat(chunks).toString("latin1"), timedOut));
    };
    const timer = setTimeout(() => finish(true), request.timeoutMs ?? 10_000);
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      // Some servers keep the connection open past a complete answer despite `Connection: close`.
      if (complete(Buffer.concat(chunks).toString("latin1"), request.method === "HEAD")) finish(false);
    });
    socket.on("end", () => finish(false));
    socket.on("close", () => finish(false));
    socket.on("error", () => finish(false));
    socket.write(lines.join("\r\n"));
  });
}

/** Whether `raw` holds a whole response: its head, and all of a Content-Length or chunked body. */
function complete(raw: string, head: boolean): boolean {
  const end = raw.indexOf("\r\n\r\n");
  if (end === -1) return false;
  const fields = raw.slice(0, end).toLowerCase();
  const status = Number(/^http\/1\.[01] (\d{3})/.exec(fields)?.[1] ?? 0);
  if (head || status === 204 || status === 304 || (status >= 100 && status < 200)) return status >= 200;
  const length = /\r\ncontent-length:\s*(\d+)/.exec(fields)?.[1];
  if (length !== undefined) return Buffer.byteLength(raw.slice(end + 4), "latin1") >= Number(length);
  if (/\r\ntransfer-encoding:[^\r]*chunked/.test(fields))
    return raw.endsWith("\r\n0\r\n\r\n") || raw.slice(end + 4).startsWith("0\r\n\r\n");
  return false; // read until close
}

function parse(raw: string, timedOut: boolean): RawResponse {
  const end = raw.indexOf("\r\n\r\n");
  const head = end === -1 ? raw : raw.slice(0, end);
  const [statusLine = "", ...fields] = head.split("\r\n");
  const headers = new Map<string, string>();
  for (const field of fields) {
    const colon = field.indexOf(":");
    if (colon > 0) headers.set(field.slice(0, colon).trim().toLowerCase(), field.slice(colon + 1).trim());
  }
  let body = end === -1 ? "" : raw.slice(end + 4);
  if (headers.get("transfer-encoding")?.toLowerCase() === "chunked") body = unchunk(body);
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  return { status, headers, body, raw, timedOut };
}

function unchunk(body: string): string {
  let out = "";
  let at = 0;
  for (;;) {
    const lineEnd = body.indexOf("\r\n", at);
    if (lineEnd === -1) return out;
    const size = Number.parseInt(body.slice(at, lineEnd), 16);
    if (!(size > 0)) return out;
    out += body.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
}
