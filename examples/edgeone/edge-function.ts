/**
 * postcache as a Tencent EdgeOne Edge Function (service-worker script). Bundle it to one file
 * (dist/edgeone/edge-function.js) and paste or upload that as the function's code (see README.md).
 * The origin is the `ORIGIN` environment variable when set, else the site's own origin.
 */
import { type EdgeOneFetchEvent, postcacheEdgeOne } from "postcache/edgeone";

const postcache = postcacheEdgeOne({
  // One line per failure (the request is still answered): the message, not the stack.
  onError: (error, where) =>
    console.error(`postcache: ${where} failed: ${error instanceof Error ? error.message : String(error)}`),
});

addEventListener("fetch", (event) => postcache.handleEvent(event as EdgeOneFetchEvent));
