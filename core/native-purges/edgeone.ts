/**
 * Tencent EdgeOne cache purge: TencentCloud API 3.0 `CreatePurgeTask`, Version 2022-09-01
 * (https://www.tencentcloud.com/document/api/1145/50536), one POST of JSON to the API host with
 * `{"ZoneId", "Type", "Targets": [...], "Method"}`, `Type` one of `purge_url`, `purge_prefix`,
 * `purge_host`, `purge_all`, `purge_cache_tag`; `Method` `delete` or `invalidate` (revalidate with the
 * origin). Signed with TC3-HMAC-SHA256 ("Signature v3", shared by every TencentCloud API 3.0 service:
 * https://cloud.tencent.com/document/product/213/30654), here with `crypto.subtle`.
 *
 * - Answers: always HTTP 200 with `{"Response": {"JobId", "FailedList", "RequestId"}}`, or
 *   `{"Response": {"Error": {"Code", "Message"}, "RequestId"}}`: an `Error`, or a non-empty
 *   `FailedList`, is a failure.
 * - Reach: "clear the cached resources in all edge nodes" (https://www.tencentcloud.com/document/product/1145/46179).
 *   Whether that includes what an Edge Function stored with `caches.default.put`, Tencent's docs do not
 *   say (the Cache API page, https://edgeone.ai/document/52684, is silent on purges): untested, unknown.
 *   Purge by cache tag needs the plan to offer it and EdgeOne to read the tag from the stored response's
 *   `Cache-Tag` (also not documented for Cache API entries).
 * - Limits: 20 requests a second for this API; how many targets a task may carry, and a daily quota per
 *   type, depend on the plan ("Comparison of EdgeOne Plans"). Targets go `maxPerRequest` (default 100,
 *   our choice) to a task, one task after another.
 * - Host: `teo.tencentcloudapi.com` (mainland China) or `teo.intl.tencentcloudapi.com` (international).
 */
import { toHex } from "../key.ts";
import {
  baseUrl,
  batches,
  NativePurgeError,
  type NativePurger,
  type PurgerRequestOptions,
  purgeRequest,
  requestOptions,
  requiredString,
} from "../native-purge.ts";

export interface EdgeOnePurgerOptions extends PurgerRequestOptions {
  /** The API key's SecretId (`AKID...`). Required. */
  secretId: string;
  /** The API key's SecretKey. Required; used only to sign, never sent. */
  secretKey: string;
  /** The site's ZoneId (`zone-...`). Required. */
  zoneId: string;
  /** The API endpoint. Default `https://teo.tencentcloudapi.com`; international accounts use `https://teo.intl.tencentcloudapi.com`. */
  endpoint?: string;
  /** `delete` (default: the next request goes to the origin) or `invalidate` (revalidates with it). */
  method?: "delete" | "invalidate";
  /** Most targets per task. Default 100 (our choice: Tencent sets the limits per plan). */
  maxPerRequest?: number;
  /** The clock for `X-TC-Timestamp`, in ms since the epoch. Default `Date.now`. Tencent rejects a skew past 5 minutes. */
  now?: () => number;
}

const NAME = "edgeone-purge";
export const EDGEONE_ENDPOINT = "https://teo.tencentcloudapi.com";
export const EDGEONE_API_VERSION = "2022-09-01";
export const EDGEONE_MAX_PER_REQUEST = 100;
const ACTION = "CreatePurgeTask";
const SERVICE = "teo";
const CONTENT_TYPE = "application/json; charset=utf-8";
const encoder = new TextEncoder();

/**
 * @example
 * import { edgeOnePurger, withNativePurge } from "postcache/native-purge";
 * const purger = edgeOnePurger({ secretId: env.TC_SECRET_ID, secretKey: env.TC_SECRET_KEY, zoneId: "zone-2qtuhspy7cr6" });
 */
export function edgeOnePurger(options: EdgeOnePurgerOptions): NativePurger {
  const secretId = requiredString(NAME, "secretId", options?.secretId);
  const secretKey = requiredString(NAME, "secretKey", options.secretKey);
  const zoneId = requiredString(NAME, "zoneId", options.zoneId);
  const endpoint = baseUrl(NAME, "endpoint", options.endpoint ?? EDGEONE_ENDPOINT);
  const host = new URL(endpoint).host;
  const method = options.method ?? "delete";
  if (method !== "delete" && method !== "invalidate") {
    throw new TypeError(`[postcache] [${NAME}] option "method" must be "delete" or "invalidate" (got ${String(method)})`);
  }
  const max = options.maxPerRequest ?? EDGEONE_MAX_PER_REQUEST;
  if (!Number.isSafeInteger(max) || max < 1) {
    throw new TypeError(`[postcache] [${NAME}] option "maxPerRequest" must be a whole number of 1 or more (got ${max})`);
  }
  const now = options.now ?? Date.now;
  const o = requestOptions(NAME, options);

  async function task(what: string, type: string, targets?: string[]): Promise<void> {
    const payload = JSON.stringify({ ZoneId: zoneId, Type: type, ...(targets ? { Targets: targets } : {}), Method: method });
    const timestamp = Math.floor(now() / 1000);
    const authorization = await tc3Authorization({
      secretId,
      secretKey,
      service: SERVICE,
      host,
      action: ACTION,
      payload,
      timestamp,
    });
    const init = {
      method: "POST",
      headers: {
        authorization,
        "content-type": CONTENT_TYPE,
        "x-tc-action": ACTION,
        "x-tc-timestamp": String(timestamp),
        "x-tc-version": EDGEONE_API_VERSION,
      },
      body: payload,
    };
    const answer = await purgeRequest(NAME, what, o, `${endpoint}/`, init, [secretKey, authorization]);
    const response = (answer.body as { Response?: EdgeOneResponse } | undefined)?.Response;
    const problem = response?.Error
      ? `${response.Error.Code ?? "?"}: ${response.Error.Message ?? ""}`
      : !response
        ? "no Response in the answer"
        : response.FailedList?.length
          ? `failed targets ${JSON.stringify(response.FailedList).slice(0, 300)}`
          : undefined;
    if (problem) {
      throw new NativePurgeError(
        `[postcache] [${NAME}] ${what} failed: ${problem}`.split(secretKey).join("[redacted]"),
        answer.status,
      );
    }
  }
  async function each(what: string, type: string, targets: string[]): Promise<void> {
    for (const batch of batches([...new Set(targets)], max)) await task(what, type, batch);
  }

  return {
    name: "edgeone",
    purgeTags: (tags) => each("purge by tag", "purge_cache_tag", tags),
    purgeUrls: (urls) => each("purge by URL", "purge_url", urls),
    purgeAll: () => task("purge everything", "purge_all"),
  };
}

interface EdgeOneResponse {
  Error?: { Code?: string; Message?: string };
  FailedList?: unknown[];
  JobId?: string;
  RequestId?: string;
}

/** What one TC3-HMAC-SHA256 signature covers: a POST of JSON to `/` with no query. */
export interface Tc3Request {
  secretId: string;
  secretKey: string;
  service: string;
  host: string;
  action: string;
  payload: string;
  /** Seconds since the epoch, as sent in `X-TC-Timestamp`. */
  timestamp: number;
}

/** The signed headers: content-type, host and the action (values lowercased), as Tencent's examples sign. */
const SIGNED_HEADERS = "content-type;host;x-tc-action";

/**
 * Step 1 of the signature: the canonical request. `headers` are name → value, already in the order
 * they sort in (lowercase names); names and values are lowercased as Tencent's pseudocode does.
 */
export async function tc3CanonicalRequest(headers: [string, string][], payload: string): Promise<string> {
  const canonicalHeaders = headers.map(([name, value]) => `${name.toLowerCase()}:${value.trim().toLowerCase()}\n`).join("");
  const signed = headers.map(([name]) => name.toLowerCase()).join(";");
  return `POST\n/\n\n${canonicalHeaders}\n${signed}\n${await sha256Hex(payload)}`;
}

/** Step 2: the string to sign, over the canonical request's hash and the UTC date's credential scope. */
export async function tc3StringToSign(timestamp: number, service: string, canonicalRequest: string): Promise<string> {
  return `TC3-HMAC-SHA256\n${timestamp}\n${utcDate(timestamp)}/${service}/tc3_request\n${await sha256Hex(canonicalRequest)}`;
}

/** Steps 3 and 4: the derived key (date, service, "tc3_request") signs the string; the Authorization header. */
export async function tc3Authorization(r: Tc3Request): Promise<string> {
  const canonical = await tc3CanonicalRequest(
    [
      ["content-type", CONTENT_TYPE],
      ["host", r.host],
      ["x-tc-action", r.action],
    ],
    r.payload,
  );
  const toSign = await tc3StringToSign(r.timestamp, r.service, canonical);
  const date = utcDate(r.timestamp);
  const signature = await tc3Signature(r.secretKey, date, r.service, toSign);
  const scope = `${date}/${r.service}/tc3_request`;
  return `TC3-HMAC-SHA256 Credential=${r.secretId}/${scope}, SignedHeaders=${SIGNED_HEADERS}, Signature=${signature}`;
}

/** Step 3: the key derived from the secret, the date and the service signs the string (hex). */
export async function tc3Signature(secretKey: string, date: string, service: string, stringToSign: string): Promise<string> {
  const secretDate = await hmac(encoder.encode(`TC3${secretKey}`), date);
  const secretService = await hmac(secretDate, service);
  const secretSigning = await hmac(secretService, "tc3_request");
  return toHex(await hmac(secretSigning, stringToSign));
}

/** The UTC date of a timestamp in seconds, `YYYY-MM-DD` (Tencent: UTC, not the machine's zone). */
export function utcDate(timestamp: number): string {
  return new Date(timestamp * 1000).toISOString().slice(0, 10);
}

async function hmac(key: Uint8Array, message: string): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey("raw", key as Uint8Array<ArrayBuffer>, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, encoder.encode(message)));
}

async function sha256Hex(text: string): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text))));
}
