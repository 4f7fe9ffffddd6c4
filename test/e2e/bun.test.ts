/** The Bun server entry (examples/bun) as a real process, in front of the test origin. */
import { startProcess } from "./process.ts";
import { e2eSuite } from "./suite.ts";

e2eSuite("bun server", (originUrl) =>
  startProcess([process.execPath, "examples/bun/server.ts"], { ORIGIN: originUrl }, /listening on (http:\/\/\S+?),/),
);
