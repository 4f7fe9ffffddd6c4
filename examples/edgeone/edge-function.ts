/**
 * postcache as a Tencent EdgeOne Edge Function (service-worker script). Bundle it to one file
 * (dist/edgeone/edge-function.js) and paste or upload that as the function's code (see README.md).
 * The origin is the `ORIGIN` environment variable when set, else the site's own origin.
 */
import { type EdgeOneFetchEvent, postcacheEdgeOne } from "../../adapters/edgeone.ts";

const postcache = postcacheEdgeOne({
  onError: (error, where) => console.error(`postcache: error in ${where}:`, error),
});

addEventListener("fetch", (event) => postcache.handleEvent(event as EdgeOneFetchEvent));
