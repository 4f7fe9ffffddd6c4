import { memoryPurgeLog } from "../../core/purge-logs/memory.ts";
import { testPurgeLog } from "./purge-log-conformance.ts";

testPurgeLog("memory", { create: (clock, bounds) => memoryPurgeLog({ ...bounds, now: clock.now }) });
