/**
 * Test helper: encodes real Kafka v2 record batches (varint records with keys, values and headers)
 * with the reference CRC-32C from the `crc-32` package, independent of the native addon.
 */
import * as CRC32C from "crc-32/crc32c";

export interface TestRecord {
  key?: string | null;
  value?: string | null;
  headers?: [string, string][];
  timestamp?: number;
}

export interface BatchOptions {
  baseOffset?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  transactional?: boolean;
  control?: boolean;
  compression?: number;
  timestampType?: 0 | 1;
  partitionLeaderEpoch?: number;
}

const enc = new TextEncoder();

class Bytes {
  private parts: number[] = [];
  byte(b: number): void {
    this.parts.push(b & 0xff);
  }
  raw(u: Uint8Array): void {
    for (const b of u) this.parts.push(b);
  }
  /** Zig-zag varint/varlong for any safe integer. */
  varint(n: number): void {
    let z = n >= 0 ? n * 2 : -n * 2 - 1;
    while (z >= 0x80) {
      this.parts.push((z % 0x80) | 0x80);
      z = Math.floor(z / 0x80);
    }
    this.parts.push(z);
  }
  bytesOrNull(s: string | null | undefined): void {
    if (s === null || s === undefined) {
      this.varint(-1);
      return;
    }
    const u = enc.encode(s);
    this.varint(u.length);
    this.raw(u);
  }
  toArray(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

export function encodeRecord(r: TestRecord, offsetDelta: number, baseTimestamp: number): Uint8Array {
  const body = new Bytes();
  body.byte(0); // attributes
  body.varint((r.timestamp ?? baseTimestamp) - baseTimestamp);
  body.varint(offsetDelta);
  body.bytesOrNull(r.key);
  body.bytesOrNull(r.value === undefined ? "" : r.value);
  const headers = r.headers ?? [];
  body.varint(headers.length);
  for (const [k, v] of headers) {
    body.bytesOrNull(k);
    body.bytesOrNull(v);
  }
  const b = body.toArray();
  const out = new Bytes();
  out.varint(b.length);
  out.raw(b);
  return out.toArray();
}

export function crc32cRef(data: Uint8Array): number {
  return CRC32C.buf(data) >>> 0;
}

/** A complete v2 batch. */
export function buildBatch(records: TestRecord[], opts: BatchOptions = {}): Uint8Array {
  const baseTimestamp = records[0]?.timestamp ?? 1_700_000_000_000;
  const encoded = records.map((r, i) => encodeRecord(r, i, baseTimestamp));
  const recordsLen = encoded.reduce((n, e) => n + e.length, 0);
  const size = 61 + recordsLen;
  const buf = new Uint8Array(size);
  const dv = new DataView(buf.buffer);
  const maxTimestamp = Math.max(...records.map((r) => r.timestamp ?? baseTimestamp));
  dv.setBigInt64(0, BigInt(opts.baseOffset ?? 0));
  dv.setInt32(8, size - 12);
  dv.setInt32(12, opts.partitionLeaderEpoch ?? 0);
  dv.setInt8(16, 2);
  let attributes = opts.compression ?? 0;
  if (opts.timestampType === 1) attributes |= 0x08;
  if (opts.transactional) attributes |= 0x10;
  if (opts.control) attributes |= 0x20;
  dv.setInt16(21, attributes);
  dv.setInt32(23, records.length - 1);
  dv.setBigInt64(27, BigInt(baseTimestamp));
  dv.setBigInt64(35, BigInt(maxTimestamp));
  dv.setBigInt64(43, BigInt(opts.producerId ?? -1));
  dv.setInt16(51, opts.producerEpoch ?? -1);
  dv.setInt32(53, opts.baseSequence ?? -1);
  dv.setInt32(57, records.length);
  let at = 61;
  for (const e of encoded) {
    buf.set(e, at);
    at += e.length;
  }
  dv.setUint32(17, crc32cRef(buf.subarray(21)));
  return buf;
}

/** `n` records with keys, values and a header each, timestamps from `ts`. */
export function sampleRecords(n: number, ts = 1_700_000_000_000, valueSize = 20): TestRecord[] {
  const out: TestRecord[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      key: `key-${i}`,
      value: `v${i}-`.padEnd(valueSize, "x"),
      headers: [["h", `hv${i}`]],
      timestamp: ts + i,
    });
  }
  return out;
}

/** A magic 0/1 style message set entry: just enough bytes with magic = `magic` at @16. */
export function legacyMessage(magic: 0 | 1): Uint8Array {
  const buf = new Uint8Array(12 + 34);
  const dv = new DataView(buf.buffer);
  dv.setInt32(8, 34);
  dv.setInt8(16, magic);
  return buf;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function baseOffsetOf(batch: Uint8Array, pos = 0): number {
  return Number(new DataView(batch.buffer, batch.byteOffset).getBigInt64(pos));
}

/** Splits stored bytes into batches: [baseOffset, bytes][]. */
export function splitBatches(buf: Uint8Array): { baseOffset: number; bytes: Uint8Array }[] {
  const out: { baseOffset: number; bytes: Uint8Array }[] = [];
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 0;
  while (pos + 12 <= buf.length) {
    const size = dv.getInt32(pos + 8) + 12;
    out.push({ baseOffset: Number(dv.getBigInt64(pos)), bytes: buf.subarray(pos, pos + size) });
    pos += size;
  }
  return out;
}
