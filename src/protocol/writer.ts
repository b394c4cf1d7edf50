/**
 * Kafka wire-format writer.
 *
 * Output is a list of chunks: small writes go into a growable buffer (the
 * "current segment"); bytes/records payloads of at least ZERO_COPY_THRESHOLD
 * bytes are NOT copied — the current segment is closed, the caller's
 * Uint8Array is appended as its own chunk, and writing continues after it.
 * The caller must therefore not modify such a payload until the output has
 * been consumed. toChunks() returns the pieces (views, no copy); toBytes()
 * concatenates them into one new buffer.
 *
 * Positions handed out by reserveInt32() / startTaggedField() are logical
 * offsets into the whole output, so they stay valid across buffer growth.
 */

const encoder = new TextEncoder();

/** Payloads at least this large are appended as separate chunks instead of being copied. */
export const ZERO_COPY_THRESHOLD = 8192;

const TWO_32 = 4294967296;
const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;
const TWO_63 = 9223372036854775808; // as a double

/** Number of bytes an unsigned varint of value v (0 <= v < 2^32) takes. */
export function uvarintSize(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  /** Write position inside buf. */
  private pos = 0;
  /** Start of the current (open) segment inside buf. */
  private segStart = 0;
  /** Closed chunks, in order. */
  private chunks: Uint8Array[] = [];
  /** Total bytes in `chunks`. */
  private flushed = 0;
  /** >0 while inside a tagged-field body: no chunk splitting allowed there. */
  private noSplit = 0;

  constructor(initialCapacity = 1024) {
    this.buf = new Uint8Array(Math.max(16, initialCapacity));
    this.view = new DataView(this.buf.buffer);
  }

  /** Total bytes written so far. */
  get byteLength(): number {
    return this.flushed + (this.pos - this.segStart);
  }

  /** Forget everything written; keeps the current buffer only if no chunk views escaped. */
  reset(): void {
    if (this.chunks.length > 0 || this.segStart > 0) {
      this.buf = new Uint8Array(this.buf.length);
      this.view = new DataView(this.buf.buffer);
    }
    this.pos = 0;
    this.segStart = 0;
    this.chunks = [];
    this.flushed = 0;
    this.noSplit = 0;
  }

  /** Make room for n more bytes in the current segment (copy-on-grow). */
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const used = this.pos - this.segStart;
    let cap = this.buf.length * 2;
    while (cap < used + n) cap *= 2;
    const nb = new Uint8Array(cap);
    nb.set(this.buf.subarray(this.segStart, this.pos));
    this.buf = nb;
    this.view = new DataView(nb.buffer);
    this.pos = used;
    this.segStart = 0;
  }

  // ---- fixed-width primitives -------------------------------------------

  int8(v: number): void {
    this.ensure(1);
    this.view.setInt8(this.pos, v);
    this.pos += 1;
  }

  uint8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  bool(v: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }

  int16(v: number): void {
    this.ensure(2);
    this.view.setInt16(this.pos, v);
    this.pos += 2;
  }

  uint16(v: number): void {
    this.ensure(2);
    this.view.setUint16(this.pos, v);
    this.pos += 2;
  }

  int32(v: number): void {
    this.ensure(4);
    this.view.setInt32(this.pos, v);
    this.pos += 4;
  }

  uint32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v);
    this.pos += 4;
  }

  /**
   * int64 from a JS number. Safe integers are exact; values outside the safe
   * range go through BigInt, and values at or beyond ±2^63 saturate to
   * Long.MAX_VALUE / Long.MIN_VALUE (so the literal 9223372036854775807,
   * which JS rounds to 2^63, encodes as Long.MAX_VALUE).
   */
  int64(v: number): void {
    this.ensure(8);
    const p = this.pos;
    if (Number.isSafeInteger(v)) {
      const hi = Math.floor(v / TWO_32);
      this.view.setInt32(p, hi);
      this.view.setUint32(p + 4, v >>> 0);
    } else {
      this.view.setBigInt64(p, int64ToBig(v));
    }
    this.pos = p + 8;
  }

  /** int64 from a bigint (wrapped to 64 bits). */
  int64BigInt(v: bigint): void {
    this.ensure(8);
    this.view.setBigInt64(this.pos, BigInt.asIntN(64, v));
    this.pos += 8;
  }

  float64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v);
    this.pos += 8;
  }

  /** uuid from 32 hex characters (dashes are not accepted). */
  uuid(v: string): void {
    if (v.length !== 32) throw new Error(`uuid must be 32 hex characters, got ${JSON.stringify(v)}`);
    this.ensure(16);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < 32; i += 2) {
      const h = hexVal(v.charCodeAt(i));
      const l = hexVal(v.charCodeAt(i + 1));
      if (h < 0 || l < 0) throw new Error(`uuid must be 32 hex characters, got ${JSON.stringify(v)}`);
      b[p++] = (h << 4) | l;
    }
    this.pos = p;
  }

  // ---- variable-length integers -----------------------------------------

  /** Unsigned varint of a value in [0, 2^32). */
  uvarint(v: number): void {
    if (v < 0x80 && v >= 0) {
      this.ensure(1);
      this.buf[this.pos++] = v;
      return;
    }
    this.ensure(5);
    this.pos = this.putUvarint(this.pos, v);
  }

  /** Write a uvarint at p without capacity checks; returns the position after it. */
  private putUvarint(p: number, v: number): number {
    const b = this.buf;
    v = v >>> 0;
    while (v >= 0x80) {
      b[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[p++] = v;
    return p;
  }

  /** Zigzag signed 32-bit varint. */
  varint(v: number): void {
    this.uvarint(((v << 1) ^ (v >> 31)) >>> 0);
  }

  /** Zigzag signed 64-bit varint from a number (exact for safe integers; saturates at ±2^63). */
  varlong(v: number): void {
    if (Number.isSafeInteger(v) && v < 2 ** 52 && v > -(2 ** 52)) {
      let z = v >= 0 ? v * 2 : -v * 2 - 1;
      this.ensure(10);
      const b = this.buf;
      let p = this.pos;
      while (z >= 0x80) {
        b[p++] = (z % 128) | 0x80;
        z = Math.floor(z / 128);
      }
      b[p++] = z;
      this.pos = p;
      return;
    }
    this.varlongBigInt(int64ToBig(v));
  }

  /** Zigzag signed 64-bit varint from a bigint. */
  varlongBigInt(v: bigint): void {
    const s = BigInt.asIntN(64, v);
    let z = BigInt.asUintN(64, (s << 1n) ^ (s >> 63n));
    this.ensure(10);
    const b = this.buf;
    let p = this.pos;
    while (z >= 0x80n) {
      b[p++] = Number(z & 0x7fn) | 0x80;
      z >>= 7n;
    }
    b[p++] = Number(z);
    this.pos = p;
  }

  // ---- raw bytes ----------------------------------------------------------

  /**
   * Append bytes. Payloads of ZERO_COPY_THRESHOLD bytes or more become their
   * own chunk (no copy) unless we are inside a tagged-field body.
   */
  raw(b: Uint8Array): void {
    const n = b.length;
    if (n >= ZERO_COPY_THRESHOLD && this.noSplit === 0) {
      if (this.pos > this.segStart) {
        this.chunks.push(this.buf.subarray(this.segStart, this.pos));
        this.flushed += this.pos - this.segStart;
        this.segStart = this.pos;
      }
      this.chunks.push(b);
      this.flushed += n;
      return;
    }
    this.ensure(n);
    this.buf.set(b, this.pos);
    this.pos += n;
  }

  // ---- strings --------------------------------------------------------------

  /**
   * Encode s as UTF-8 after a length prefix: uvarint(len+1) when `compact`,
   * else int16 (throws if the string exceeds 32767 bytes).
   */
  private str(s: string, compact: boolean): void {
    const len = s.length;
    // ASCII fast path for short strings: 1 prefix byte (compact) or 2 (classic).
    if (len < 127) {
      const pre = compact ? 1 : 2;
      this.ensure(pre + len);
      const b = this.buf;
      const start = this.pos + pre;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[start + i] = c;
      }
      if (i === len) {
        if (compact) b[this.pos] = len + 1;
        else this.view.setInt16(this.pos, len);
        this.pos = start + len;
        return;
      }
    }
    const max = len * 3;
    const pre = compact ? uvarintSize(max + 1) : 2;
    this.ensure(pre + max + 5);
    const start = this.pos + pre;
    const { written } = encoder.encodeInto(s, this.buf.subarray(start, start + max));
    if (compact) {
      const actualPre = uvarintSize(written + 1);
      if (actualPre !== pre) this.buf.copyWithin(this.pos + actualPre, start, start + written);
      this.pos = this.putUvarint(this.pos, written + 1) + written;
    } else {
      if (written > 0x7fff) throw new Error(`string of ${written} bytes is too long for an int16 length`);
      this.view.setInt16(this.pos, written);
      this.pos = start + written;
    }
  }

  /** Classic STRING (int16 length). */
  string(s: string): void {
    this.str(s, false);
  }

  /** Classic NULLABLE_STRING (int16 length, -1 = null). */
  nullableString(s: string | null): void {
    if (s === null) this.int16(-1);
    else this.str(s, false);
  }

  /** COMPACT_STRING (uvarint length+1). */
  compactString(s: string): void {
    this.str(s, true);
  }

  /** COMPACT_NULLABLE_STRING (uvarint length+1, 0 = null). */
  compactNullableString(s: string | null): void {
    if (s === null) this.uvarint(0);
    else this.str(s, true);
  }

  // ---- bytes / records --------------------------------------------------

  /** Classic BYTES (int32 length). Large payloads are zero-copy. */
  bytes(b: Uint8Array): void {
    this.int32(b.length);
    this.raw(b);
  }

  /** Classic NULLABLE_BYTES / RECORDS (int32 length, -1 = null). */
  nullableBytes(b: Uint8Array | null): void {
    if (b === null) return this.int32(-1);
    this.int32(b.length);
    this.raw(b);
  }

  /** COMPACT_BYTES (uvarint length+1). */
  compactBytes(b: Uint8Array): void {
    this.uvarint(b.length + 1);
    this.raw(b);
  }

  /** COMPACT_NULLABLE_BYTES / COMPACT_RECORDS (uvarint length+1, 0 = null). */
  compactNullableBytes(b: Uint8Array | null): void {
    if (b === null) return this.uvarint(0);
    this.uvarint(b.length + 1);
    this.raw(b);
  }

  /** RECORDS field (nullable); `compact` selects the flexible-version encoding. Zero-copy when large. */
  records(b: Uint8Array | null, compact = false): void {
    if (compact) this.compactNullableBytes(b);
    else this.nullableBytes(b);
  }

  // ---- array lengths --------------------------------------------------------

  /** Classic ARRAY length (int32); pass -1 for null. */
  arrayLength(n: number): void {
    this.int32(n);
  }

  /** COMPACT_ARRAY length (uvarint N+1); pass -1 for null (written as 0). */
  compactArrayLength(n: number): void {
    this.uvarint(n + 1);
  }

  // ---- size prefixes ------------------------------------------------------

  /** Reserve 4 bytes (e.g. a frame size) and return a handle for patchInt32(). */
  reserveInt32(): number {
    const h = this.byteLength;
    this.int32(0);
    return h;
  }

  /** Fill a reserved int32 (big-endian) at the handle from reserveInt32(). */
  patchInt32(handle: number, value: number): void {
    let target: Uint8Array;
    let off: number;
    if (handle >= this.flushed) {
      target = this.buf;
      off = this.segStart + (handle - this.flushed);
    } else {
      let base = 0;
      let found: Uint8Array | undefined;
      for (const c of this.chunks) {
        if (handle < base + c.length) {
          found = c;
          break;
        }
        base += c.length;
      }
      if (found === undefined || handle - base + 4 > found.length) throw new Error(`patchInt32: bad handle ${handle}`);
      target = found;
      off = handle - base;
    }
    target[off] = value >>> 24;
    target[off + 1] = value >>> 16;
    target[off + 2] = value >>> 8;
    target[off + 3] = value;
  }

  // ---- tagged fields --------------------------------------------------------

  /**
   * Begin a tagged field: writes the tag, then returns a handle marking the
   * start of the body. Write the body, then call endTaggedField(handle), which
   * inserts the body's uvarint size in front of it (shifting the body; bodies
   * are small). Large payloads are copied, not chunked, inside a body.
   */
  startTaggedField(tag: number): number {
    this.uvarint(tag);
    this.noSplit++;
    return this.byteLength;
  }

  endTaggedField(handle: number): void {
    this.noSplit--;
    const size = this.byteLength - handle;
    const sz = uvarintSize(size);
    this.ensure(sz);
    const bodyStart = this.segStart + (handle - this.flushed);
    this.buf.copyWithin(bodyStart + sz, bodyStart, this.pos);
    this.putUvarint(bodyStart, size);
    this.pos += sz;
  }

  // ---- output -------------------------------------------------------------

  /** The output as chunks (views; no copying). */
  toChunks(): Uint8Array[] {
    if (this.pos === this.segStart) return this.chunks.slice();
    const out = this.chunks.slice();
    out.push(this.buf.subarray(this.segStart, this.pos));
    return out;
  }

  /** The output as one new buffer (copies). */
  toBytes(): Uint8Array {
    const out = new Uint8Array(this.byteLength);
    let p = 0;
    for (const c of this.chunks) {
      out.set(c, p);
      p += c.length;
    }
    out.set(this.buf.subarray(this.segStart, this.pos), p);
    return out;
  }
}

function int64ToBig(v: number): bigint {
  if (Number.isNaN(v)) throw new Error("int64 value is NaN");
  if (v >= TWO_63) return INT64_MAX;
  if (v < -TWO_63) return INT64_MIN;
  return BigInt(Math.trunc(v));
}
