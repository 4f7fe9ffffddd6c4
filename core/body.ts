import { concat } from "./options.ts";

/** A request body read under a size cap. */
export type BodyRead =
  | { kind: "buffered"; bytes: Uint8Array }
  /** Past the cap: the bytes read so far followed by the rest, never held in full. */
  | { kind: "overflow"; stream: ReadableStream<Uint8Array> };

const EMPTY = new Uint8Array(0);

/** The declared `Content-Length` (RFC 9110 §8.6), or undefined when absent or not a plain integer. */
export function declaredLength(headers: Headers): number | undefined {
  const value = headers.get("content-length");
  if (value === null || !/^\d{1,15}$/.test(value.trim())) return undefined;
  return Number(value);
}

/**
 * Reads `request`'s body if it is at most `max` bytes. With a declared length within the cap the
 * runtime's own buffering is used (the server framed exactly that many bytes); otherwise the stream
 * is read chunk by chunk and, past the cap, handed back as a stream of everything it would have held.
 */
export async function readBodyCapped(request: Request, max: number, declared: number | undefined): Promise<BodyRead> {
  if (declared !== undefined && declared <= max) {
    // Fetch's bytes() gives the Uint8Array directly where the runtime has it (empty for a null body).
    // `request.body` is not touched here: Bun makes a ReadableStream on that getter's first call, a
    // cost on every hit for a stream nobody reads.
    const bytes = typeof request.bytes === "function" ? await request.bytes() : new Uint8Array(await request.arrayBuffer());
    if (bytes.byteLength <= max) return { kind: "buffered", bytes };
    // The header lied and the runtime let it: forward what we hold, and cache nothing.
    return { kind: "overflow", stream: streamOf([bytes]) };
  }
  if (request.body === null) return { kind: "buffered", bytes: EMPTY };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size > max) return { kind: "overflow", stream: streamOf(chunks, reader) };
  }
  return { kind: "buffered", bytes: chunks.length === 1 ? chunks[0] : concat(chunks) };
}

/** The given chunks, then whatever `rest` still yields, pulled only as the consumer reads. */
function streamOf(chunks: Uint8Array[], rest?: ReadableStreamDefaultReader<Uint8Array>): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (i < chunks.length) {
        controller.enqueue(chunks[i]);
        chunks[i++] = EMPTY; // let the chunk go once it is handed on
        return;
      }
      const next = rest ? await rest.read() : { done: true as const, value: undefined };
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    cancel(reason) {
      return rest?.cancel(reason);
    },
  });
}

/**
 * Reads `stream` in full, or returns undefined (and cancels it) past `max` bytes. Each chunk is copied as
 * it is read: a tee shares chunks between its branches (Streams standard, ReadableStreamTee without
 * cloning), and a runtime that writes the other branch to a socket may detach their buffers (Deno does,
 * under Netlify's edge runtime), which would leave the copy we keep empty or unreadable.
 */
export async function readAll(stream: ReadableStream<Uint8Array> | null, max: number): Promise<Uint8Array | undefined> {
  if (!stream) return EMPTY;
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value.slice());
  }
  return chunks.length === 1 ? chunks[0] : concat(chunks);
}
