/**
 * What a server answers when its handler throws anyway (`handle()` never rejects, so this is a bug of
 * ours or of the code around it): a plain 500 that names nothing internal, and one line in the log. The
 * runtimes' own error pages show source lines and paths in development mode.
 */
export function lastResort(log: (line: string) => void = console.error): (error: unknown) => Response {
  return (error) => {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    log(`postcache: internal error: ${message.split("\n")[0]}`);
    return new Response("Internal Server Error\n", { status: 500, headers: { "content-type": "text/plain; charset=utf-8" } });
  };
}
