/**
 * ListOffsets by timestamp inside a tiered segment, with Kafka's answer (the same as
 * Segment.findByTimestamp gives on disk): the uploaded time index (12-byte big-endian entries:
 * timestamp int64, relative offset int32) skips to the last entry below `ts`, batch headers are
 * walked from there to the first batch whose maxTimestamp reaches `ts`, and inside an uncompressed
 * CreateTime batch the records are read to find the exact record. Compressed and LogAppendTime
 * batches answer their base offset and maxTimestamp (never later than Kafka's).
 */
import { firstRecordAtOrAfter } from "../log/record-timestamps.ts";
import {
  ATTR_COMPRESSION_MASK,
  ATTR_TIMESTAMP_TYPE_BIT,
  ATTRIBUTES_OFFSET,
  BATCH_LENGTH_OFFSET,
  LOG_OVERHEAD,
  MAX_TIMESTAMP_OFFSET,
  RECORD_BATCH_HEADER_SIZE,
} from "../protocol/record-batch.ts";
import type { ChunkCache } from "./chunk-cache.ts";
import type { RemoteSegment } from "./manifest.ts";
import { findBatchPosition, type RemoteSegmentKeys } from "./remote-reader.ts";

const TIME_ENTRY_BYTES = 12;

export interface RemoteTimeKeys extends RemoteSegmentKeys {
  timeindex: string;
}

export async function remoteOffsetForTimestamp(
  cache: ChunkCache,
  segment: RemoteSegment,
  keys: RemoteTimeKeys,
  ts: number,
): Promise<{ offset: number; timestamp: number } | null> {
  if (segment.maxTimestamp < ts) return null;
  const below = await lastEntryBelow(cache, segment, keys.timeindex, ts);
  let position = below === null ? 0 : ((await findBatchPosition(cache, segment, keys, below)) ?? 0);
  while (position + RECORD_BATCH_HEADER_SIZE <= segment.size) {
    const head = await cache.read(keys.log, segment.size, position, RECORD_BATCH_HEADER_SIZE);
    const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
    const base = dv.getInt32(0) * 4294967296 + dv.getUint32(4);
    const size = dv.getInt32(BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
    if (size <= LOG_OVERHEAD) throw new Error(`corrupt remote segment ${keys.log} at ${position}`);
    const maxTs = Number(dv.getBigInt64(MAX_TIMESTAMP_OFFSET));
    if (maxTs >= ts) {
      if ((dv.getInt16(ATTRIBUTES_OFFSET) & (ATTR_COMPRESSION_MASK | ATTR_TIMESTAMP_TYPE_BIT)) === 0) {
        const hit = firstRecordAtOrAfter(await cache.read(keys.log, segment.size, position, size), ts);
        if (hit !== null) return { offset: base + hit.offsetDelta, timestamp: hit.timestamp };
      }
      return { offset: base, timestamp: maxTs };
    }
    position += size;
  }
  return null;
}

/** Absolute offset of the last time-index entry whose timestamp is < ts, or null. */
async function lastEntryBelow(cache: ChunkCache, segment: RemoteSegment, key: string, ts: number): Promise<number | null> {
  const entries = Math.floor(segment.timeIndexSize / TIME_ENTRY_BYTES);
  if (entries === 0) return null;
  const bytes = await cache.read(key, segment.timeIndexSize, 0, entries * TIME_ENTRY_BYTES);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let lo = 0;
  let hi = entries - 1;
  let found: number | null = null;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (Number(dv.getBigInt64(mid * TIME_ENTRY_BYTES)) < ts) {
      found = segment.baseOffset + dv.getInt32(mid * TIME_ENTRY_BYTES + 8);
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
