/**
 * One segment: a `.log` file of whole v2 batches (stored byte-identical to what producers sent,
 * except the patched baseOffset) plus its sparse `.index` and `.timeindex` (formats documented in
 * offset-index.ts / time-index.ts). Batches in a segment have contiguous offsets starting at the
 * segment's base offset. Knows nothing about fsync policy: the partition log decides when to call
 * `syncData` / `syncAll`.
 */
import * as fs from "node:fs";
import {
  ATTR_COMPRESSION_MASK,
  ATTRIBUTES_OFFSET,
  BATCH_LENGTH_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  ATTR_TIMESTAMP_TYPE_BIT,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  RECORD_BATCH_HEADER_SIZE,
  batchCrcMatches,
  readBatchHeader,
  readBatchHeaderIn,
} from "../protocol/record-batch.ts";
import { crc32cRange } from "../native/index.ts";
import type { BatchHeader } from "../protocol/record-batch.ts";
import { DELETED_SUFFIX, indexFilePath, logFilePath, timeIndexFilePath } from "./file-names.ts";
import { OffsetIndex } from "./offset-index.ts";
import { firstRecordAtOrAfter } from "./record-timestamps.ts";
import type { OffsetPosition } from "./offset-index.ts";
import { TimeIndex } from "./time-index.ts";
import type { TimestampOffset } from "./time-index.ts";
import type { SegmentFile, SegmentFileFactory, WriteBarrier } from "./segment-file.ts";
import { setLongTimeout } from "../util/long-timeout.ts";

/** Relative offsets are int32 in the index: a segment may span at most this many offsets. */
export const MAX_RELATIVE_OFFSET = 0x7fffffff;
/** Read size of header scans (index lookup → target batch, timestamp search). */
const SCAN_CHUNK_BYTES = 64 * 1024;
/** Read size of the recovery walk (larger than a scan's: recovery reads the whole file). */
const RECOVERY_CHUNK_BYTES = 1024 * 1024;
/** Most bytes `resume` reads after the last index entry (else it leaves the segment to `recover`). */
const MAX_RESUME_TAIL_BYTES = 64 * 1024 * 1024;
let sharedRecoveryChunk: Uint8Array | null = null;
/** The chunk buffer recovery reads into (allocated on first use). */
function recoveryChunk(): Uint8Array {
  sharedRecoveryChunk ??= Buffer.allocUnsafe(RECOVERY_CHUNK_BYTES);
  return sharedRecoveryChunk;
}

/** One batch of an append, positioned inside the appended buffer. */
export interface AppendedBatch {
  baseOffset: number;
  lastOffset: number;
  /** Position inside the appended buffer. */
  position: number;
  length: number;
  maxTimestamp: number;
}

/** A batch header found by a scan, with its file position and size. */
export interface ScannedBatch {
  header: BatchHeader;
  position: number;
  size: number;
}

export interface RecoveryResult {
  /** Position where the valid data ends; the file was truncated there when longer. */
  validBytes: number;
  truncatedBytes: number;
  indexRebuilt: boolean;
  /** Valid batches walked. */
  batches: number;
}

/** A failed write could not be undone: the file may hold a partial batch; the log must stop. */
export class SegmentCorruptedError extends Error {
  constructor(path: string, cause: unknown) {
    super(`cannot truncate ${path} after a failed write`, { cause });
  }
}

/**
 * The header of the batch at `at` in `buf` (61 bytes there), when it can be the next batch of a
 * segment: magic 2, a length that fits the `room` bytes left in the file, base offset `expected`,
 * and a record count matching its last offset delta. Null otherwise (the log ends before it).
 */
function validHeaderAt(buf: Uint8Array, dv: DataView, at: number, expected: number, room: number): BatchHeader | null {
  if (buf[at + MAGIC_OFFSET] !== 2) return null;
  const header = readBatchHeaderIn(dv, at);
  const size = header.batchLength + LOG_OVERHEAD;
  if (header.batchLength < RECORD_BATCH_HEADER_SIZE - LOG_OVERHEAD || size > room) return null;
  if (header.baseOffset !== expected || header.recordCount <= 0 || header.lastOffsetDelta !== header.recordCount - 1) return null;
  return header;
}

export class Segment {
  /** Next offset to be written in this segment (= baseOffset when empty). */
  nextOffset: number;
  maxTimestamp = -1;
  offsetOfMaxTimestamp = -1;
  /** Time used for segment.ms rolls: first append's time (Kafka: first batch's max timestamp). */
  rollTimestamp = -1;
  /** Last time bytes were appended (file mtime after recovery); retention falls back to it. */
  lastAppendTime = -1;
  /** True once sealed (no more appends) and its bytes and indexes have been fsynced. */
  sealed = false;
  synced = false;
  private bytesSinceIndexEntry = 0;

  private constructor(
    readonly dir: string,
    readonly baseOffset: number,
    private readonly log: SegmentFile,
    private readonly index: OffsetIndex,
    private readonly timeIndex: TimeIndex,
    private readonly indexIntervalBytes: number,
  ) {
    this.nextOffset = baseOffset;
  }

  /** Opens or creates the three files of the segment. Contents are not trusted until `recover`. */
  static open(dir: string, baseOffset: number, files: SegmentFileFactory, indexIntervalBytes: number): Segment {
    const log = files.open(logFilePath(dir, baseOffset));
    const index = new OffsetIndex(files.open(indexFilePath(dir, baseOffset)), baseOffset);
    const timeIndex = new TimeIndex(files.open(timeIndexFilePath(dir, baseOffset)), baseOffset);
    return new Segment(dir, baseOffset, log, index, timeIndex, indexIntervalBytes);
  }

  get size(): number {
    return this.log.size;
  }

  /** The time retention.ms compares against: max batch timestamp, else last modification. */
  get retentionTimestamp(): number {
    return this.maxTimestamp >= 0 ? this.maxTimestamp : this.lastAppendTime;
  }

  get isEmpty(): boolean {
    return this.nextOffset === this.baseOffset;
  }

  get indexEntries(): number {
    return this.index.entries;
  }

  /** Whether a batch of `bytes` bytes ending at `lastOffset` still fits the segment. */
  fits(bytes: number, lastOffset: number, segmentBytes: number): boolean {
    if (lastOffset - this.baseOffset > MAX_RELATIVE_OFFSET) return false;
    if (this.isEmpty) return true;
    return this.size + bytes <= segmentBytes;
  }

  /**
   * Writes `buf` (whole batches, offsets already patched) at the end of the log file, then updates
   * the indexes. On a write error the file is cut back to its previous size and the error rethrown,
   * so a failed append leaves no partial batch behind.
   */
  append(buf: Uint8Array, batches: AppendedBatch[], now: number): void {
    const start = this.log.size;
    try {
      this.log.write(buf);
    } catch (err) {
      try {
        this.log.truncate(start);
      } catch (truncErr) {
        throw new SegmentCorruptedError(this.log.path, truncErr);
      }
      throw err;
    }
    if (this.rollTimestamp < 0) this.rollTimestamp = now;
    this.lastAppendTime = now;
    for (const b of batches) {
      const position = start + b.position;
      if (this.bytesSinceIndexEntry >= this.indexIntervalBytes) {
        this.index.append(b.baseOffset, position);
        if (this.offsetOfMaxTimestamp >= 0) this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
        this.bytesSinceIndexEntry = 0;
      }
      this.bytesSinceIndexEntry += b.length;
      if (b.maxTimestamp > this.maxTimestamp) {
        this.maxTimestamp = b.maxTimestamp;
        this.offsetOfMaxTimestamp = b.baseOffset;
      }
      this.nextOffset = b.lastOffset + 1;
    }
  }

  /** Header of the batch at `position`, or null past the end / for a short read. */
  readHeader(position: number): BatchHeader | null {
    if (position + RECORD_BATCH_HEADER_SIZE > this.log.size) return null;
    const bytes = this.log.read(position, RECORD_BATCH_HEADER_SIZE);
    if (bytes.length < RECORD_BATCH_HEADER_SIZE) return null;
    return readBatchHeader(bytes, 0);
  }

  /**
   * Batch headers from `position` to the end of the written data, read in chunks of
   * SCAN_CHUNK_BYTES so a scan costs one read per chunk rather than one per batch.
   */
  private *headersFrom(position: number): Generator<ScannedBatch> {
    let chunk: Uint8Array = new Uint8Array(0);
    let chunkStart = position;
    for (;;) {
      if (position + RECORD_BATCH_HEADER_SIZE > this.log.size) return;
      if (position + RECORD_BATCH_HEADER_SIZE > chunkStart + chunk.length) {
        chunkStart = position;
        chunk = this.log.read(position, Math.min(SCAN_CHUNK_BYTES, this.log.size - position));
        if (chunk.length < RECORD_BATCH_HEADER_SIZE) return;
      }
      const header = readBatchHeader(chunk, position - chunkStart);
      const size = header.batchLength + LOG_OVERHEAD;
      yield { header, position, size };
      position += size;
    }
  }

  /** Position of the batch containing `offset` (index lookup, then a short header scan). */
  findBatch(offset: number): ScannedBatch | null {
    if (offset >= this.nextOffset) return null;
    for (const batch of this.headersFrom(this.index.lookup(offset).position)) {
      if (batch.header.baseOffset + batch.header.lastOffsetDelta >= offset) return batch;
    }
    return null;
  }

  /**
   * Whole batches starting at `position`: at least one batch (KIP-74) even if larger than
   * `maxBytes`, then more while they fit, never a batch whose last offset is >= `upTo`.
   * One read of up to maxBytes, then the batch boundaries are found in memory.
   */
  readBatches(position: number, maxBytes: number, upTo: number): Uint8Array {
    const available = this.log.size - position;
    if (available < RECORD_BATCH_HEADER_SIZE) return new Uint8Array(0);
    let chunk = this.log.read(position, Math.min(available, Math.max(maxBytes, RECORD_BATCH_HEADER_SIZE)));
    const dv = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let end = 0;
    while (end + RECORD_BATCH_HEADER_SIZE <= chunk.length) {
      const baseOffset = dv.getInt32(end) * 4294967296 + dv.getUint32(end + 4);
      if (baseOffset + dv.getInt32(end + LAST_OFFSET_DELTA_OFFSET) >= upTo) break;
      const size = dv.getInt32(end + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
      if (end + size > chunk.length) {
        if (end === 0) {
          chunk = this.log.read(position, size); // a first batch larger than maxBytes (KIP-74)
          end = chunk.length;
        }
        break;
      }
      end += size;
    }
    return chunk.subarray(0, end);
  }

  /**
   * First record with timestamp >= ts (exact for uncompressed CreateTime batches, else the start of
   * the first batch whose maxTimestamp >= ts), using the time index to skip ahead.
   */
  findByTimestamp(ts: number): { offset: number; timestamp: number } | null {
    if (this.isEmpty || this.maxTimestamp < ts) return null;
    const below = this.timeIndex.lastBelow(ts);
    let start = 0;
    if (below !== null) start = this.findBatch(below.offset)?.position ?? 0;
    for (const { header, position, size } of this.headersFrom(start)) {
      if (header.maxTimestamp >= ts) {
        // Uncompressed CreateTime batches are searched record by record, as Kafka answers with the
        // record; otherwise (compressed, LogAppendTime) the batch start is the answer.
        if ((header.attributes & (ATTR_COMPRESSION_MASK | ATTR_TIMESTAMP_TYPE_BIT)) === 0) {
          const hit = firstRecordAtOrAfter(this.log.read(position, size), ts);
          if (hit !== null) return { offset: header.baseOffset + hit.offsetDelta, timestamp: hit.timestamp };
        }
        return { offset: header.baseOffset, timestamp: header.maxTimestamp };
      }
    }
    return null;
  }

  /** Visits every batch header in file order (no CRC check). */
  scanHeaders(visit: (batch: ScannedBatch) => void): void {
    for (const batch of this.headersFrom(0)) visit(batch);
  }

  /**
   * Rebuilds the in-memory state from the log file: walks every batch checking magic, length,
   * offset contiguity and (when `verifyCrc`) the CRC; truncates the file at the first batch that
   * fails or is torn. Validates both indexes exactly against the batches found (every entry must
   * name a real batch start and the running max timestamp there) and rebuilds them when they do not
   * match: they carry no checksum. `visit` sees each valid batch (producer-state rebuild).
   */
  recover(verifyCrc: boolean, visit: (batch: ScannedBatch) => void): RecoveryResult {
    const fileSize = this.log.size;
    const expectIndex: OffsetPosition[] = [];
    const expectTime: TimestampOffset[] = [];
    let position = 0;
    let expected = this.baseOffset;
    let sinceEntry = 0;
    let maxTs = -1;
    let maxTsOffset = -1;
    let first: BatchHeader | null = null;
    let batches = 0;
    // The file is read in chunks (one read per RECOVERY_CHUNK_BYTES, not one per batch header):
    // opening a partition of many small batches was dominated by 61-byte reads.
    // One buffer for every chunk of every segment (recovery is synchronous per segment), and one
    // DataView per chunk: fresh 1 MiB buffers and views per batch were a fifth of the walk.
    let chunk: Uint8Array = new Uint8Array(0);
    let dv = new DataView(chunk.buffer);
    let chunkStart = 0;
    for (;;) {
      if (position + RECORD_BATCH_HEADER_SIZE > fileSize) break;
      if (position + RECORD_BATCH_HEADER_SIZE > chunkStart + chunk.length) {
        chunkStart = position;
        chunk = this.log.read(position, Math.min(RECOVERY_CHUNK_BYTES, fileSize - position), recoveryChunk());
        if (chunk.length < RECORD_BATCH_HEADER_SIZE) break;
        dv = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      }
      const at = position - chunkStart;
      const header = validHeaderAt(chunk, dv, at, expected, fileSize - position);
      if (header === null) break;
      const size = header.batchLength + LOG_OVERHEAD;
      if (verifyCrc) {
        // A batch inside the chunk is checked in place; a larger one is read on its own.
        const whole = at + size <= chunk.length;
        const ok = whole ? header.crc === crc32cRange(chunk, at + ATTRIBUTES_OFFSET, at + size) : batchCrcMatches(this.log.read(position, size), 0, size);
        if (!ok) break;
      }
      if (sinceEntry >= this.indexIntervalBytes) {
        expectIndex.push({ offset: header.baseOffset, position });
        if (maxTsOffset >= 0 && maxTs > (expectTime[expectTime.length - 1]?.timestamp ?? -Infinity)) {
          expectTime.push({ timestamp: maxTs, offset: maxTsOffset });
        }
        sinceEntry = 0;
      }
      sinceEntry += size;
      if (first === null) first = header;
      if (header.maxTimestamp > maxTs) {
        maxTs = header.maxTimestamp;
        maxTsOffset = header.baseOffset;
      }
      visit({ header, position, size });
      batches++;
      expected = header.baseOffset + header.lastOffsetDelta + 1;
      position += size;
    }
    const truncatedBytes = fileSize - position;
    if (truncatedBytes > 0) this.log.truncate(position);
    this.takeOpenedState(first, expected, maxTs, maxTsOffset);

    // The indexes carry no checksum and are a pure function of the log and index.interval.bytes:
    // keep them only when they are exactly what the scan computed (the time index may also carry
    // the entry added at seal). A missing, torn, stale or foreign index is rebuilt.
    const sealEntry = { timestamp: maxTs, offset: maxTsOffset };
    const indexOk = this.index.load(position) && this.index.equals(expectIndex);
    const timeOk =
      this.timeIndex.load(MAX_RELATIVE_OFFSET) &&
      (this.timeIndex.equals(expectTime) || (maxTsOffset >= 0 && this.timeIndex.equals([...expectTime, sealEntry])));
    const indexRebuilt = !indexOk || !timeOk;
    if (indexRebuilt) {
      this.index.rebuild(expectIndex);
      this.timeIndex.rebuild(expectTime);
    }
    const last = this.index.lastEntry();
    this.bytesSinceIndexEntry = last === null ? position : position - last.position;
    return { validBytes: position, truncatedBytes, indexRebuilt, batches };
  }

  /**
   * Opens the segment from its indexes without walking the log: for a segment whose files (log and
   * both indexes) were all fsynced and complete, after a clean shutdown or below the recovery point
   * (Kafka skips recovery there the same way). Checks what it relies on: both indexes load
   * (ordered, inside the file), the first batch starts at the segment's base offset, and a header
   * walk from the last offset-index entry ends exactly at the end of the file with contiguous
   * offsets and no batch that should have had an index entry (so at most index.interval.bytes plus
   * one batch is read). Returns false, having changed nothing, when any check fails; the caller
   * then runs `recover`.
   */
  resume(): boolean {
    const fileSize = this.log.size;
    if (!this.index.load(fileSize) || !this.timeIndex.load(MAX_RELATIVE_OFFSET)) return false;
    const indexed = this.index.lastEntry();
    const timed = this.timeIndex.lastEntry();
    // Every offset-index entry adds a time-index entry once a batch carried a timestamp: a time
    // index missing next to offset-index entries was lost (its max timestamp would be wrong).
    if (indexed !== null && timed === null) return false;
    if (fileSize === 0) {
      if (indexed !== null || timed !== null) return false;
      this.takeOpenedState(null, this.baseOffset, -1, -1);
      this.bytesSinceIndexEntry = 0;
      return true;
    }
    if (fileSize < RECORD_BATCH_HEADER_SIZE) return false;
    const firstBytes = this.log.read(0, RECORD_BATCH_HEADER_SIZE);
    if (firstBytes.length < RECORD_BATCH_HEADER_SIZE || firstBytes[MAGIC_OFFSET] !== 2) return false;
    const first = readBatchHeader(firstBytes, 0);
    if (first.baseOffset !== this.baseOffset) return false;
    const position = indexed?.position ?? 0;
    // A tail longer than an index interval and a batch means the index does not fit this file.
    if (fileSize - position > MAX_RESUME_TAIL_BYTES) return false;
    let expected = indexed?.offset ?? this.baseOffset;
    // Running max below the last index entry is the time index's last entry (see recover).
    let maxTs = timed?.timestamp ?? -1;
    let maxTsOffset = timed?.offset ?? -1;
    const tail = this.log.read(position, fileSize - position);
    if (tail.length !== fileSize - position) return false;
    const dv = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
    let at = 0;
    while (at < tail.length) {
      if (at + RECORD_BATCH_HEADER_SIZE > tail.length) return false;
      // Appends index a batch once index.interval.bytes followed the last entry: a batch that
      // should have been indexed means entries are missing (a lost or cut index file).
      if (at >= this.indexIntervalBytes) return false;
      const header = validHeaderAt(tail, dv, at, expected, tail.length - at);
      if (header === null) return false;
      const size = header.batchLength + LOG_OVERHEAD;
      if (header.maxTimestamp > maxTs) {
        maxTs = header.maxTimestamp;
        maxTsOffset = header.baseOffset;
      }
      expected = header.baseOffset + header.lastOffsetDelta + 1;
      at += size;
    }
    this.takeOpenedState(first, expected, maxTs, maxTsOffset);
    this.bytesSinceIndexEntry = fileSize - (indexed?.position ?? 0);
    return true;
  }

  /** What opening found (by `recover` or `resume`): the end, the largest timestamp, the first batch. */
  private takeOpenedState(first: BatchHeader | null, nextOffset: number, maxTs: number, maxTsOffset: number): void {
    this.nextOffset = nextOffset;
    this.maxTimestamp = maxTs;
    this.offsetOfMaxTimestamp = maxTsOffset;
    this.rollTimestamp = first?.maxTimestamp ?? -1;
    try {
      this.lastAppendTime = Math.floor(fs.statSync(this.log.path).mtimeMs);
    } catch {
      this.lastAppendTime = Date.now();
    }
  }

  /** Seals the segment: adds the final time-index entry carrying the segment's max timestamp. */
  seal(): void {
    if (this.sealed) return;
    this.sealed = true;
    this.log.seal?.();
    if (this.offsetOfMaxTimestamp >= 0) this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
    // A sealed segment's index files are complete (tiering uploads them as they are).
    this.index.flush();
    this.timeIndex.flush();
  }

  /** fdatasync of the log file only (the group-commit path: indexes are rebuilt on recovery). */
  syncData(): Promise<void> {
    return this.log.datasync();
  }

  /**
   * The log file joins its backend's next shared write barrier (see SegmentFile.joinWriteBarrier);
   * null on backends whose writes reach the kernel on return.
   */
  joinWriteBarrier(): WriteBarrier | null {
    return this.log.joinWriteBarrier?.() ?? null;
  }

  /** The log file's write error in a barrier it joined, or null. */
  writeErrorIn(barrier: WriteBarrier): Error | null {
    return barrier.errorOf(this.log);
  }

  /** fdatasync of the log and both indexes (at seal). */
  async syncAll(): Promise<void> {
    await this.log.datasync();
    await this.syncIndexes();
  }

  /** Writes out and fsyncs both index files. */
  async syncIndexes(): Promise<void> {
    await this.index.sync();
    await this.timeIndex.sync();
  }

  /** Cuts a failed append's bytes off; used when the write went through but must not count. */
  truncateTo(size: number): void {
    this.log.truncate(size);
  }

  close(): void {
    this.log.close();
    this.index.close();
    this.timeIndex.close();
  }

  /**
   * Closes the files and removes them. With a delay, files are first renamed to `*.deleted`
   * (as Kafka does) and unlinked later; leftovers are cleaned on the next open.
   */
  delete(delayMs = 0): void {
    this.close();
    const paths = [
      logFilePath(this.dir, this.baseOffset),
      indexFilePath(this.dir, this.baseOffset),
      timeIndexFilePath(this.dir, this.baseOffset),
    ];
    if (delayMs <= 0) {
      for (const p of paths) fs.rmSync(p, { force: true });
      return;
    }
    const renamed = paths.map((p) => {
      fs.renameSync(p, p + DELETED_SUFFIX);
      return p + DELETED_SUFFIX;
    });
    setLongTimeout(() => {
      for (const p of renamed) fs.rmSync(p, { force: true });
    }, delayMs);
  }
}
