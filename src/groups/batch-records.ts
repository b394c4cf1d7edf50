/**
 * Decodes the keys and values of uncompressed v2 record batches, for replaying the coordinator's
 * internal log at startup (the broker's data path never decodes records; this log is ours and is
 * written uncompressed by record-batch-builder). Headers and timestamps are skipped.
 */
import { ATTR_COMPRESSION_MASK, LOG_OVERHEAD, RECORDS_OFFSET, readBatchHeader } from "../protocol/record-batch.ts";
import { Reader } from "../protocol/reader.ts";

export interface DecodedRecord {
  offset: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
}

export interface DecodedBatches {
  records: DecodedRecord[];
  /** The offset after the last whole batch decoded (where the next read starts). */
  nextOffset: number;
}

/** `buf` holds whole batches back to back, as PartitionLog.read returns them. */
export function decodeBatches(buf: Uint8Array, startOffset: number): DecodedBatches {
  const records: DecodedRecord[] = [];
  let pos = 0;
  let nextOffset = startOffset;
  while (buf.length - pos >= RECORDS_OFFSET) {
    const h = readBatchHeader(buf, pos);
    const end = pos + LOG_OVERHEAD + h.batchLength;
    if (end > buf.length) break;
    if ((h.attributes & ATTR_COMPRESSION_MASK) !== 0) {
      throw new Error(`internal log batch at offset ${h.baseOffset} is compressed; not written by this broker`);
    }
    const r = new Reader(buf, pos + RECORDS_OFFSET, end);
    for (let i = 0; i < h.recordCount; i++) {
      r.varint(); // record length
      r.int8(); // attributes
      r.varlong(); // timestamp delta
      const offsetDelta = r.varint();
      const key = readVarBytes(r);
      const value = readVarBytes(r);
      const headers = r.varint();
      for (let j = 0; j < headers && r.error === null; j++) {
        readVarBytes(r);
        readVarBytes(r);
      }
      if (r.error) throw new Error(`corrupt record in internal log batch at offset ${h.baseOffset}: ${r.error}`);
      records.push({ offset: h.baseOffset + offsetDelta, key, value });
    }
    nextOffset = h.baseOffset + h.lastOffsetDelta + 1;
    pos = end;
  }
  return { records, nextOffset };
}

function readVarBytes(r: Reader): Uint8Array | null {
  const n = r.varint();
  if (n < 0) return null;
  return r.raw(n).slice();
}
