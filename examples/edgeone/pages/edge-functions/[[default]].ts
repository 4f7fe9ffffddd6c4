/**
 * postcache as an EdgeOne Pages Function: `[[default]]` catches every path but the root
 * (https://cloud.tencent.com/document/product/1552/127416). Requests go to the `ORIGIN` environment
 * variable, which must be set in the project's settings.
 */
import { type EdgeOnePagesContext, postcacheEdgeOne } from "../../../../adapters/edgeone.ts";

const postcache = postcacheEdgeOne({
  onError: (error, where) => console.error(`postcache: error in ${where}:`, error),
});

export function onRequest(context: EdgeOnePagesContext): Promise<Response> {
  return postcache.onRequest(context);
}
