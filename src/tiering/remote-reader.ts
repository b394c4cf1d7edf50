/**
 * Reads batches out of a tiered segment with ranged reads through the chunk cache, giving exactly
 * what Segment.readBatches gives for the same segment on disk: whole batches starting with the one
 * that contains `offset`, at least one batch (KIP-74), then more while they fit `maxBytes`, none
 * whose last offset is >= `upTo`. The batch is found like on disk: the segment's offset index (an
 * object of 8-byte big-endian entries: relative offset int32, position int32) gives a position at
 * or before it, then batch headers are walked.
 */
import {
  BATCH_LENGTH_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  RECORD_BATCH_HEADER_SIZE,
} from "../protocol/record-batch.ts";
import type { ChunkCache } from "./chunk-cache.ts";
import type { RemoteSegment } from "./manifest.ts";

/** Bytes of a header needed to step over a batch: baseOffset .. lastOffsetDelta. */
const STEP_HEADER_BYTES = LAST_OFFSET_DELTA_OFFSET + 4;
const INDEX_ENTRY_BYTES = 8;

export interface RemoteSegmentKeys {
  log: string;
  index: string;
}

export async function readRemoteBatches(
  cache: ChunkCache,
  segment: RemoteSegment,
  keys: RemoteSegmentKeys,
  offset: number,
  maxBytes: number,
  upTo: number,
  readAheadChunks = 0,
): Promise<Uint8Array> {
  const position = await findBatchPosition(cache, segment, keys, offset);
  if (position === null) return new Uint8Array(0);
  const batches = await collectBatches(cache, segment, keys.log, position, maxBytes, upTo);
  // Read-ahead inside the segment: the chunks right after what this read returned.
  for (let i = 0; i < readAheadChunks; i++) cache.prefetch(keys.log, segment.size, position + batches.length + i * cache.chunkBytes);
  return batches;
}

/** File position of the batch holding `offset` (index lookup, then a header walk); null past the end. */
export async function findBatchPosition(cache: ChunkCache, segment: RemoteSegment, keys: RemoteSegmentKeys, offset: number): Promise<number | null> {
  let position = await indexLookup(cache, segment, keys.index, offset);
  for (;;) {
    if (position + RECORD_BATCH_HEADER_SIZE > segment.size) return null;
    const head = await cache.read(keys.log, segment.size, position, STEP_HEADER_BYTES);
    const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
    const base = dv.getInt32(0) * 4294967296 + dv.getUint32(4);
    const size = dv.getInt32(BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
    if (size <= LOG_OVERHEAD) throw new Error(`corrupt remote segment ${keys.log} at ${position}`);
    if (base + dv.getInt32(LAST_OFFSET_DELTA_OFFSET) >= offset) return position;
    position += size;
  }
}

async function indexLookup(cache: ChunkCache, segment: RemoteSegment, key: string, offset: number): Promise<number> {
  const entries = Math.floor(segment.indexSize / INDEX_ENTRY_BYTES);
  if (entries === 0) return 0;
  const bytes = await cache.read(key, segment.indexSize, 0, entries * INDEX_ENTRY_BYTES);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rel = offset - segment.baseOffset;
  let lo = 0;
  let hi = entries - 1;
  let found = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (dv.getInt32(mid * INDEX_ENTRY_BYTES) <= rel) {
      found = dv.getInt32(mid * INDEX_ENTRY_BYTES + 4);
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

async function collectBatches(
  cache: ChunkCache,
  segment: RemoteSegment,
  key: string,
  position: number,
  maxBytes: number,
  upTo: number,
): Promise<Uint8Array> {
  const available = segment.size - position;
  if (available < RECORD_BATCH_HEADER_SIZE) return new Uint8Array(0);
  let chunk = await cache.read(key, segment.size, position, Math.min(available, Math.max(maxBytes, RECORD_BATCH_HEADER_SIZE)));
  const dv = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  let end = 0;
  while (end + RECORD_BATCH_HEADER_SIZE <= chunk.length) {
    const base = dv.getInt32(end) * 4294967296 + dv.getUint32(end + 4);
    if (base + dv.getInt32(end + LAST_OFFSET_DELTA_OFFSET) >= upTo) break;
    const size = dv.getInt32(end + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
    if (end + size > chunk.length) {
      if (end === 0) {
        chunk = await cache.read(key, segment.size, position, size); // first batch larger than maxBytes
        end = chunk.length;
      }
      break;
    }
    end += size;
  }
  return chunk.subarray(0, end);
}
