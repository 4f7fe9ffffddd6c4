/**
 * postcache as an EdgeOne Pages Function: `[[default]]` catches every path but the root
 * (https://cloud.tencent.com/document/product/1552/127416). Requests go to the `ORIGIN` environment
 * variable, which must be set in the project's settings.
 */
import { type EdgeOnePagesContext, postcacheEdgeOne } from "postcache/edgeone";

const postcache = postcacheEdgeOne({
  // One line per failure (the request is still answered): the message, not the stack.
  onError: (error, where) =>
    console.error(`postcache: ${where} failed: ${error instanceof Error ? error.message : String(error)}`),
});

export function onRequest(context: EdgeOnePagesContext): Promise<Response> {
  return postcache.onRequest(context);
}
