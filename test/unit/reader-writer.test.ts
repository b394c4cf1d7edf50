import { describe, expect, test } from "bun:test";
import { Reader, ZERO_UUID } from "../../src/protocol/reader.ts";
import { Writer, ZERO_COPY_THRESHOLD, uvarintSize } from "../../src/protocol/writer.ts";

function bytesOf(fn: (w: Writer) => void, cap = 16): Uint8Array {
  const w = new Writer(cap);
  fn(w);
  return w.toBytes();
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("fixed-width primitives", () => {
  test("round trip", () => {
    const b = bytesOf((w) => {
      w.int8(-128);
      w.int8(127);
      w.int16(-32768);
      w.int16(32767);
      w.uint16(65535);
      w.int32(-2147483648);
      w.int32(2147483647);
      w.uint32(4294967295);
      w.float64(Math.PI);
      w.float64(-0.5);
      w.bool(true);
      w.bool(false);
    });
    const r = new Reader(b);
    expect(r.int8()).toBe(-128);
    expect(r.int8()).toBe(127);
    expect(r.int16()).toBe(-32768);
    expect(r.int16()).toBe(32767);
    expect(r.uint16()).toBe(65535);
    expect(r.int32()).toBe(-2147483648);
    expect(r.int32()).toBe(2147483647);
    expect(r.uint32()).toBe(4294967295);
    expect(r.float64()).toBe(Math.PI);
    expect(r.float64()).toBe(-0.5);
    expect(r.bool()).toBe(true);
    expect(r.bool()).toBe(false);
    expect(r.remaining).toBe(0);
    expect(r.error).toBeNull();
  });

  test("int64 values and sentinels", () => {
    const vals = [0, 1, -1, 2 ** 32, -(2 ** 32), 2 ** 32 + 5, -(2 ** 32) - 5, 2 ** 53 - 1, -(2 ** 53 - 1), 1700000000000];
    for (const v of vals) {
      const b = bytesOf((w) => w.int64(v));
      expect(b.length).toBe(8);
      expect(new DataView(b.buffer).getBigInt64(0)).toBe(BigInt(v));
      expect(new Reader(b).int64()).toBe(v);
    }
    // Long.MAX_VALUE written as a JS number (which is 2^63 as a double) saturates to Long.MAX_VALUE.
    const max = bytesOf((w) => w.int64(9223372036854775807));
    expect(hex(max)).toBe("7fffffffffffffff");
    expect(new Reader(max).int64()).toBe(9223372036854775807);
    expect(new Reader(max).int64BigInt()).toBe(9223372036854775807n);
    const min = bytesOf((w) => w.int64(-9223372036854775808));
    expect(hex(min)).toBe("8000000000000000");
    expect(new Reader(min).int64()).toBe(-9223372036854775808);
    expect(hex(bytesOf((w) => w.int64(-1)))).toBe("ffffffffffffffff");
    expect(hex(bytesOf((w) => w.int64BigInt(-2n)))).toBe("fffffffffffffffe");
    // Beyond safe but below 2^63: exact via BigInt.
    expect(new Reader(bytesOf((w) => w.int64(2 ** 60))).int64BigInt()).toBe(2n ** 60n);
  });

  test("uuid", () => {
    const u = "0123456789abcdef0011223344556677";
    const b = bytesOf((w) => {
      w.uuid(u);
      w.uuid(ZERO_UUID);
    });
    expect(hex(b)).toBe(u + "0".repeat(32));
    const r = new Reader(b);
    expect(r.uuid()).toBe(u);
    expect(r.uuid()).toBe(ZERO_UUID);
    expect(new Reader(bytesOf((w) => w.uuid(u.toUpperCase()))).uuid()).toBe(u);
    expect(() => new Writer().uuid("xyz")).toThrow();
    expect(() => new Writer().uuid("g".repeat(32))).toThrow();
  });
});

describe("varints", () => {
  test("uvarint encodings", () => {
    expect(hex(bytesOf((w) => w.uvarint(0)))).toBe("00");
    expect(hex(bytesOf((w) => w.uvarint(127)))).toBe("7f");
    expect(hex(bytesOf((w) => w.uvarint(128)))).toBe("8001");
    expect(hex(bytesOf((w) => w.uvarint(300)))).toBe("ac02");
    expect(hex(bytesOf((w) => w.uvarint(4294967295)))).toBe("ffffffff0f");
    for (const v of [0, 1, 127, 128, 16383, 16384, 2097151, 2097152, 268435455, 268435456, 4294967295]) {
      const b = bytesOf((w) => w.uvarint(v));
      expect(b.length).toBe(uvarintSize(v));
      expect(new Reader(b).uvarint()).toBe(v);
    }
  });

  test("varint (zigzag int32) edges", () => {
    expect(hex(bytesOf((w) => w.varint(0)))).toBe("00");
    expect(hex(bytesOf((w) => w.varint(-1)))).toBe("01");
    expect(hex(bytesOf((w) => w.varint(1)))).toBe("02");
    expect(hex(bytesOf((w) => w.varint(-64)))).toBe("7f");
    expect(hex(bytesOf((w) => w.varint(64)))).toBe("8001");
    for (const v of [0, 1, -1, 63, -64, 64, -65, 2147483647, -2147483648, 123456, -123456]) {
      const r = new Reader(bytesOf((w) => w.varint(v)));
      expect(r.varint()).toBe(v);
      expect(r.error).toBeNull();
    }
    expect(hex(bytesOf((w) => w.varint(-2147483648)))).toBe("ffffffff0f");
  });

  test("varlong (zigzag int64) edges", () => {
    const vals = [0, 1, -1, 63, -64, 2 ** 31, -(2 ** 31) - 1, 2 ** 49 + 3, 2 ** 52 - 1, -(2 ** 52) + 1, 2 ** 53 - 1, -(2 ** 53 - 1), 1700000000123];
    for (const v of vals) {
      const b = bytesOf((w) => w.varlong(v));
      const ref = bytesOf((w) => w.varlongBigInt(BigInt(v)));
      expect(hex(b)).toBe(hex(ref));
      const r = new Reader(b);
      expect(r.varlong()).toBe(v);
      expect(r.remaining).toBe(0);
    }
    const max = bytesOf((w) => w.varlong(9223372036854775807));
    expect(hex(max)).toBe("feffffffffffffffff01");
    expect(new Reader(max).varlong()).toBe(9223372036854775807);
    const min = bytesOf((w) => w.varlongBigInt(-9223372036854775808n));
    expect(hex(min)).toBe("ffffffffffffffffff01");
    expect(new Reader(min).varlong()).toBe(-9223372036854775808);
    expect(hex(bytesOf((w) => w.varlong(-1)))).toBe("01");
  });
});

describe("strings, bytes, arrays", () => {
  test("classic and compact strings, including null and non-ASCII", () => {
    const long = "x".repeat(300);
    const uni = "héllo wörld ✓ 日本 🎉";
    const longUni = uni.repeat(20);
    const b = bytesOf((w) => {
      w.string("");
      w.string("abc");
      w.nullableString(null);
      w.nullableString(uni);
      w.string(long);
      w.compactString("");
      w.compactString("abc");
      w.compactNullableString(null);
      w.compactNullableString(uni);
      w.compactString(long);
      w.compactString(longUni);
      w.string(longUni);
    });
    const r = new Reader(b);
    expect(r.string()).toBe("");
    expect(r.string()).toBe("abc");
    expect(r.nullableString()).toBeNull();
    expect(r.nullableString()).toBe(uni);
    expect(r.string()).toBe(long);
    expect(r.compactString()).toBe("");
    expect(r.compactString()).toBe("abc");
    expect(r.compactNullableString()).toBeNull();
    expect(r.compactNullableString()).toBe(uni);
    expect(r.compactString()).toBe(long);
    expect(r.compactString()).toBe(longUni);
    expect(r.string()).toBe(longUni);
    expect(r.remaining).toBe(0);
    expect(r.error).toBeNull();
    expect(hex(bytesOf((w) => w.string("ab")))).toBe("00026162");
    expect(hex(bytesOf((w) => w.compactString("ab")))).toBe("036162");
    expect(hex(bytesOf((w) => w.nullableString(null)))).toBe("ffff");
    expect(hex(bytesOf((w) => w.compactNullableString(null)))).toBe("00");
    // 200 two-byte characters = 400 bytes: compact length prefix must be 2 bytes (401 = 0x91 0x03).
    expect(hex(bytesOf((w) => w.compactString("é".repeat(200)))).slice(0, 4)).toBe("9103");
  });

  test("bytes: null, compact, zero-copy views on read", () => {
    const payload = new Uint8Array([1, 2, 3, 4, 5]);
    const b = bytesOf((w) => {
      w.bytes(payload);
      w.nullableBytes(null);
      w.compactBytes(payload);
      w.compactNullableBytes(null);
      w.records(payload, true);
      w.records(null);
    });
    const r = new Reader(b);
    const v1 = r.bytes();
    expect([...v1]).toEqual([1, 2, 3, 4, 5]);
    expect(v1.buffer).toBe(b.buffer); // a view, not a copy
    expect(r.nullableBytes()).toBeNull();
    expect([...r.compactBytes()]).toEqual([1, 2, 3, 4, 5]);
    expect(r.compactNullableBytes()).toBeNull();
    expect([...r.compactNullableBytes()!]).toEqual([1, 2, 3, 4, 5]);
    expect(r.nullableBytes()).toBeNull();
    expect(r.remaining).toBe(0);
  });

  test("array lengths", () => {
    const b = bytesOf((w) => {
      w.arrayLength(2);
      w.int8(1);
      w.int8(2);
      w.arrayLength(-1);
      w.compactArrayLength(1);
      w.int8(3);
      w.compactArrayLength(-1);
      w.compactArrayLength(0);
    });
    expect(hex(b)).toBe("000000020102ffffffff020300" + "01");
    const r = new Reader(b);
    expect(r.arrayLength()).toBe(2);
    r.skip(2);
    expect(r.arrayLength()).toBe(-1);
    expect(r.compactArrayLength()).toBe(1);
    r.skip(1);
    expect(r.compactArrayLength()).toBe(-1);
    expect(r.compactArrayLength()).toBe(0);
    expect(r.error).toBeNull();
  });
});

describe("writer chunks, reservations, tagged fields", () => {
  test("large payloads are kept as separate chunks (zero copy)", () => {
    const big = new Uint8Array(ZERO_COPY_THRESHOLD + 10).fill(7);
    const w = new Writer(16);
    const h = w.reserveInt32();
    w.int16(5);
    w.nullableBytes(big);
    w.int32(9);
    w.patchInt32(h, w.byteLength - 4);
    const chunks = w.toChunks();
    expect(chunks.length).toBe(3);
    expect(chunks[1]).toBe(big);
    const all = w.toBytes();
    expect(all.length).toBe(4 + 2 + 4 + big.length + 4);
    const r = new Reader(all);
    expect(r.int32()).toBe(all.length - 4);
    expect(r.int16()).toBe(5);
    expect(r.nullableBytes()!.length).toBe(big.length);
    expect(r.int32()).toBe(9);
    // Small payloads are copied.
    const small = new Uint8Array(10);
    const w2 = new Writer();
    w2.bytes(small);
    expect(w2.toChunks().length).toBe(1);
  });

  test("patchInt32 after growth and after chunk splits", () => {
    const w = new Writer(16);
    w.int8(1);
    const h = w.reserveInt32();
    for (let i = 0; i < 1000; i++) w.int32(i); // forces several re-allocations
    w.raw(new Uint8Array(ZERO_COPY_THRESHOLD));
    const h2 = w.reserveInt32();
    w.patchInt32(h, 0x01020304);
    w.patchInt32(h2, -2);
    const r = new Reader(w.toBytes());
    expect(r.int8()).toBe(1);
    expect(r.int32()).toBe(0x01020304);
    for (let i = 0; i < 1000; i++) expect(r.int32()).toBe(i);
    r.skip(ZERO_COPY_THRESHOLD);
    expect(r.int32()).toBe(-2);
  });

  test("tagged field size prefix is inserted (1- and 2-byte sizes)", () => {
    const w = new Writer(8);
    w.uvarint(2);
    let h = w.startTaggedField(0);
    w.int32(42);
    w.endTaggedField(h);
    h = w.startTaggedField(5);
    w.compactString("y".repeat(200));
    w.endTaggedField(h);
    const b = w.toBytes();
    expect(hex(b.subarray(0, 7))).toBe("0200040000002a");
    const r = new Reader(b);
    expect(r.uvarint()).toBe(2);
    expect(r.uvarint()).toBe(0);
    expect(r.uvarint()).toBe(4);
    expect(r.int32()).toBe(42);
    expect(r.uvarint()).toBe(5);
    expect(r.uvarint()).toBe(202);
    expect(r.compactString()).toBe("y".repeat(200));
    expect(r.remaining).toBe(0);
    // and skipTaggedFields skips the whole section
    const r2 = new Reader(b);
    r2.skipTaggedFields();
    expect(r2.remaining).toBe(0);
    expect(r2.error).toBeNull();
  });

  test("large payload inside a tagged field is copied, not chunked", () => {
    const w = new Writer();
    const h = w.startTaggedField(1);
    w.compactBytes(new Uint8Array(ZERO_COPY_THRESHOLD * 2).fill(1));
    w.endTaggedField(h);
    expect(w.toChunks().length).toBe(1);
    const r = new Reader(w.toBytes());
    expect(r.uvarint()).toBe(1);
    expect(r.uvarint()).toBe(uvarintSize(ZERO_COPY_THRESHOLD * 2 + 1) + ZERO_COPY_THRESHOLD * 2);
  });

  test("reset", () => {
    const w = new Writer();
    w.int32(5);
    w.reset();
    w.int8(1);
    expect(hex(w.toBytes())).toBe("01");
  });
});

describe("sticky errors", () => {
  test("truncated input sets error once and returns zero values afterwards", () => {
    const r = new Reader(new Uint8Array([0, 1, 2]));
    expect(r.int32()).toBe(0);
    expect(r.error).toContain("truncated");
    const first = r.error;
    expect(r.int8()).toBe(0);
    expect(r.string()).toBe("");
    expect(r.compactNullableString()).toBeNull();
    expect(r.bytes().length).toBe(0);
    expect(r.arrayLength()).toBe(0);
    expect(r.compactArrayLength()).toBe(0);
    expect(r.uuid()).toBe(ZERO_UUID);
    expect(r.int64()).toBe(0);
    expect(r.varlong()).toBe(0);
    expect(r.error).toBe(first);
  });

  test("hostile lengths are rejected before allocating", () => {
    // classic string length 0x7fff with 3 bytes remaining
    let r = new Reader(new Uint8Array([0x7f, 0xff, 1, 2, 3]));
    expect(r.string()).toBe("");
    expect(r.error).not.toBeNull();
    // compact string length 0x7fffffff (uvarint of 0x80000000) with 3 bytes remaining
    r = new Reader(bytesOf((w) => { w.uvarint(0x80000000); w.int8(1); w.int8(2); w.int8(3); }));
    expect(r.compactString()).toBe("");
    expect(r.error).not.toBeNull();
    // bytes length 0x7fffffff
    r = new Reader(new Uint8Array([0x7f, 0xff, 0xff, 0xff, 1, 2, 3]));
    expect(r.bytes().length).toBe(0);
    expect(r.error).not.toBeNull();
    // nullable bytes with length -2
    r = new Reader(new Uint8Array([0xff, 0xff, 0xff, 0xfe]));
    expect(r.nullableBytes()).toBeNull();
    expect(r.error).toContain("invalid");
    // array count 0x7fffffff
    r = new Reader(new Uint8Array([0x7f, 0xff, 0xff, 0xff, 0]));
    expect(r.arrayLength()).toBe(0);
    expect(r.error).toContain("exceeds");
    // compact array count huge
    r = new Reader(bytesOf((w) => { w.uvarint(4294967295); w.int8(0); }));
    expect(r.compactArrayLength()).toBe(0);
    expect(r.error).toContain("exceeds");
    // non-nullable string encoded as null
    r = new Reader(new Uint8Array([0xff, 0xff]));
    expect(r.string()).toBe("");
    expect(r.error).toContain("null");
    r = new Reader(new Uint8Array([0]));
    expect(r.compactString()).toBe("");
    expect(r.error).toContain("null");
  });

  test("overlong varints", () => {
    let r = new Reader(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]));
    expect(r.uvarint()).toBe(0);
    expect(r.error).not.toBeNull();
    r = new Reader(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x1f]));
    expect(r.uvarint()).toBe(0);
    expect(r.error).toContain("overflow");
    r = new Reader(new Uint8Array(11).fill(0xff));
    expect(r.varlong()).toBe(0);
    expect(r.error).not.toBeNull();
    r = new Reader(new Uint8Array([0x80, 0x80]));
    expect(r.uvarint()).toBe(0);
    expect(r.error).toContain("truncated");
  });

  test("tagged field bodies are bounded and errors stay sticky across them", () => {
    // tag body claims 2 bytes but the decoder reads an int32: must fail, not read past the body
    const r = new Reader(new Uint8Array([0, 1, 0, 0, 0, 0, 0]));
    const outer = r.beginTaggedField(2);
    expect(r.int32()).toBe(0);
    r.endTaggedField(outer);
    expect(r.error).not.toBeNull();
    expect(r.remaining).toBe(0);
    expect(r.int8()).toBe(0);
    // a short read inside the body skips the rest of the body
    const r2 = new Reader(new Uint8Array([1, 2, 3, 9]));
    const o2 = r2.beginTaggedField(3);
    expect(r2.int8()).toBe(1);
    r2.endTaggedField(o2);
    expect(r2.int8()).toBe(9);
    expect(r2.error).toBeNull();
  });

  test("reader over a sub-range honours offset and end", () => {
    const buf = new Uint8Array([9, 0, 0, 0, 5, 9]);
    const r = new Reader(buf, 1, 5);
    expect(r.remaining).toBe(4);
    expect(r.int32()).toBe(5);
    expect(r.int8()).toBe(0);
    expect(r.error).not.toBeNull();
    const r2 = new Reader(buf.subarray(1, 5));
    expect(r2.int32()).toBe(5);
  });
});
