// Native compression codecs: round trips on edge-case and large inputs, cross-checks against
// independent implementations (Bun's zlib and zstd; hand-built snappy and LZ4 frames), and the
// decompressed-size bound (bombs fail fast, without allocating past the bound).
import { describe, expect, test } from "bun:test";
import * as zlib from "node:zlib";
import { Codec, CodecError, compress, decompress } from "../../src/native/index.ts";
import type { CompressionCodecId } from "../../src/native/index.ts";

const CODECS: [string, CompressionCodecId][] = [
  ["gzip", Codec.gzip],
  ["snappy", Codec.snappy],
  ["lz4", Codec.lz4],
  ["zstd", Codec.zstd],
];
const MiB = 1024 * 1024;

/** Deterministic pseudo-random bytes (xorshift32): incompressible. */
function randomBytes(n: number, seed = 0x9e3779b9): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
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

/** Highly compressible: repeated JSON-ish lines with a counter. */
function compressibleBytes(n: number): Uint8Array<ArrayBuffer> {
  const line = new TextEncoder().encode('{"level":"info","service":"checkout","msg":"order placed","n":0000}\n');
  const out = new Uint8Array(n);
  for (let at = 0, i = 0; at < n; at += line.length, i++) {
    const l = line.slice();
    l[l.length - 3] = 48 + (i % 10);
    out.set(l.subarray(0, Math.min(l.length, n - at)), at);
  }
  return out;
}

function expectSame(a: Uint8Array, b: Uint8Array): void {
  expect(a.length).toBe(b.length);
  expect(Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length))).toBe(0);
}

function codecError(fn: () => unknown): CodecError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CodecError);
    return e as CodecError;
  }
  throw new Error("expected a CodecError");
}

const INPUTS: [string, () => Uint8Array][] = [
  ["empty", () => new Uint8Array(0)],
  ["1 byte", () => Uint8Array.of(0x42)],
  ["incompressible random 1 MiB", () => randomBytes(MiB)],
  ["highly compressible 10 MiB", () => compressibleBytes(10 * MiB)],
  ["a view at an odd offset", () => randomBytes(100_001).subarray(3, 70_003)],
];

describe("round trips", () => {
  for (const [name, codec] of CODECS) {
    for (const [what, make] of INPUTS) {
      test(`${name}: ${what}`, () => {
        const data = make();
        const packed = compress(codec, data);
        expect(packed.length).toBeGreaterThan(0);
        expectSame(decompress(codec, packed, data.length), data);
        if (data.length > 0) {
          const e = codecError(() => decompress(codec, packed, data.length - 1));
          expect(e.kind).toBe("limit");
        }
      });
    }
  }

  test("compressible input actually shrinks; random input stays about the same size", () => {
    const text = compressibleBytes(MiB);
    const rnd = randomBytes(MiB);
    for (const [, codec] of CODECS) {
      expect(compress(codec, text).length).toBeLessThan(text.length / 5);
      expect(compress(codec, rnd).length).toBeLessThan(rnd.length * 1.01 + 1024);
    }
  });

  test("levels: gzip 1 and 9, zstd 1 and 19 round trip; out-of-range levels are argument errors", () => {
    const data = compressibleBytes(256 * 1024);
    for (const level of [1, 9]) expectSame(decompress(Codec.gzip, compress(Codec.gzip, data, level), data.length), data);
    for (const level of [1, 19]) expectSame(decompress(Codec.zstd, compress(Codec.zstd, data, level), data.length), data);
    expect(codecError(() => compress(Codec.gzip, data, 12)).kind).toBe("argument");
    expect(codecError(() => compress(Codec.zstd, data, 99)).kind).toBe("argument");
    expect(codecError(() => compress(7 as CompressionCodecId, data)).kind).toBe("argument");
    expect(codecError(() => decompress(Codec.gzip, data, -1)).kind).toBe("argument");
  });
});

describe("independent implementations", () => {
  const data = compressibleBytes(3 * MiB + 17);

  test("gzip: Bun.gunzipSync and node:zlib read native output; native reads theirs", () => {
    const packed = compress(Codec.gzip, data);
    expect(packed[0]).toBe(0x1f);
    expect(packed[1]).toBe(0x8b);
    expectSame(Bun.gunzipSync(packed), data);
    expectSame(zlib.gunzipSync(packed), data);
    expectSame(decompress(Codec.gzip, Bun.gzipSync(data), data.length), data);
    expectSame(decompress(Codec.gzip, zlib.gzipSync(data, { level: 9 }), data.length), data);
  });

  test("gzip: concatenated members decode as one stream (as Java's GZIPInputStream)", () => {
    const a = data.subarray(0, 1000);
    const b = data.subarray(1000, 5000);
    const two = Buffer.concat([zlib.gzipSync(a), zlib.gzipSync(b)]);
    expectSame(decompress(Codec.gzip, two, 5000), data.subarray(0, 5000));
  });

  test("zstd: Bun's zstd reads native output; native reads Bun's", () => {
    const packed = compress(Codec.zstd, data);
    expect([...packed.subarray(0, 4)]).toEqual([0x28, 0xb5, 0x2f, 0xfd]);
    expectSame(Bun.zstdDecompressSync(packed), data);
    expectSame(decompress(Codec.zstd, Bun.zstdCompressSync(data), data.length), data);
  });

  test("snappy: output is xerial-framed like snappy-java", () => {
    const packed = compress(Codec.snappy, data);
    expect([...packed.subarray(0, 16)]).toEqual([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
    // Blocks are [int32 length][raw snappy] of at most 32 KiB input each: walk them.
    const dv = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
    let pos = 16;
    let blocks = 0;
    let total = 0;
    while (pos < packed.length) {
      const len = dv.getInt32(pos);
      const block = packed.subarray(pos + 4, pos + 4 + len);
      // A raw snappy block opens with the uvarint of its uncompressed length.
      let n = 0;
      let shift = 0;
      for (let i = 0; ; i++) {
        const b = block[i]!;
        n += (b & 0x7f) * 2 ** shift;
        shift += 7;
        if ((b & 0x80) === 0) break;
      }
      expect(n).toBeLessThanOrEqual(32 * 1024);
      total += n;
      blocks++;
      pos += 4 + len;
    }
    expect(pos).toBe(packed.length);
    expect(total).toBe(data.length);
    expect(blocks).toBe(Math.ceil(data.length / (32 * 1024)));
  });

  /** A raw snappy stream built by hand: uvarint length, then literal elements of up to 60 bytes. */
  function rawSnappyLiterals(bytes: Uint8Array): Uint8Array {
    const out: number[] = [];
    let n = bytes.length;
    while (n >= 0x80) {
      out.push((n & 0x7f) | 0x80);
      n = Math.floor(n / 128);
    }
    out.push(n);
    for (let at = 0; at < bytes.length; at += 60) {
      const chunk = bytes.subarray(at, Math.min(at + 60, bytes.length));
      out.push((chunk.length - 1) << 2);
      out.push(...chunk);
    }
    return Uint8Array.from(out);
  }

  function xerial(...blocks: Uint8Array[]): Uint8Array {
    const parts: number[] = [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1];
    for (const b of blocks) parts.push((b.length >>> 24) & 0xff, (b.length >>> 16) & 0xff, (b.length >>> 8) & 0xff, b.length & 0xff, ...b);
    return Uint8Array.from(parts);
  }

  test("snappy: accepts raw snappy, xerial framing, and concatenated xerial streams", () => {
    const a = randomBytes(500, 7);
    const b = randomBytes(300, 8);
    expectSame(decompress(Codec.snappy, rawSnappyLiterals(a), 500), a);
    expectSame(decompress(Codec.snappy, xerial(rawSnappyLiterals(a), rawSnappyLiterals(b)), 800), Buffer.concat([a, b]));
    const twice = Buffer.concat([xerial(rawSnappyLiterals(a)), xerial(rawSnappyLiterals(b))]);
    expectSame(decompress(Codec.snappy, twice, 800), Buffer.concat([a, b]));
    // The bound is checked from each block's length preamble, before decompressing it.
    expect(codecError(() => decompress(Codec.snappy, xerial(rawSnappyLiterals(a), rawSnappyLiterals(b)), 799)).kind).toBe("limit");
  });

  test("lz4: reads a hand-built LZ4 frame (uncompressed blocks, descriptor checksum via xxHash32)", () => {
    const payload = randomBytes(100_000, 3);
    const descriptor = Uint8Array.of(0x60, 0x40); // version 01, independent blocks; 64 KiB max block
    const hc = (Number(Bun.hash.xxHash32(descriptor, 0)) >>> 8) & 0xff;
    const parts: Uint8Array[] = [Uint8Array.of(0x04, 0x22, 0x4d, 0x18), descriptor, Uint8Array.of(hc)];
    for (let at = 0; at < payload.length; at += 65536) {
      const block = payload.subarray(at, Math.min(at + 65536, payload.length));
      const size = new Uint8Array(4);
      new DataView(size.buffer).setUint32(0, (block.length | 0x80000000) >>> 0, true);
      parts.push(size, block);
    }
    parts.push(new Uint8Array(4)); // end mark
    expectSame(decompress(Codec.lz4, Buffer.concat(parts), payload.length), payload);
  });

  test("lz4: native output is a v1 frame with independent 64 KiB blocks and a valid descriptor checksum", () => {
    const packed = compress(Codec.lz4, data);
    expect([...packed.subarray(0, 4)]).toEqual([0x04, 0x22, 0x4d, 0x18]);
    const flg = packed[4]!;
    expect(flg >> 6).toBe(1); // version
    expect(flg & 0x20).toBe(0x20); // block independence
    expect(flg & 0x10).toBe(0); // no block checksums
    expect((packed[5]! >> 4) & 0x7).toBe(4); // 64 KiB
    const descLen = flg & 0x08 ? 10 : 2;
    const hc = (Number(Bun.hash.xxHash32(packed.subarray(4, 4 + descLen), 0)) >>> 8) & 0xff;
    expect(packed[4 + descLen]).toBe(hc);
  });
});

describe("hostile input", () => {
  function repeat(part: Uint8Array, times: number): Uint8Array {
    const out = new Uint8Array(part.length * times);
    for (let i = 0; i < times; i++) out.set(part, i * part.length);
    return out;
  }

  const zeros16 = new Uint8Array(16 * MiB);
  const bombs: [string, CompressionCodecId, () => Uint8Array][] = [
    // 64 concatenated frames/members of 16 MiB of zeros: 1 GiB claimed.
    ["zstd", Codec.zstd, () => repeat(compress(Codec.zstd, zeros16, 19), 64)],
    ["gzip", Codec.gzip, () => repeat(compress(Codec.gzip, zeros16, 9), 64)],
    ["lz4", Codec.lz4, () => repeat(compress(Codec.lz4, zeros16), 64)],
    ["snappy", Codec.snappy, () => {
      const one = compress(Codec.snappy, zeros16);
      return Buffer.concat([one, repeat(one.subarray(16), 63)]);
    }],
  ];
  for (const [name, codec, make] of bombs) {
    test(`${name} bomb of 1 GiB stops at the bound, fast`, () => {
      const bomb = make();
      expect(bomb.length).toBeLessThan(64 * MiB);
      const t0 = performance.now();
      const e = codecError(() => decompress(codec, bomb, 32 * MiB));
      const ms = performance.now() - t0;
      expect(e.kind).toBe("limit");
      expect(e.message).toContain("33554432");
      expect(ms).toBeLessThan(2000);
    });
  }

  test("a zstd frame declaring a huge window is refused without allocating it", () => {
    // Frame header: magic, FHD 0x00 (no single segment, no content size), window descriptor with
    // exponent 31-10 → 2 GiB window; then one empty raw last block.
    const frame = Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd, 0x00, (31 - 10) << 3, 0x01, 0x00, 0x00);
    expect(codecError(() => decompress(Codec.zstd, frame, MiB)).kind).toBe("corrupt");
  });

  for (const [name, codec] of CODECS) {
    test(`${name}: truncated frames and garbage are corrupt, never a crash`, () => {
      const data = compressibleBytes(200_000);
      const packed = compress(codec, data);
      for (const cut of [1, 5, 17, Math.floor(packed.length / 2), packed.length - 1]) {
        let err: unknown = null;
        let out: Uint8Array | null = null;
        try {
          out = decompress(codec, packed.subarray(0, cut), data.length);
        } catch (e) {
          err = e;
        }
        // A cut stream either fails as corrupt, or (lz4/zstd streaming at a block boundary) yields a
        // strict prefix — never the whole input.
        if (err !== null) expect((err as CodecError).kind).toBe("corrupt");
        else expect(out!.length).toBeLessThan(data.length);
      }
      for (let seed = 1; seed <= 20; seed++) {
        const garbage = randomBytes(1 + seed * 37, seed);
        try {
          decompress(codec, garbage, MiB);
        } catch (e) {
          expect(e).toBeInstanceOf(CodecError);
          expect(["corrupt", "limit"]).toContain((e as CodecError).kind);
        }
      }
      expect(codecError(() => decompress(codec, new Uint8Array(0), MiB)).kind).toBe("corrupt");
    });
  }
});
