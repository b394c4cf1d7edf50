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
 *
 * A writer given a BufferPool takes its large buffers (pool.minBlock bytes and
 * up) from the pool instead of fresh memory: touching fresh pages costs page
 * faults, far more than writing into memory that is already mapped. The chunks
 * it returns may then be views of pooled blocks; whoever consumes them gives
 * the blocks back with pool.releaseChunks() once no byte of them is needed any
 * more (the connection, after the socket took every byte). Chunks never given
 * back only cost their blocks (the garbage collector takes them).
 */

import { BlockFreeLists } from "../net/block-free-lists.ts";

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

/**
 * Reusable blocks for large output buffers, in power-of-two size classes.
 * A leased block is never handed out again until it was released (release is
 * idempotent: a second release of the same block does nothing).
 */
export class BufferPool {
  private readonly free: BlockFreeLists;
  private readonly leased = new WeakSet<ArrayBufferLike>();
  /** Counters for tests and benchmarks. */
  readonly stats = { acquired: 0, reused: 0, released: 0 };

  /**
   * @param minBlock smallest block (and smallest request worth pooling)
   * @param maxBlock requests above this get unpooled memory
   * @param maxFreeBytes most bytes kept on the free lists (beyond it, released blocks are dropped)
   */
  constructor(
    readonly minBlock = 32 * 1024,
    readonly maxBlock = 4 * 1024 * 1024,
    maxFreeBytes = 32 * 1024 * 1024,
  ) {
    this.free = new BlockFreeLists(maxFreeBytes);
  }

  /** A whole block of at least n bytes (contents undefined), leased until released. */
  acquire(n: number): Uint8Array {
    if (n > this.maxBlock) return new Uint8Array(n);
    let size = this.minBlock;
    while (size < n) size *= 2;
    let block = this.free.take(size);
    if (block !== null) this.stats.reused++;
    else block = BlockFreeLists.allocate(size);
    this.stats.acquired++;
    this.leased.add(block.buffer);
    return block;
  }

  /** True when `view` points into a block currently leased from this pool. */
  owns(view: Uint8Array): boolean {
    return this.leased.has(view.buffer);
  }

  /** Gives back the leased block `view` points into (no-op if it is not leased). */
  release(view: Uint8Array): void {
    const buffer = view.buffer;
    if (!this.leased.delete(buffer)) return;
    this.stats.released++;
    this.free.give(new Uint8Array(buffer, 0, buffer.byteLength));
  }

  /** Gives back every pooled block the chunks point into: call only once none of their bytes is needed. */
  releaseChunks(chunks: readonly Uint8Array[]): void {
    for (const c of chunks) this.release(c);
  }
}

export interface WriterOptions {
  /**
   * Take buffers of pool.minBlock bytes and more from this pool (see BufferPool). Such a writer
   * must not be written to after toChunks()/toBytes(): growing could give back a block a view of
   * the open segment still points into.
   */
  pool?: BufferPool;
  /** Payloads at least this large become their own chunk; default ZERO_COPY_THRESHOLD. */
  zeroCopyThreshold?: number;
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
  private readonly pool: BufferPool | undefined;
  private readonly zeroCopyThreshold: number;

  constructor(initialCapacity = 1024, options?: WriterOptions) {
    this.pool = options?.pool;
    this.zeroCopyThreshold = options?.zeroCopyThreshold ?? ZERO_COPY_THRESHOLD;
    // A pooled writer starts in at most one largest block and chains from there.
    const cap = Math.max(16, this.pool !== undefined ? Math.min(initialCapacity, this.pool.maxBlock) : initialCapacity);
    this.buf = this.allocate(cap);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  private allocate(n: number): Uint8Array {
    const pool = this.pool;
    return pool !== undefined && n >= pool.minBlock ? pool.acquire(n) : new Uint8Array(n);
  }

  /** Total bytes written so far. */
  get byteLength(): number {
    return this.flushed + (this.pos - this.segStart);
  }

  /** Forget everything written; keeps the current buffer only if no chunk views escaped. */
  reset(): void {
    if (this.chunks.length > 0 || this.segStart > 0) this.setBuffer(this.allocate(this.buf.length));
    this.pos = 0;
    this.segStart = 0;
    this.chunks = [];
    this.flushed = 0;
    this.noSplit = 0;
  }

  /**
   * Make room for n more bytes in the current segment. A pooled writer already in a pooled block
   * chains: it closes the segment as a chunk and continues in another block, copying nothing
   * (blocks double up to pool.maxBlock). Otherwise, and always inside a tagged-field body (which
   * must stay contiguous), copy-on-grow.
   */
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const pool = this.pool;
    const old = this.buf;
    if (pool !== undefined && this.noSplit === 0 && old.length >= pool.minBlock) {
      if (this.pos > this.segStart) {
        this.chunks.push(old.subarray(this.segStart, this.pos));
        this.flushed += this.pos - this.segStart;
      } else if (this.segStart === 0) {
        pool.release(old); // nothing was written into it
      }
      this.setBuffer(pool.acquire(Math.max(n, Math.min(old.length * 2, pool.maxBlock))));
      this.pos = 0;
      this.segStart = 0;
      return;
    }
    const used = this.pos - this.segStart;
    let cap = old.length * 2;
    while (cap < used + n) cap *= 2;
    const nb = this.allocate(cap);
    nb.set(old.subarray(this.segStart, this.pos));
    // A pooled buffer no chunk points into (segStart 0: no segment of it was closed) can go back now.
    if (this.segStart === 0 && pool !== undefined) pool.release(old);
    this.setBuffer(nb);
    this.pos = used;
    this.segStart = 0;
  }

  private setBuffer(b: Uint8Array): void {
    this.buf = b;
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
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
   * Append bytes. Payloads of zeroCopyThreshold bytes (ZERO_COPY_THRESHOLD
   * unless set) or more become their own chunk (no copy) unless we are inside
   * a tagged-field body.
   */
  raw(b: Uint8Array): void {
    const n = b.length;
    if (n >= this.zeroCopyThreshold && this.noSplit === 0) {
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
    const size = this.byteLength - handle;
    const sz = uvarintSize(size);
    // Room for the length prefix is made while splitting is still off: a pooled writer would
    // otherwise close the body into a chunk and chain a new block, and the body would no longer
    // be where the prefix is inserted (corrupt output when a tagged field ends at a block's end).
    this.ensure(sz);
    this.noSplit--;
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
    this.copyTo(out);
    return out;
  }

  /** Copies the output to the start of `target` (at least byteLength long). */
  copyTo(target: Uint8Array): void {
    let p = 0;
    for (const c of this.chunks) {
      target.set(c, p);
      p += c.length;
    }
    target.set(this.buf.subarray(this.segStart, this.pos), p);
  }
}

function int64ToBig(v: number): bigint {
  if (Number.isNaN(v)) throw new Error("int64 value is NaN");
  if (v >= TWO_63) return INT64_MAX;
  if (v < -TWO_63) return INT64_MIN;
  return BigInt(Math.trunc(v));
}
