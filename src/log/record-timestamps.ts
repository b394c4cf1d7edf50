/**
 * Finds, inside ONE uncompressed v2 batch, the first record whose timestamp is >= a target. Used
 * only by ListOffsets-by-timestamp (never on the produce or fetch paths), so that the answer is
 * the record Kafka would give rather than the batch start. Record layout (varints are zig-zag):
 *   length varint, attributes int8, timestampDelta varlong, offsetDelta varint, key, value, headers
 * Only the first three fields are read; each record is skipped by its length.
 */
import {
  BASE_TIMESTAMP_OFFSET,
  RECORD_COUNT_OFFSET,
  RECORDS_OFFSET,
} from "../protocol/record-batch.ts";

/** Zig-zag varint at `pos`: [value, next position], or null when malformed/truncated. */
function readVarlong(buf: Uint8Array, pos: number): [number, number] | null {
  let raw = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    const b = buf[pos + i];
    if (b === undefined) return null;
    raw += (b & 0x7f) * scale;
    scale *= 128;
    if ((b & 0x80) === 0) {
      const value = raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
      return [value, pos + i + 1];
    }
  }
  return null;
}

/**
 * `batch` holds exactly one uncompressed batch. Returns the offset delta and timestamp of the first
 * record with timestamp >= ts, or null (none, or the records do not parse).
 */
export function firstRecordAtOrAfter(batch: Uint8Array, ts: number): { offsetDelta: number; timestamp: number } | null {
  const dv = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  if (batch.length < RECORDS_OFFSET) return null;
  const baseTimestamp = Number(dv.getBigInt64(BASE_TIMESTAMP_OFFSET));
  const count = dv.getInt32(RECORD_COUNT_OFFSET);
  let pos = RECORDS_OFFSET;
  for (let i = 0; i < count; i++) {
    const len = readVarlong(batch, pos);
    if (len === null || len[0] < 0) return null;
    const bodyStart = len[1];
    const end = bodyStart + len[0];
    if (end > batch.length) return null;
    const delta = readVarlong(batch, bodyStart + 1); // after the attributes byte
    if (delta === null) return null;
    const offsetDelta = readVarlong(batch, delta[1]);
    if (offsetDelta === null) return null;
    const timestamp = baseTimestamp + delta[0];
    if (timestamp >= ts) return { offsetDelta: offsetDelta[0], timestamp };
    pos = end;
  }
  return null;
}
