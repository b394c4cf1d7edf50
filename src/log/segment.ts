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
  ATTR_TIMESTAMP_TYPE_BIT,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  RECORD_BATCH_HEADER_SIZE,
  batchCrcMatches,
  readBatchHeader,
} from "../protocol/record-batch.ts";
import type { BatchHeader } from "../protocol/record-batch.ts";
import { DELETED_SUFFIX, indexFilePath, logFilePath, timeIndexFilePath } from "./file-names.ts";
import { OffsetIndex } from "./offset-index.ts";
import { firstRecordAtOrAfter } from "./record-timestamps.ts";
import type { OffsetPosition } from "./offset-index.ts";
import { TimeIndex } from "./time-index.ts";
import type { TimestampOffset } from "./time-index.ts";
import type { SegmentFile, SegmentFileFactory } from "./segment-file.ts";

/** Relative offsets are int32 in the index: a segment may span at most this many offsets. */
export const MAX_RELATIVE_OFFSET = 0x7fffffff;

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
}

/** A failed write could not be undone: the file may hold a partial batch; the log must stop. */
export class SegmentCorruptedError extends Error {
  constructor(path: string, cause: unknown) {
    super(`cannot truncate ${path} after a failed write`, { cause });
  }
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

  /** Position of the batch containing `offset` (index lookup, then a short header scan). */
  findBatch(offset: number): ScannedBatch | null {
    if (offset >= this.nextOffset) return null;
    let position = this.index.lookup(offset).position;
    for (;;) {
      const header = this.readHeader(position);
      if (header === null) return null;
      const size = header.batchLength + LOG_OVERHEAD;
      if (header.baseOffset + header.lastOffsetDelta >= offset) return { header, position, size };
      position += size;
    }
  }

  /**
   * Whole batches starting at `position`: at least one batch (KIP-74) even if larger than
   * `maxBytes`, then more while they fit, never a batch whose last offset is >= `upTo`.
   */
  readBatches(position: number, maxBytes: number, upTo: number): Uint8Array {
    let end = position;
    for (;;) {
      const header = this.readHeader(end);
      if (header === null) break;
      if (header.baseOffset + header.lastOffsetDelta >= upTo) break;
      const size = header.batchLength + LOG_OVERHEAD;
      if (end > position && end - position + size > maxBytes) break;
      end += size;
      if (end - position >= maxBytes) break;
    }
    return end > position ? this.log.read(position, end - position) : new Uint8Array(0);
  }

  /**
   * First record with timestamp >= ts (exact for uncompressed CreateTime batches, else the start of
   * the first batch whose maxTimestamp >= ts), using the time index to skip ahead.
   */
  findByTimestamp(ts: number): { offset: number; timestamp: number } | null {
    if (this.isEmpty || this.maxTimestamp < ts) return null;
    const below = this.timeIndex.lastBelow(ts);
    let position = 0;
    if (below !== null) position = this.findBatch(below.offset)?.position ?? 0;
    for (;;) {
      const header = this.readHeader(position);
      if (header === null) return null;
      const size = header.batchLength + LOG_OVERHEAD;
      if (header.maxTimestamp >= ts) {
        // Uncompressed CreateTime batches are searched record by record, as Kafka answers with the
        // record; otherwise (compressed, LogAppendTime) the batch start is the answer.
        if ((header.attributes & (ATTR_COMPRESSION_MASK | ATTR_TIMESTAMP_TYPE_BIT)) === 0) {
          const hit = firstRecordAtOrAfter(this.log.read(position, size), ts);
          if (hit !== null) return { offset: header.baseOffset + hit.offsetDelta, timestamp: hit.timestamp };
        }
        return { offset: header.baseOffset, timestamp: header.maxTimestamp };
      }
      position += size;
    }
  }

  /** Visits every batch header in file order (no CRC check). */
  scanHeaders(visit: (batch: ScannedBatch) => void): void {
    let position = 0;
    for (;;) {
      const header = this.readHeader(position);
      if (header === null) return;
      const size = header.batchLength + LOG_OVERHEAD;
      visit({ header, position, size });
      position += size;
    }
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
    for (;;) {
      if (position + RECORD_BATCH_HEADER_SIZE > fileSize) break;
      const head = this.log.read(position, RECORD_BATCH_HEADER_SIZE);
      if (head.length < RECORD_BATCH_HEADER_SIZE || head[MAGIC_OFFSET] !== 2) break;
      const header = readBatchHeader(head, 0);
      const size = header.batchLength + LOG_OVERHEAD;
      if (header.batchLength < RECORD_BATCH_HEADER_SIZE - LOG_OVERHEAD || position + size > fileSize) break;
      if (header.baseOffset !== expected || header.recordCount <= 0) break;
      if (header.lastOffsetDelta !== header.recordCount - 1) break;
      if (verifyCrc && !batchCrcMatches(this.log.read(position, size), 0, size)) break;
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
      expected = header.baseOffset + header.lastOffsetDelta + 1;
      position += size;
    }
    const truncatedBytes = fileSize - position;
    if (truncatedBytes > 0) this.log.truncate(position);
    this.nextOffset = expected;
    this.maxTimestamp = maxTs;
    this.offsetOfMaxTimestamp = maxTsOffset;
    this.rollTimestamp = first?.maxTimestamp ?? -1;
    try {
      this.lastAppendTime = Math.floor(fs.statSync(this.log.path).mtimeMs);
    } catch {
      this.lastAppendTime = Date.now();
    }

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
    return { validBytes: position, truncatedBytes, indexRebuilt };
  }

  /** Seals the segment: adds the final time-index entry carrying the segment's max timestamp. */
  seal(): void {
    if (this.sealed) return;
    this.sealed = true;
    if (this.offsetOfMaxTimestamp >= 0) this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
  }

  /** fdatasync of the log file only (the group-commit path: indexes are rebuilt on recovery). */
  syncData(): Promise<void> {
    return this.log.datasync();
  }

  /** fdatasync of the log and both indexes (at seal). */
  async syncAll(): Promise<void> {
    await this.log.datasync();
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
    setTimeout(() => {
      for (const p of renamed) fs.rmSync(p, { force: true });
    }, delayMs).unref();
  }
}
