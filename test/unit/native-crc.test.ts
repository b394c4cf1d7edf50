import { describe, expect, test } from "bun:test";
import * as CRC32C from "crc-32/crc32c";
import { crc32c, crc32cRange, crc32cViaNapi, nativeInfo } from "../../src/native/index.ts";

/** Reference CRC-32C from the pure-JS `crc-32` package, as unsigned 32-bit. */
function refCrc(data: Uint8Array, seed?: number): number {
  return (seed === undefined ? CRC32C.buf(data) : CRC32C.buf(data, seed | 0)) >>> 0;
}

/** Deterministic pseudo-random bytes (xorshift32), so failures reproduce. */
function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

const SIZES = [
  0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 255, 1000, 1023, 4095, 4096,
  4097, 8191, 65535, 65536, 65537, 1048576, 1048576 + 1, 1048576 + 7, 1048576 + 4093,
];

describe("native crc32c", () => {
  test("reports an implementation", () => {
    const info = nativeInfo();
    expect(typeof info.crcImpl).toBe("string");
    expect(["sse4.2", "aarch64-crc", "software"]).toContain(info.crcImpl);
  });

  test("is called through bun:ffi, and the napi export agrees with it", () => {
    expect(nativeInfo().crcCall).toBe("ffi");
    for (const [i, n] of SIZES.entries()) {
      const data = randomBytes(n, 2000 + i).subarray(i % 5);
      expect(crc32cViaNapi(data)).toBe(refCrc(data));
      expect(crc32c(data)).toBe(crc32cViaNapi(data));
      expect(crc32c(data, 0x9abcdef0)).toBe(crc32cViaNapi(data, 0x9abcdef0));
    }
  });

  test('known vector: CRC-32C("123456789") = 0xE3069283', () => {
    const data = new TextEncoder().encode("123456789");
    expect(crc32c(data)).toBe(0xe3069283);
    expect(crc32c(Buffer.from("123456789"))).toBe(0xe3069283);
    expect(refCrc(data)).toBe(0xe3069283); // sanity check of the reference itself
  });

  test("other known vectors (RFC 3720 B.4)", () => {
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    const inc = Uint8Array.from({ length: 32 }, (_, i) => i);
    expect(crc32c(inc)).toBe(0x46dd794e);
  });

  test("empty input", () => {
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(new Uint8Array(0), 0xdeadbeef)).toBe(0xdeadbeef);
    expect(crc32cRange(new Uint8Array(10), 4, 4)).toBe(0);
  });

  test("matches crc-32's CRC-32C on random inputs of many sizes", () => {
    for (const [i, n] of SIZES.entries()) {
      const data = randomBytes(n, 1000 + i);
      const got = crc32c(data);
      expect(got).toBe(refCrc(data));
      expect(got).toBeGreaterThanOrEqual(0);
      expect(got).toBeLessThanOrEqual(0xffffffff);
      expect(Number.isInteger(got)).toBe(true);
    }
  });

  test("accepts Buffer and returns the same as for a Uint8Array", () => {
    for (const n of [0, 1, 17, 4096, 65537]) {
      const data = randomBytes(n, n + 7);
      const buf = Buffer.from(data);
      expect(crc32c(buf)).toBe(crc32c(data));
    }
  });

  test("respects byteOffset/byteLength of views into a larger buffer", () => {
    const big = randomBytes(1 << 20, 42);
    // Offsets 0..17 cover every alignment against 8/16-byte words.
    for (let off = 0; off < 18; off++) {
      for (const len of [0, 1, 3, 8, 15, 16, 63, 64, 1000, 4097, 65536 + 5]) {
        const view = big.subarray(off, off + len);
        expect(view.byteOffset).toBe(off);
        expect(crc32c(view)).toBe(refCrc(view));
        // Same bytes in a fresh, zero-offset buffer must give the same CRC.
        expect(crc32c(view)).toBe(crc32c(view.slice()));
      }
    }
    // A view near the end of the underlying buffer.
    const tail = big.subarray(big.length - 777);
    expect(crc32c(tail)).toBe(refCrc(tail));
    // A Uint8Array constructed directly on an ArrayBuffer with an offset.
    const u = new Uint8Array(big.buffer, 12345, 54321);
    expect(crc32c(u)).toBe(refCrc(u));
    // A Buffer view of a slab (how pooled Buffers look).
    const pooled = Buffer.from(big.buffer, 999, 31337);
    expect(crc32c(pooled)).toBe(refCrc(pooled));
  });

  test("initial chaining: crc(a||b) === crc(b, crc(a))", () => {
    const data = randomBytes(200_003, 7);
    const whole = crc32c(data);
    for (const cut of [0, 1, 2, 7, 8, 9, 64, 1000, 65536, 100_001, 200_002, 200_003]) {
      const a = data.subarray(0, cut);
      const b = data.subarray(cut);
      expect(crc32c(b, crc32c(a))).toBe(whole);
      expect(refCrc(b, refCrc(a))).toBe(whole);
    }
    // Many small chunks.
    let crc = 0;
    for (let i = 0; i < data.length; i += 997) crc = crc32c(data.subarray(i, i + 997), crc);
    expect(crc).toBe(whole);
    // initial values with the top bit set (> 2^31) work as unsigned.
    const seed = 0xfedcba98;
    expect(crc32c(data.subarray(0, 100), seed)).toBe(refCrc(data.subarray(0, 100), seed));
    // initial = 0 is the same as no initial.
    expect(crc32c(data, 0)).toBe(whole);
  });

  test("crc32cRange equals crc32c of the subarray", () => {
    const big = randomBytes(300_000, 99);
    const ranges: Array<[number, number]> = [
      [0, 0],
      [0, 1],
      [0, big.length],
      [1, big.length],
      [big.length - 1, big.length],
      [big.length, big.length],
      [3, 4],
      [5, 21],
      [7, 7 + 4096],
      [61, 61 + 65536],
      [12345, 254321],
    ];
    for (const [s, e] of ranges) {
      expect(crc32cRange(big, s, e)).toBe(crc32c(big.subarray(s, e)));
      expect(crc32cRange(big, s, e)).toBe(refCrc(big.subarray(s, e)));
    }
    // Indices are relative to the view, not to the underlying ArrayBuffer.
    const view = big.subarray(1001, 201_001);
    for (const [s, e] of [
      [0, 10],
      [17, 5000],
      [0, view.length],
      [view.length - 3, view.length],
    ] as Array<[number, number]>) {
      expect(crc32cRange(view, s, e)).toBe(crc32c(view.subarray(s, e)));
      expect(crc32cRange(view, s, e)).toBe(refCrc(view.subarray(s, e)));
    }
    const buf = Buffer.from(big.buffer, 77, 10_000);
    expect(crc32cRange(buf, 10, 9_990)).toBe(crc32c(buf.subarray(10, 9_990)));
  });

  test("crc32cRange rejects out-of-bounds ranges", () => {
    const data = randomBytes(100, 3);
    expect(() => crc32cRange(data, 0, 101)).toThrow();
    expect(() => crc32cRange(data, -1, 10)).toThrow();
    expect(() => crc32cRange(data, 50, 49)).toThrow();
    expect(() => crc32cRange(data, 101, 101)).toThrow();
    // A view must not be allowed to reach past its own end into the parent buffer.
    const view = data.subarray(10, 20);
    expect(() => crc32cRange(view, 0, 11)).toThrow();
  });

  test("rejects non-Uint8Array input", () => {
    expect(() => crc32c("abc" as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => crc32c(new Uint16Array(4) as unknown as Uint8Array)).toThrow(/Uint16Array/);
    expect(() => crc32cRange(null as unknown as Uint8Array, 0, 0)).toThrow(TypeError);
  });
});
