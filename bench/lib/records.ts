/**
 * Just enough of the v2 record-batch format to read record values back out of a Fetch response
 * (uncompressed batches only, which is all the benchmarks produce), and to write the open loop's
 * stamped batches. The broker never needs this; the end-to-end latency benchmark uses it to stamp
 * each value with its send time and to find that time again.
 */

import { putVarint, sealBatch, varintSize, writeBatchHeader } from "../../src/client/record-batch-builder.ts";

const HEADER_BYTES = 61;

/** Read position of `varint` (a cursor instead of a returned pair: no array per varint). */
let at = 0;

function varint(buf: Uint8Array): number {
  let z = 0;
  let mul = 1;
  let b: number;
  do {
    if (at >= buf.length) throw new Error("truncated varint");
    b = buf[at++]!;
    z += (b & 0x7f) * mul;
    mul *= 0x80;
  } while (b & 0x80);
  // zig-zag decode without 32-bit overflow
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

export interface FetchedRecord {
  offset: number;
  value: Uint8Array | null;
}

/**
 * Calls `onRecord` for every record of every complete batch in `records` (a trailing partial batch
 * is ignored) with its offset and where its value lies (`valueLength` -1: null value).
 */
function walkRecords(
  records: Uint8Array,
  onRecord: (offset: number, valueStart: number, valueLength: number, view: DataView) => void,
): void {
  const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
  let pos = 0;
  while (pos + HEADER_BYTES <= records.length) {
    const baseOffset = Number(view.getBigInt64(pos));
    const batchLength = view.getInt32(pos + 8);
    const end = pos + 12 + batchLength;
    if (end > records.length) break;
    const magic = view.getInt8(pos + 16);
    if (magic !== 2) throw new Error(`record batch magic ${magic}, expected 2`);
    const attributes = view.getInt16(pos + 21);
    if ((attributes & 0x07) !== 0) throw new Error("compressed batches are not supported here");
    const count = view.getInt32(pos + 57);
    at = pos + HEADER_BYTES;
    for (let i = 0; i < count; i++) {
      const length = varint(records);
      const recordEnd = at + length;
      at++; // attributes
      varint(records); // timestamp delta
      const offsetDelta = varint(records);
      const keyLength = varint(records);
      if (keyLength > 0) at += keyLength;
      const valueLength = varint(records);
      onRecord(baseOffset + offsetDelta, at, valueLength, view);
      at = recordEnd;
    }
    pos = end;
  }
}

/** Every record of every complete batch in `records` (a trailing partial batch is ignored). */
export function readRecordValues(records: Uint8Array | null): FetchedRecord[] {
  const out: FetchedRecord[] = [];
  if (!records) return out;
  walkRecords(records, (offset, start, length) => {
    out.push({ offset, value: length < 0 ? null : records.subarray(start, start + length) });
  });
  return out;
}

/** Value layout used by the benchmarks: magic, sequence number, send time (performance.now()). */
export const STAMP_MAGIC = 0x42554e4b; // "BUNK"

export function stampValue(value: Uint8Array, seq: number, sentAt: number): void {
  const v = new DataView(value.buffer, value.byteOffset, value.byteLength);
  v.setUint32(0, STAMP_MAGIC);
  v.setUint32(4, seq);
  v.setFloat64(8, sentAt);
}

/** Whether the `length` bytes at `start` of `view` are a stamped value (the layout above). */
function isStamped(view: DataView, start: number, length: number): boolean {
  return length >= 16 && view.getUint32(start) === STAMP_MAGIC;
}

export function readStamp(value: Uint8Array | null): { seq: number; sentAt: number } | null {
  if (!value) return null;
  const v = new DataView(value.buffer, value.byteOffset, value.byteLength);
  if (!isStamped(v, 0, value.length)) return null;
  return { seq: v.getUint32(4), sentAt: v.getFloat64(8) };
}

/**
 * Calls `onRecord` with the offset of every record in `records` and its send time (null when the
 * value carries no stamp), building no object per record: the open loop's consumer reads 60 000
 * records a second at 60 MiB/s, and an object per record (readRecordValues, then readStamp) put the
 * client's own collector pauses into the tail it measures (bench/RESULTS.md, session 11).
 */
export function forEachStamp(records: Uint8Array | null, onRecord: (offset: number, sentAt: number | null) => void): void {
  if (!records) return;
  walkRecords(records, (offset, start, length, view) => {
    onRecord(offset, isStamped(view, start, length) ? view.getFloat64(start + 8) : null);
  });
}

/**
 * One uncompressed v2 batch of `count` records taken from `sentAt[from…]`: each value is
 * `template` stamped (stampValue's layout) with sequence `firstSeq + i` and its send time; no key,
 * no headers, every record at `timestamp`. Byte for byte what buildRecordBatch makes of the same
 * records, written straight into one buffer: the open loop produces 60 000 records a second, and
 * the objects and views buildRecordBatch takes per record (value views, a DataView per stamp, body
 * and header objects) ran the client's young-generation collector ~28 times a second at
 * 100 partitions × 50 MiB/s, its pauses (up to 10 ms) landing in the tail it measures. With
 * `into` the batch is written at its start (a view of it is returned) instead of a new buffer.
 */
export function buildStampedBatch(
  sentAt: readonly number[],
  from: number,
  count: number,
  firstSeq: number,
  template: Uint8Array,
  timestamp = Date.now(),
  into?: Uint8Array,
): Uint8Array {
  if (count <= 0) throw new Error("a record batch needs at least one record");
  const valueLength = template.length;
  const fixed = 1 + 1 + 1 + varintSize(valueLength) + valueLength + 1; // attributes, ts delta 0, null key, value, no headers
  let total = HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const size = fixed + varintSize(i);
    total += varintSize(size) + size;
  }
  // `into`: scratch memory the caller reuses once the batch is copied out (the open loop's request
  // encoding copies it), so a batch costs no fresh buffer; too small, and the batch gets its own.
  const out = into !== undefined && into.length >= total ? into.subarray(0, total) : new Uint8Array(total);
  const v = new DataView(out.buffer, out.byteOffset, total);
  writeBatchHeader(v, total, count, timestamp, timestamp);
  let pos = HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    pos = putVarint(out, pos, fixed + varintSize(i));
    out[pos++] = 0; // attributes
    out[pos++] = 0; // timestamp delta
    pos = putVarint(out, pos, i); // offset delta
    out[pos++] = 1; // key: null (zig-zag -1)
    pos = putVarint(out, pos, valueLength);
    out.set(template, pos);
    v.setUint32(pos, STAMP_MAGIC);
    v.setUint32(pos + 4, firstSeq + i);
    v.setFloat64(pos + 8, sentAt[from + i]!);
    pos += valueLength;
    out[pos++] = 0; // no headers
  }
  sealBatch(out, v);
  return out;
}
