/** The root path (`/`), which `[[default]]` does not catch: the same handler. */
export { onRequest } from "./[[default]].ts";
