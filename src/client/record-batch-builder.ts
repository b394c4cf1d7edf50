/**
 * Encodes Kafka v2 record batches (uncompressed) for the wire client, the way a producer does:
 * varint-framed records with keys, values and headers, then the 61-byte header and its CRC-32C
 * (native). Used by tests and benchmarks; the broker itself never encodes records.
 */
import { crc32cRange } from "../native/index.ts";

export interface ProducedRecord {
  key?: Uint8Array | null;
  value: Uint8Array | null;
  headers?: { key: string; value: Uint8Array | null }[];
  timestamp?: number;
}

export interface BatchSettings {
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
}

const encoder = new TextEncoder();
const HEADER_BYTES = 61;

/** Bytes of `v` as a zig-zag varint (record fields). */
export function varintSize(v: number): number {
  let z = v >= 0 ? v * 2 : -v * 2 - 1;
  let n = 1;
  while (z >= 0x80) {
    z = Math.floor(z / 0x80);
    n++;
  }
  return n;
}

/** Writes `v` as a zig-zag varint at `pos` of `out`; returns the position after it. */
export function putVarint(out: Uint8Array, pos: number, v: number): number {
  let z = v >= 0 ? v * 2 : -v * 2 - 1;
  while (z >= 0x80) {
    out[pos++] = (z % 0x80) | 0x80;
    z = Math.floor(z / 0x80);
  }
  out[pos++] = z;
  return pos;
}

/**
 * The 61-byte v2 batch header of a batch of `total` bytes and `count` records (no compression,
 * CreateTime, base offset 0: the broker assigns it), all but the CRC, which covers the bytes
 * after it and so comes last (`sealBatch`).
 */
export function writeBatchHeader(v: DataView, total: number, count: number, baseTimestamp: number, maxTimestamp: number, settings: BatchSettings = {}): void {
  v.setBigInt64(0, 0n); // baseOffset: the broker assigns it
  v.setInt32(8, total - 12); // batchLength counts the bytes after this field
  v.setInt32(12, -1); // partitionLeaderEpoch
  v.setInt8(16, 2); // magic
  v.setInt16(21, 0); // attributes: no compression, CreateTime
  v.setInt32(23, count - 1); // lastOffsetDelta
  v.setBigInt64(27, BigInt(baseTimestamp));
  v.setBigInt64(35, BigInt(maxTimestamp));
  v.setBigInt64(43, BigInt(settings.producerId ?? -1));
  v.setInt16(51, settings.producerEpoch ?? -1);
  v.setInt32(53, settings.baseSequence ?? -1);
  v.setInt32(57, count);
}

/** Fills in the CRC-32C of a complete batch (attributes to the end). */
export function sealBatch(out: Uint8Array, v: DataView): void {
  v.setUint32(17, crc32cRange(out, 21, out.length));
}

class Cursor {
  pos = 0;
  constructor(readonly buf: Uint8Array, readonly view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)) {}
  varint(v: number): void {
    this.pos = putVarint(this.buf, this.pos, v);
  }
  bytes(b: Uint8Array | null): void {
    if (b === null) return this.varint(-1);
    this.varint(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}

export function buildRecordBatch(records: readonly ProducedRecord[], settings: BatchSettings = {}): Uint8Array {
  if (records.length === 0) throw new Error("a record batch needs at least one record");
  const now = Date.now();
  const baseTimestamp = records[0]!.timestamp ?? now;
  let maxTimestamp = baseTimestamp;
  const bodies = records.map((r, i) => {
    const ts = r.timestamp ?? now;
    if (ts > maxTimestamp) maxTimestamp = ts;
    const headers = (r.headers ?? []).map((h) => ({ key: encoder.encode(h.key), value: h.value }));
    const key = r.key ?? null;
    let size = 1 + varintSize(ts - baseTimestamp) + varintSize(i);
    size += key === null ? 1 : varintSize(key.length) + key.length;
    size += r.value === null ? 1 : varintSize(r.value.length) + r.value.length;
    size += varintSize(headers.length);
    for (const h of headers) size += varintSize(h.key.length) + h.key.length + (h.value === null ? 1 : varintSize(h.value.length) + h.value.length);
    return { r, ts, headers, key, size, i };
  });
  let total = HEADER_BYTES;
  for (const b of bodies) total += varintSize(b.size) + b.size;
  const out = new Uint8Array(total);
  const c = new Cursor(out);
  const v = c.view;
  writeBatchHeader(v, total, records.length, baseTimestamp, maxTimestamp, settings);
  c.pos = HEADER_BYTES;
  for (const b of bodies) {
    c.varint(b.size);
    out[c.pos++] = 0; // record attributes
    c.varint(b.ts - baseTimestamp);
    c.varint(b.i);
    c.bytes(b.key);
    c.bytes(b.r.value);
    c.varint(b.headers.length);
    for (const h of b.headers) {
      c.bytes(h.key);
      c.bytes(h.value);
    }
  }
  sealBatch(out, v);
  return out;
}
