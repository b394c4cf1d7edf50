/**
 * Kafka wire-format reader with a sticky error.
 *
 * Design (after franz-go's kbin.Reader): every read checks bounds; the first
 * failure records a message in `error` and moves the cursor to `end`, so every
 * later read also fails its bounds check and returns a zero value ("" / 0 /
 * false / empty view / -1-free lengths). Decoders therefore run straight
 * through without branching on errors, and callers check `r.error` once when
 * they are done.
 *
 * Every length read from the wire is validated against the bytes remaining
 * *before* anything is allocated:
 *  - strings / bytes / records: length must be <= remaining.
 *  - arrays: the element count must be <= remaining. This assumes each element
 *    occupies at least one byte, which holds for every primitive element type
 *    and for every struct in flexible versions (each struct ends with its
 *    tagged-field count). A struct whose fields are all absent in a
 *    non-flexible version would be 0 bytes; no Kafka schema has such a struct,
 *    and rejecting a count larger than the remaining input is the safe choice.
 *
 * Bytes / records values are returned as subarray views into the input buffer
 * (zero copy): they stay valid only as long as the caller keeps the input
 * buffer unchanged.
 */

const decoder = new TextDecoder("utf-8");

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, "0"));

export const ZERO_UUID = "00000000000000000000000000000000";
const EMPTY = new Uint8Array(0);

export class Reader {
  readonly buf: Uint8Array;
  readonly view: DataView;
  offset: number;
  end: number;
  /** First error encountered, or null. Sticky: later reads return zero values. */
  error: string | null = null;

  constructor(buf: Uint8Array, offset = 0, end = buf.length) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    if (end > buf.length || end < 0) end = buf.length;
    this.offset = offset;
    this.end = end;
    if (offset < 0 || offset > end) {
      this.offset = end;
      this.error = `reader: start offset ${offset} outside [0, ${end}]`;
    }
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  /** Record an error (only the first one is kept) and stop all further reads. */
  fail(message: string): void {
    if (this.error === null) this.error = `${message} (at offset ${this.offset})`;
    this.offset = this.end;
  }

  private short(need: number): void {
    this.fail(`truncated input: need ${need} byte(s), have ${this.end - this.offset}`);
  }

  // ---- fixed-width primitives ---------------------------------------------

  int8(): number {
    const o = this.offset;
    if (o + 1 > this.end) return this.short(1), 0;
    this.offset = o + 1;
    return this.view.getInt8(o);
  }

  uint8(): number {
    const o = this.offset;
    if (o + 1 > this.end) return this.short(1), 0;
    this.offset = o + 1;
    return this.buf[o]!;
  }

  bool(): boolean {
    const o = this.offset;
    if (o + 1 > this.end) return this.short(1), false;
    this.offset = o + 1;
    return this.buf[o] !== 0;
  }

  int16(): number {
    const o = this.offset;
    if (o + 2 > this.end) return this.short(2), 0;
    this.offset = o + 2;
    return this.view.getInt16(o);
  }

  uint16(): number {
    const o = this.offset;
    if (o + 2 > this.end) return this.short(2), 0;
    this.offset = o + 2;
    return this.view.getUint16(o);
  }

  int32(): number {
    const o = this.offset;
    if (o + 4 > this.end) return this.short(4), 0;
    this.offset = o + 4;
    return this.view.getInt32(o);
  }

  uint32(): number {
    const o = this.offset;
    if (o + 4 > this.end) return this.short(4), 0;
    this.offset = o + 4;
    return this.view.getUint32(o);
  }

  /**
   * int64 as a JS number: exact for |v| <= 2^53, otherwise the nearest double
   * (e.g. Long.MAX_VALUE reads as 9223372036854775807 === 2^63).
   */
  int64(): number {
    const o = this.offset;
    if (o + 8 > this.end) return this.short(8), 0;
    this.offset = o + 8;
    return this.view.getInt32(o) * 4294967296 + this.view.getUint32(o + 4);
  }

  /** int64 as an exact bigint. */
  int64BigInt(): bigint {
    const o = this.offset;
    if (o + 8 > this.end) return this.short(8), 0n;
    this.offset = o + 8;
    return this.view.getBigInt64(o);
  }

  float64(): number {
    const o = this.offset;
    if (o + 8 > this.end) return this.short(8), 0;
    this.offset = o + 8;
    return this.view.getFloat64(o);
  }

  /** 16 bytes -> 32 lowercase hex characters. */
  uuid(): string {
    const o = this.offset;
    if (o + 16 > this.end) return this.short(16), ZERO_UUID;
    this.offset = o + 16;
    const b = this.buf;
    let s = "";
    for (let i = o; i < o + 16; i++) s += HEX[b[i]!];
    return s;
  }

  // ---- variable-length integers -------------------------------------------

  /** Unsigned LEB128, at most 5 bytes, result in [0, 2^32). */
  uvarint(): number {
    const b = this.buf;
    let o = this.offset;
    const end = this.end;
    if (o < end) {
      const x = b[o]!;
      if (x < 0x80) {
        this.offset = o + 1;
        return x;
      }
    }
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      if (o >= end) return this.short(1), 0;
      const x = b[o++]!;
      if (i === 4 && x > 0x0f) {
        this.fail("uvarint overflows 32 bits");
        return 0;
      }
      result += (x & 0x7f) * 2 ** shift;
      if (x < 0x80) {
        this.offset = o;
        return result;
      }
      shift += 7;
    }
    this.fail("uvarint longer than 5 bytes");
    return 0;
  }

  /** Zigzag-encoded signed 32-bit varint. */
  varint(): number {
    const u = this.uvarint();
    return (u >>> 1) ^ -(u & 1);
  }

  /** Unsigned LEB128 up to 10 bytes, as number (exact up to 2^53) . */
  private uvarlongRaw(): number | bigint {
    const b = this.buf;
    let o = this.offset;
    const end = this.end;
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (o >= end) return this.short(1), 0;
      const x = b[o++]!;
      if (i >= 7) {
        // Beyond 49 bits: restart exactly with bigint (rare path).
        return this.uvarlongBig();
      }
      result += (x & 0x7f) * mul;
      if (x < 0x80) {
        this.offset = o;
        return result;
      }
      mul *= 128;
    }
    this.fail("varlong longer than 10 bytes");
    return 0;
  }

  private uvarlongBig(): bigint {
    const b = this.buf;
    let o = this.offset;
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (o >= this.end) return this.short(1), 0n;
      const x = b[o++]!;
      result |= BigInt(x & 0x7f) << shift;
      if (x < 0x80) {
        this.offset = o;
        return result & 0xffffffffffffffffn;
      }
      shift += 7n;
    }
    this.fail("varlong longer than 10 bytes");
    return 0n;
  }

  /** Zigzag-encoded signed 64-bit varint, as number (exact for |v| <= 2^52). */
  varlong(): number {
    const u = this.uvarlongRaw();
    if (typeof u === "bigint") {
      const v = (u >> 1n) ^ -(u & 1n);
      return Number(BigInt.asIntN(64, v));
    }
    // u < 2^49 here, so arithmetic is exact.
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  // ---- raw --------------------------------------------------------------

  /** Skip n bytes (error if fewer remain). */
  skip(n: number): void {
    if (n < 0 || n > this.end - this.offset) return this.fail(`cannot skip ${n} byte(s), have ${this.end - this.offset}`);
    this.offset += n;
  }

  /** n raw bytes as a subarray view (zero copy). */
  raw(n: number): Uint8Array {
    const o = this.offset;
    if (n < 0 || n > this.end - o) return this.short(n), EMPTY;
    this.offset = o + n;
    return this.buf.subarray(o, o + n);
  }

  // ---- strings ------------------------------------------------------------

  private utf8(n: number): string {
    const o = this.offset;
    if (n > this.end - o) return this.short(n), "";
    this.offset = o + n;
    const b = this.buf;
    if (n <= 16) {
      let s = "";
      for (let i = o; i < o + n; i++) {
        const c = b[i]!;
        if (c >= 0x80) return decoder.decode(b.subarray(o, o + n));
        s += String.fromCharCode(c);
      }
      return s;
    }
    return decoder.decode(b.subarray(o, o + n));
  }

  /** Classic STRING: int16 length, non-null. */
  string(): string {
    const n = this.int16();
    if (n < 0) return this.fail("non-nullable string was null"), "";
    return this.utf8(n);
  }

  /** Classic NULLABLE_STRING: int16 length, -1 = null. */
  nullableString(): string | null {
    const n = this.int16();
    if (n < 0) {
      if (n === -1) return null;
      return this.fail(`invalid string length ${n}`), null;
    }
    return this.utf8(n);
  }

  /** COMPACT_STRING: uvarint length+1, non-null. */
  compactString(): string {
    const n = this.uvarint() - 1;
    if (n < 0) return this.fail("non-nullable compact string was null"), "";
    return this.utf8(n);
  }

  /** COMPACT_NULLABLE_STRING: uvarint length+1, 0 = null. */
  compactNullableString(): string | null {
    const u = this.uvarint();
    if (u === 0) return null;
    return this.utf8(u - 1);
  }

  // ---- bytes (zero-copy views) -------------------------------------------

  /** Classic BYTES: int32 length, non-null. */
  bytes(): Uint8Array {
    const n = this.int32();
    if (n < 0) return this.fail("non-nullable bytes was null"), EMPTY;
    return this.raw(n);
  }

  /** Classic NULLABLE_BYTES (also RECORDS): int32 length, -1 = null. */
  nullableBytes(): Uint8Array | null {
    const n = this.int32();
    if (n < 0) {
      if (n === -1) return null;
      return this.fail(`invalid bytes length ${n}`), null;
    }
    return this.raw(n);
  }

  /** COMPACT_BYTES: uvarint length+1, non-null. */
  compactBytes(): Uint8Array {
    const n = this.uvarint() - 1;
    if (n < 0) return this.fail("non-nullable compact bytes was null"), EMPTY;
    return this.raw(n);
  }

  /** COMPACT_NULLABLE_BYTES (also COMPACT_RECORDS): uvarint length+1, 0 = null. */
  compactNullableBytes(): Uint8Array | null {
    const u = this.uvarint();
    if (u === 0) return null;
    return this.raw(u - 1);
  }

  // ---- array lengths --------------------------------------------------------

  /**
   * Classic ARRAY length: int32, -1 = null (returned as -1). Any other
   * negative count, or a count larger than the bytes remaining, is an error
   * (returns 0).
   */
  arrayLength(): number {
    const n = this.int32();
    if (n < 0) {
      if (n === -1) return -1;
      return this.fail(`invalid array length ${n}`), 0;
    }
    if (n > this.end - this.offset) return this.fail(`array length ${n} exceeds ${this.end - this.offset} remaining byte(s)`), 0;
    return n;
  }

  /** COMPACT_ARRAY length: uvarint N+1, 0 = null (returned as -1). Bounded like arrayLength(). */
  compactArrayLength(): number {
    const u = this.uvarint();
    if (u === 0) return this.error === null ? -1 : 0;
    const n = u - 1;
    if (n > this.end - this.offset) return this.fail(`array length ${n} exceeds ${this.end - this.offset} remaining byte(s)`), 0;
    return n;
  }

  // ---- tagged fields --------------------------------------------------------

  /** Skip a whole tagged-field section (count, then tag/size/body each). */
  skipTaggedFields(): void {
    const n = this.uvarint();
    for (let i = 0; i < n && this.error === null; i++) {
      this.uvarint(); // tag
      this.skip(this.uvarint());
    }
  }

  /**
   * Start decoding a known tagged field whose body is `size` bytes: narrows
   * `end` to the body and returns the outer end, which must be handed to
   * endTaggedField() afterwards.
   */
  beginTaggedField(size: number): number {
    const outer = this.end;
    if (size > outer - this.offset) {
      this.fail(`tagged field size ${size} exceeds ${outer - this.offset} remaining byte(s)`);
      return outer;
    }
    this.end = this.offset + size;
    return outer;
  }

  /** Finish a tagged field: skip unread trailing bytes of the body and restore the outer end. */
  endTaggedField(outerEnd: number): void {
    if (this.error !== null) {
      this.end = outerEnd;
      this.offset = outerEnd;
      return;
    }
    this.offset = this.end;
    this.end = outerEnd;
  }
}
