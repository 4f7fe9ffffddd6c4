import { describe, expect, test } from "bun:test";
import { harness, origin, post, status, useOrigin } from "./harness.ts";

useOrigin();

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]);
      else controller.close();
    },
  });
}

function streamed(path: string, chunks: Uint8Array[], headers: Record<string, string> = {}) {
  return new Request(`https://api.example.test${path}`, {
    method: "POST",
    body: streamOf(chunks),
    headers: { "content-type": "application/octet-stream", ...headers },
    duplex: "half",
  } as RequestInit);
}

const bytes = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * seed + 7) & 255);

describe("the body cap", () => {
  test("a body exactly at maxBodyBytes is cached", async () => {
    const h = harness({ maxBodyBytes: 1000 });
    const o = origin();
    await h.send(post("/search", bytes(1000)));
    await h.settle();
    expect(status(await h.send(post("/search", bytes(1000))))).toMatch(/hit/);
    expect(o.calls).toBe(1);
  });

  test("a declared length over the cap bypasses and the origin gets the body intact", async () => {
    const h = harness({ maxBodyBytes: 1000 });
    const o = origin();
    const body = bytes(1001, 3);
    const res = await h.send(post("/search", body));
    expect(status(res)).toBe("postcache; fwd=bypass; detail=body-too-large");
    expect(await res.json()).toMatchObject({ length: 1001 });
    expect([...o.bodies[0]]).toEqual([...body]);
  });

  test("a chunked body of unknown length past the cap is streamed to the origin intact, not cached", async () => {
    const h = harness({ maxBodyBytes: 1000 });
    const o = origin();
    const chunks = [bytes(600, 1), bytes(600, 2), bytes(600, 3)];
    for (let i = 0; i < 2; i++) {
      const res = await h.send(streamed("/search", chunks));
      expect(status(res)).toBe("postcache; fwd=bypass; detail=body-too-large");
      await res.arrayBuffer();
      await h.settle();
    }
    expect(o.calls).toBe(2);
    expect([...o.bodies[0]]).toEqual([...chunks[0], ...chunks[1], ...chunks[2]]);
  });

  test("a chunked body of unknown length within the cap is cached", async () => {
    const h = harness({ maxBodyBytes: 1000 });
    const o = origin();
    await h.send(streamed("/search", [bytes(300), bytes(300)]));
    await h.settle();
    expect(status(await h.send(streamed("/search", [bytes(300), bytes(300)])))).toMatch(/hit/);
    expect(o.calls).toBe(1);
  });

  test("an empty body is a body like any other", async () => {
    const h = harness();
    const o = origin();
    await h.send(post("/search", null));
    await h.settle();
    expect(status(await h.send(post("/search", null)))).toMatch(/hit/);
    expect(status(await h.send(post("/search", "x")))).toMatch(/uri-miss/);
    expect(o.calls).toBe(2);
  });

  test("a body that fails mid-read is a clear 400, and nothing is stored", async () => {
    const h = harness();
    const o = origin();
    const failing = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes(10));
        controller.error(new Error("client went away"));
      },
    });
    const req = new Request("https://api.example.test/search", { method: "POST", body: failing, duplex: "half" } as RequestInit);
    const res = await h.send(req);
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/postcache: could not read the request body/);
    expect(status(res)).toBe("postcache; fwd=bypass; detail=body-unreadable");
    expect(o.calls).toBe(0);
    expect(h.errors[0].where).toBe("request-body");
  });
});
