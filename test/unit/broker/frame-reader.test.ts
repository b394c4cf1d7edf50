import { describe, expect, test } from "bun:test";
import { FrameReader } from "../../../src/net/frame-reader.ts";

function frame(payload: number[]): Uint8Array {
  const out = new Uint8Array(4 + payload.length);
  new DataView(out.buffer).setInt32(0, payload.length);
  out.set(payload, 4);
  return out;
}

describe("FrameReader", () => {
  test("splits several frames in one chunk, zero-size frames included", () => {
    const r = new FrameReader(1024);
    const both = new Uint8Array([...frame([1, 2, 3]), ...frame([]), ...frame([9])]);
    const { frames, error } = r.push(both);
    expect(error).toBeUndefined();
    expect(frames.map((f) => [...f])).toEqual([[1, 2, 3], [], [9]]);
  });

  test("reassembles a frame delivered one byte at a time", () => {
    const r = new FrameReader(1024);
    const bytes = frame([5, 6, 7, 8, 9]);
    const out: number[][] = [];
    for (const b of bytes) out.push(...r.push(new Uint8Array([b])).frames.map((f) => [...f]));
    expect(out).toEqual([[5, 6, 7, 8, 9]]);
    expect(r.bufferedBytes).toBe(0);
  });

  test("refuses oversized and negative sizes before buffering the body", () => {
    const big = new FrameReader(100);
    const header = new Uint8Array(4);
    new DataView(header.buffer).setInt32(0, 101);
    expect(big.push(header).error).toMatch(/exceeds socket.request.max.bytes/);
    const neg = new FrameReader(100);
    expect(neg.push(new Uint8Array([0xff, 0xff, 0xff, 0xff])).error).toMatch(/invalid frame size/);
  });
});
