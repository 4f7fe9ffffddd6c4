/**
 * An attacker's tour of the real server, from outside, over raw sockets (`node:net`: fetch would
 * rewrite the very headers and targets under test). It starts its own origin (which echoes what it
 * received) and a canary (which must never be reached), runs the server in front of that origin as a
 * user does (the `postcache` command under Bun, as `npm start`, with ORIGIN set; another with
 * `--server cmd ...`), and
 * reports every check. Exit 1 if any check fails.
 *
 *   bun test/adversarial/attack.ts                         # the postcache command under Bun
 *   bun test/adversarial/attack.ts --server node bin.js    # any server that reads ORIGIN and PORT and
 *                                                          # prints "listening on http://HOST:PORT,"
 */
import { createHash } from "node:crypto";
import { createServer } from "node:http";
import { gzipSync } from "node:zlib";
import { freePort, startProcess } from "../e2e/process.ts";
import { type RawResponse, rawRequest } from "../e2e/raw-http.ts";

const ADMIN_TOKEN = "attack-test-token-0123456789";

interface Seen {
  method: string;
  path: string;
  host: string | undefined;
  body: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

/** The origin: echoes what it received, with freshness; a few paths behave badly on purpose. */
async function startEcho() {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const path = req.url ?? "/";
      seen.push({ method: req.method ?? "", path, host: req.headers.host, body, headers: req.headers });
      const echo = JSON.stringify({
        n: seen.length,
        method: req.method,
        path,
        digest: createHash("sha256").update(body).digest("hex"),
        forwardedHost: req.headers["x-forwarded-host"] ?? null,
        authorization: req.headers.authorization ?? null,
        contentEncoding: req.headers["content-encoding"] ?? null,
        variant: req.headers["x-variant"] ?? null,
      });
      const headers: Record<string, string> = { "content-type": "application/json", "cache-control": "public, max-age=60" };
      if (path.startsWith("/cookie")) headers["set-cookie"] = `session=${seen.length}; HttpOnly`;
      if (path.startsWith("/vary")) headers.vary = "X-Variant";
      if (path.startsWith("/no-freshness")) delete headers["cache-control"];
      if (path.startsWith("/stall")) {
        // Headers and a little of the body, then nothing: the server must not hang on it for ever.
        res.writeHead(200, { ...headers, "content-length": "4000" });
        res.write("x".repeat(100));
        return;
      }
      if (path.startsWith("/gzip")) {
        res.writeHead(200, { ...headers, "content-encoding": "gzip" }).end(gzipSync(echo));
        return;
      }
      res.writeHead(200, headers).end(echo);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    stop: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

async function main(): Promise<number> {
  // Not `--`: Bun keeps it from the script's argv.
  const at = process.argv.indexOf("--server");
  const command = at === -1 ? [process.execPath, "cli/postcache.ts"] : process.argv.slice(at + 1);
  const echo = await startEcho();
  let canaryHits = 0;
  const canary = createServer((_req, res) => {
    canaryHits++;
    res.end("canary");
  });
  await new Promise<void>((resolve) => canary.listen(0, "127.0.0.1", resolve));
  const elsewhere = `127.0.0.1:${(canary.address() as { port: number }).port}`;
  const server = await startProcess(
    command,
    { ORIGIN: echo.url, PORT: String(await freePort()), POSTCACHE_ADMIN_TOKEN: ADMIN_TOKEN },
    /listening on (http:\/\/\S+?),/,
    20_000,
  );
  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail = "") => checks.push({ name, ok, detail });
  let nonce = 0;
  const unique = (label: string) => JSON.stringify({ label, n: ++nonce, at: Date.now() });
  const send = (target: string, options: Parameters<typeof rawRequest>[1] | object = {}): Promise<RawResponse> =>
    rawRequest(server.url, { target, headers: { "content-type": "application/json" }, ...options } as Parameters<
      typeof rawRequest
    >[1]);
  const json = (res: RawResponse) => {
    try {
      return JSON.parse(res.body);
    } catch {
      return undefined;
    }
  };
  /** Nothing a server should leak: stack frames, source paths, the working directory. */
  const leaks = (res: RawResponse) => /\bat \S+ \(|\.ts:\d|\/work\/|node_modules|Bun v\d/.test(res.body);

  try {
    // 1. Server-side request forgery through the request target or Host.
    for (const [target, host] of [
      [`//${elsewhere}/x`, undefined],
      [`///${elsewhere}/x`, undefined],
      [`http://${elsewhere}/absolute`, undefined],
      [elsewhere, undefined],
      ["/by-host", elsewhere],
      [`/%2F%2F${elsewhere}/x`, undefined],
      [`/@${elsewhere}/x`, undefined],
    ] as const) {
      const res = await send(target, { host, body: unique("ssrf"), timeoutMs: 3000 });
      check(`SSRF ${target} (Host ${host ?? "ours"}): not 5xx, no leak`, res.status < 500 && !leaks(res), `status ${res.status}`);
    }
    check("SSRF: the canary was never reached", canaryHits === 0, `${canaryHits} hits`);
    const slashes = echo.seen.find((s) => s.path === `//${elsewhere}/x`);
    check("a path starting with // reaches the origin unchanged", Boolean(slashes), slashes ? "" : "not seen");

    // 2. Hosts no URL can hold: a 4xx that names nothing.
    for (const host of ["a/b", "a#b", "a@b", "[::1", "a:99999", "", "a\\b", "a b"]) {
      const res = await send("/search", { host, body: unique("host") });
      check(
        `Host ${JSON.stringify(host)}: a 4xx, no leak`,
        res.status >= 400 && res.status < 500 && !leaks(res),
        `status ${res.status}`,
      );
    }
    const noHost = await send("/search", { host: null, version: "HTTP/1.0", body: unique("nohost") });
    check(
      "HTTP/1.0 without Host: not 5xx, no leak",
      noHost.status > 0 && noHost.status < 500 && !leaks(noHost),
      `status ${noHost.status}`,
    );

    // 3. Cache poisoning through unkeyed headers: another client must never see the attacker's value.
    const poisonBody = unique("poison");
    for (const header of ["x-forwarded-host", "x-original-url", "forwarded", "x-forwarded-proto"]) {
      await send("/search", { body: poisonBody, headers: { "content-type": "application/json", [header]: "evil.example" } });
      const victim = await send("/search", { body: poisonBody });
      check(
        `poisoning via ${header}: the victim's answer carries no evil.example`,
        !victim.body.includes("evil.example"),
        victim.body.slice(0, 80),
      );
    }

    // 4. Content coding: the same bytes under another coding are another request.
    const bytes = unique("coding");
    const plain = json(await send("/search", { body: bytes }));
    const gzip = json(
      await send("/search", { body: bytes, headers: { "content-type": "application/json", "content-encoding": "gzip" } }),
    );
    check(
      "the same bytes with and without Content-Encoding get their own answers",
      plain?.contentEncoding === null && gzip?.contentEncoding === "gzip",
    );

    // 5. Credentials: one user's answer is never served to another, or to an anonymous client.
    const privateBody = unique("auth");
    await send("/search", { body: privateBody, headers: { "content-type": "application/json", authorization: "Bearer alice" } });
    const anonymous = json(await send("/search", { body: privateBody }));
    check("an anonymous request never gets alice's answer", anonymous?.authorization === null);
    const bob = json(
      await send("/search", { body: privateBody, headers: { "content-type": "application/json", authorization: "Bearer bob" } }),
    );
    check("bob never gets alice's answer", bob?.authorization === "Bearer bob");

    // 6. Set-Cookie answers are never stored or replayed.
    const cookieBody = unique("cookie");
    const c1 = await send("/cookie", { body: cookieBody });
    const c2 = await send("/cookie", { body: cookieBody });
    check(
      "a Set-Cookie answer is not replayed",
      !/hit/.test(c2.headers.get("cache-status") ?? "") && c1.headers.get("set-cookie") !== c2.headers.get("set-cookie"),
    );

    // 7. Vary on a header outside the key.
    const varyBody = unique("vary");
    await send("/vary", { body: varyBody, headers: { "content-type": "application/json", "x-variant": "1" } });
    const v2 = json(await send("/vary", { body: varyBody, headers: { "content-type": "application/json", "x-variant": "2" } }));
    check("Vary: a request with another X-Variant gets its own answer", v2?.variant === "2");

    // 8. Request smuggling: Content-Length and Transfer-Encoding together, or two lengths.
    const smuggle = await rawRequest(server.url, {
      target: "/search",
      headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
      body: "0\r\n\r\nPOST /admin HTTP/1.1\r\nHost: x\r\n\r\n",
      timeoutMs: 3000,
    });
    check(
      "CL + TE: refused or answered once, never a second request",
      smuggle.status !== 0 && !echo.seen.some((s) => s.path === "/admin"),
      `status ${smuggle.status}`,
    );

    // 9. Oversized and odd bodies.
    const big = await send("/search", { body: "x".repeat(2 * 1024 * 1024), timeoutMs: 10_000 });
    check(
      "a 2 MiB body: bypassed (body-too-large), answered",
      big.status === 200 && /body-too-large/.test(big.headers.get("cache-status") ?? ""),
      big.headers.get("cache-status") ?? "",
    );
    const manyHeaders: Record<string, string> = { "content-type": "application/json" };
    for (let i = 0; i < 2000; i++) manyHeaders[`x-h${i}`] = "v";
    const many = await send("/search", { body: unique("headers"), headers: manyHeaders, timeoutMs: 5000 });
    check(
      "2,000 headers: answered or refused with a 4xx, no 5xx",
      many.status > 0 && many.status < 500 && !leaks(many),
      `status ${many.status}`,
    );

    // 10. A stalled origin body: the leader's answer is cut off after originBodyTimeoutMs (10 s); the
    // identical request waiting on it goes on alone after coalesceTimeoutMs (5 s), and its own call is
    // cut off 10 s later: every wait bounded, at 15 s at most, and the server still answers afterwards.
    const started = performance.now();
    const stalled = await Promise.all([
      send("/stall", { body: "{}", timeoutMs: 25_000 }),
      send("/stall", { body: "{}", timeoutMs: 25_000 }),
    ]);
    const stallMs = performance.now() - started;
    check(
      "a stalled origin body strands no one: both requests end within 17 s",
      stallMs < 17_000 && stalled.every((r) => !r.timedOut),
      `${Math.round(stallMs)} ms`,
    );
    const after = await send("/search", { body: unique("after-stall") });
    check("after the stall the server answers as before", after.status === 200);

    // 11. Mutations, overrides, no-store requests: straight to the origin, and invalidation.
    const mutation = await send("/cart/add", { body: unique("mutation") });
    check("a mutation-style path bypasses", /detail=mutation/.test(mutation.headers.get("cache-status") ?? ""));
    const override = await send("/search", {
      body: unique("override"),
      headers: { "content-type": "application/json", "x-http-method-override": "DELETE" },
    });
    check("a method-override header bypasses", /detail=method-override/.test(override.headers.get("cache-status") ?? ""));
    const itemBody = unique("item");
    await send("/items/1", { body: itemBody });
    await send("/items/1", { method: "PUT", body: "{}" });
    const afterPut = await send("/items/1", { body: itemBody });
    check(
      "a successful PUT invalidates the POST answers stored for its URI",
      /uri-miss/.test(afterPut.headers.get("cache-status") ?? ""),
    );

    // 12. The digest handshake cannot be abused.
    const unknown = await send("/search", {
      body: "",
      headers: {
        "postcache-body": "omitted",
        "content-digest": `sha-256=:${createHash("sha256").update("never sent").digest("base64")}:`,
      },
    });
    check("a digest-only request for an unknown body: 412", unknown.status === 412);
    const lie = await send("/search", {
      body: '{"a":1}',
      headers: {
        "content-type": "application/json",
        "content-digest": `sha-256=:${createHash("sha256").update("other").digest("base64")}:`,
      },
    });
    check("a Content-Digest that lies: 400", lie.status === 400);

    // 13. The admin endpoints need the token.
    for (const auth of [
      undefined,
      "Bearer wrong-token-0123456789",
      `Basic ${Buffer.from(`x:${ADMIN_TOKEN}`).toString("base64")}`,
    ]) {
      const res = await send("/.postcache/purge", { body: '{"all":true}', headers: auth ? { authorization: auth } : {} });
      check(`admin purge with ${auth?.split(" ")[0] ?? "no"} credentials: 401`, res.status === 401);
    }
    const stats = await send("/.postcache/stats", {
      method: "GET",
      body: "",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    check("admin stats with the token: 200", stats.status === 200);

    // 14. RFC defaults: no freshness, no storing; request directives.
    const noFresh = unique("nofresh");
    await send("/no-freshness", { body: noFresh });
    const again = await send("/no-freshness", { body: noFresh });
    check(
      "an answer without freshness is not stored (RFC 9110 §9.3.3)",
      /detail=no-freshness/.test(again.headers.get("cache-status") ?? ""),
    );
    const onlyIfCached = await send("/search", {
      body: unique("oic"),
      headers: { "content-type": "application/json", "cache-control": "only-if-cached" },
    });
    check("only-if-cached on a miss: 504", onlyIfCached.status === 504);

    // 15. Compressed answers read the same from the cache.
    const gz = unique("gzip");
    const gzMiss = await send("/gzip", { body: gz, headers: { "content-type": "application/json", "accept-encoding": "gzip" } });
    const gzHit = await send("/gzip", { body: gz, headers: { "content-type": "application/json", "accept-encoding": "gzip" } });
    check(
      "a gzip answer: the HIT is byte for byte the MISS",
      gzMiss.body === gzHit.body && /hit/.test(gzHit.headers.get("cache-status") ?? ""),
    );

    // 16. Dot segments: keyed and fetched as the same normalised path.
    const dots = unique("dots");
    await send("/a/../search", { body: dots });
    const normal = await send("/search", { body: dots });
    check("/a/../search and /search are one resource (URL standard)", /hit/.test(normal.headers.get("cache-status") ?? ""));
  } finally {
    await server.stop();
    echo.stop();
    canary.close();
  }

  const failed = checks.filter((c) => !c.ok);
  for (const c of checks) console.log(`${c.ok ? "ok  " : "FAIL"}  ${c.name}${c.detail && !c.ok ? `  (${c.detail})` : ""}`);
  console.log(`\n${checks.length - failed.length} of ${checks.length} checks held`);
  return failed.length === 0 ? 0 : 1;
}

process.exit(await main());
