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

describe("FrameReader with a FramePool", () => {
  function produceFrame(size: number, fill: number): Uint8Array {
    const out = new Uint8Array(4 + size).fill(fill);
    new DataView(out.buffer).setInt32(0, size);
    out[4] = 0; // api key 0 (Produce)
    out[5] = 0;
    return out;
  }

  test("a frame spanning reads is copied once into a pooled block, reused after release", async () => {
    const { FramePool } = await import("../../../src/net/frame-pool.ts");
    const pool = new FramePool();
    const r = new FrameReader(1 << 20, { pool, poolIf: (k) => k === 0 });
    const bytes = produceFrame(100_000, 3);
    const parts = [bytes.subarray(0, 10), bytes.subarray(10, 50_000), bytes.subarray(50_000)];
    const frames = parts.flatMap((p) => r.push(p).frames);
    expect(frames.length).toBe(1);
    const f = frames[0]!;
    expect(f.length).toBe(100_000);
    expect(f[10]).toBe(3);
    expect(pool.owns(f)).toBe(true);
    expect(f instanceof Buffer).toBe(false); // slice() must copy
    const release = pool.hold(f.subarray(6));
    expect(release).not.toBeNull();
    pool.release(f); // the connection's hold
    expect(pool.owns(f)).toBe(true); // still held
    release!();
    release!(); // idempotent
    expect(pool.owns(f)).toBe(false);
    const again = [bytes.subarray(0, 60_000), bytes.subarray(60_000)].flatMap((p) => r.push(p).frames);
    expect(again[0]!.buffer).toBe(f.buffer); // the same block
    expect(pool.stats.reused).toBe(1);
    expect(r.bufferedBytes).toBe(0);
  });

  test("frames of other APIs, small frames and frames inside one read are not pooled", async () => {
    const { FramePool } = await import("../../../src/net/frame-pool.ts");
    const pool = new FramePool();
    const r = new FrameReader(1 << 24, { pool, poolIf: (k) => k === 0 });
    const other = produceFrame(100_000, 1);
    other[5] = 11; // JoinGroup
    const fo = [other.subarray(0, 5000), other.subarray(5000)].flatMap((p) => r.push(p).frames);
    expect(pool.owns(fo[0]!)).toBe(false);
    expect(fo[0]![100]).toBe(1);
    const whole = produceFrame(100_000, 2);
    const fw = r.push(whole).frames;
    expect(fw[0]!.buffer).toBe(whole.buffer); // zero-copy view
    // a frame above the eager limit, unpooled: collected and joined at the end
    const huge = new FrameReader(1 << 26, {});
    const big = produceFrame(3 << 20, 9);
    const out: Uint8Array[] = [];
    for (let i = 0; i < big.length; i += 65536) out.push(...huge.push(big.subarray(i, i + 65536)).frames);
    expect(out.length).toBe(1);
    expect(out[0]!.length).toBe(3 << 20);
    expect(out[0]![(3 << 20) - 1]).toBe(9);
  });
});
