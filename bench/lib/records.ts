/**
 * Just enough of the v2 record-batch format to read record values back out of a Fetch response
 * (uncompressed batches only, which is all the benchmarks produce). The broker never needs this;
 * the end-to-end latency benchmark uses it to find the send timestamp inside each value.
 */

const HEADER_BYTES = 61;

function readVarint(buf: Uint8Array, pos: number): [value: number, next: number] {
  let z = 0;
  let mul = 1;
  let b: number;
  do {
    if (pos >= buf.length) throw new Error("truncated varint");
    b = buf[pos++]!;
    z += (b & 0x7f) * mul;
    mul *= 0x80;
  } while (b & 0x80);
  // zig-zag decode without 32-bit overflow
  return [z % 2 === 0 ? z / 2 : -(z + 1) / 2, pos];
}

export interface FetchedRecord {
  offset: number;
  value: Uint8Array | null;
}

/** Every record of every complete batch in `records` (a trailing partial batch is ignored). */
export function readRecordValues(records: Uint8Array | null): FetchedRecord[] {
  const out: FetchedRecord[] = [];
  if (!records) return out;
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
    let p = pos + HEADER_BYTES;
    for (let i = 0; i < count; i++) {
      let len: number, attrs: number, tsDelta: number, offDelta: number, keyLen: number, valLen: number;
      [len, p] = readVarint(records, p);
      const recordEnd = p + len;
      attrs = records[p++]!;
      void attrs;
      [tsDelta, p] = readVarint(records, p);
      void tsDelta;
      [offDelta, p] = readVarint(records, p);
      [keyLen, p] = readVarint(records, p);
      if (keyLen > 0) p += keyLen;
      [valLen, p] = readVarint(records, p);
      const value = valLen < 0 ? null : records.subarray(p, p + valLen);
      out.push({ offset: baseOffset + offDelta, value });
      p = recordEnd;
    }
    pos = end;
  }
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

export function readStamp(value: Uint8Array | null): { seq: number; sentAt: number } | null {
  if (!value || value.length < 16) return null;
  const v = new DataView(value.buffer, value.byteOffset, value.byteLength);
  if (v.getUint32(0) !== STAMP_MAGIC) return null;
  return { seq: v.getUint32(4), sentAt: v.getFloat64(8) };
}
