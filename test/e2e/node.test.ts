/** The Node server example (examples/node), bundled as the build ships it, under Node 20 and Node 22. */

import { systemNode } from "../package/scratch.ts";
import { NODE22, startNodeServer } from "./node-server.ts";
import { e2eSuite } from "./suite.ts";

e2eSuite("node server (the machine's Node)", (origin) => startNodeServer(origin, systemNode()), {
  startTimeoutMs: 20_000,
});
e2eSuite("node server (Node 22, node@22 from npm)", (origin) => startNodeServer(origin, NODE22), { startTimeoutMs: 20_000 });
