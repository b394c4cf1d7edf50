/**
 * The log of one partition: the API the broker uses. One writer (the JS thread) appends; offsets
 * are assigned synchronously and the bytes written to the active segment before `append` returns.
 *
 * Three offsets, like Redpanda's offset_tracker:
 *   dirty     = logEndOffset: assigned; since writes are synchronous it is also
 *   written   = in the file (page cache);
 *   committed = fsynced. In durable mode the high watermark is `committed`; in flush-interval mode
 *               it is logEndOffset (Kafka's behaviour: durability comes from periodic flushes).
 * Group commit: every sync (see GroupCommit) captures logEndOffset when it starts, fsyncs sealed
 * segments not yet synced (log + indexes, oldest first), then the directory when segments were
 * created, then the active segment's data; only then does `committed` move to the captured offset.
 * So a rolled segment is always durable before any later byte is acknowledged, and a crash never
 * leaves acknowledged data behind a hole.
 */
import * as fs from "node:fs";
import {
  ErrorCode,
  setBaseOffset,
  setLogAppendTime,
  validateBatches,
} from "../protocol/record-batch.ts";
import type { BatchHeader, BatchInfo } from "../protocol/record-batch.ts";
import { fsyncDirectory } from "./atomic-file.ts";
import { DELETED_SUFFIX, TMP_SUFFIX, parseLogFileName } from "./file-names.ts";
import { GroupCommit } from "./group-commit.ts";
import { isDurableMode } from "./log-config.ts";
import type { LogConfig } from "./log-config.ts";
import { readPartitionMeta, writePartitionMeta } from "./partition-meta.ts";
import { RecoveryPointWriter, readRecoveryPoint } from "./recovery-point.ts";
import { needsRewrite, rewriteBatches, rewriteSettings } from "./recompress.ts";
import { ProducerStateManager } from "./producer-state.ts";
import { encodeProducerSnapshot, decodeProducerSnapshot } from "./producer-snapshot.ts";
import { ProducerSnapshotFiles } from "./producer-snapshot-files.ts";
import type { ActiveProducer, ProducerBatch } from "./producer-state.ts";
import { Segment, SegmentCorruptedError } from "./segment.ts";
import type { AppendedBatch } from "./segment.ts";
import { fdSegmentFileFactory } from "./segment-file.ts";
import type { PartitionHotCache } from "./hot-cache.ts";
import type { RemoteLogView } from "./remote-view.ts";
import type { SegmentFileFactory, WriteBarrier } from "./segment-file.ts";
import { setLongTimeout, type LongTimeout } from "../util/long-timeout.ts";

export type { LogConfig } from "./log-config.ts";

export interface AppendResult {
  errorCode: number;
  errorMessage?: string;
  /** Offset of the first appended record (for a duplicate: the original append's). -1 on error. */
  baseOffset: number;
  /** The broker time stamped into the batches for LogAppendTime topics, else -1. */
  logAppendTime: number;
  logStartOffset: number;
  /** batchIndex = index of the offending batch within the payload. */
  recordErrors?: { batchIndex: number; message: string }[];
  /**
   * Resolves when the appended bytes are fsynced (durable mode) or at once (flush-interval mode and
   * errors); rejects on an fsync failure. Already has a no-op handler attached, so ignoring it never
   * raises an unhandled rejection; awaiting it still sees the rejection.
   */
  durable: Promise<void>;
  /** Last offset of the append (for a duplicate: of the original); -1 on error. */
  lastOffset: number;
}

export interface ReadResult {
  errorCode: number;
  /**
   * Whole batches; empty (length 0) when nothing is readable yet; null with an error or `remote`.
   * May be a view lent by the memory tier: give it back (src/util/lent-views.ts) once it is dead,
   * or simply drop it (its slab is then never reused).
   */
  records: Uint8Array | null;
  /** The offset lies in the remote tier: the caller reads it asynchronously (tiering layer). */
  remote?: boolean;
}

/** A sealed, fsynced local segment, as the tiering layer sees it. */
export interface SealedSegmentInfo {
  baseOffset: number;
  /** One past its last offset. */
  endOffset: number;
  size: number;
  maxTimestamp: number;
  offsetOfMaxTimestamp: number;
  /** max batch timestamp, else last modification (what retention.ms compares). */
  retentionTimestamp: number;
}

export interface OpenOptions {
  /** Replaces the file implementation (io_uring later; fault injection in tests). */
  files?: SegmentFileFactory;
  /** Random source for segment.jitter.ms (tests make it deterministic). */
  random?: () => number;
  /**
   * The log was closed cleanly (`closedCleanly`, recorded by the broker's clean-shutdown marker):
   * its segments are resumed from their indexes instead of walked (see Segment.resume).
   */
  cleanShutdown?: boolean;
}

/** How the producer state was rebuilt when the log was opened (tests, benchmarks). */
export interface ProducerStateLoad {
  /** Offset of the snapshot the state started from; null: from the first local batch. */
  snapshotOffset: number | null;
  /** Batch headers replayed into the state after the snapshot. */
  replayedBatches: number;
}

/** What opening the log cost (the broker logs the sums at startup). */
export interface RecoveryStats {
  /**
   * Segments opened from their indexes, not walked: all of them after a clean shutdown, after a
   * crash those below the recovery point (see recovery-point.ts).
   */
  resumedSegments: number;
  /** Bytes of valid batches walked, and of them checked against their CRCs. */
  bytes: number;
  crcBytes: number;
  batches: number;
  /** Torn or invalid tail bytes cut off. */
  truncatedBytes: number;
  /** Segments fsynced by recovery (durable logs: the walked tail). */
  syncedSegments: number;
}

/** What a flush-interval log's recovery left unsynced; `flush`: some of it holds bytes. */
interface UnsyncedTail {
  unsynced: Segment[];
  committed: number;
  flush: boolean;
}

/** Recovery's result; `pending` is what a flush-interval log left unsynced (see recover, step 5). */
interface RecoveredLog {
  segments: Segment[];
  startOffset: number;
  load: ProducerStateLoad;
  stats: RecoveryStats;
  pending: UnsyncedTail | null;
  /** The recovery point file's value when opening (null: none), and what recovery made durable. */
  recoveryPoint: { onDisk: number | null; now: number };
}

/** See PartitionLog.acksWaitForSync. */
function acksWaitForSync(config: LogConfig, files: SegmentFileFactory): boolean {
  return isDurableMode(config) || (files.writesReachKernelOnReturn !== true && files.writeBarriers !== true);
}

export class LogStorageError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

/**
 * The already-settled promise an append returns as `durable` (and `untilWritten`) when there is
 * nothing to wait for: flush-interval mode on a backend whose writes reach the kernel on return.
 * Callers may compare against it to skip per-partition waiting (the Produce handler does).
 */
export const SETTLED: Promise<void> = Promise.resolve();

/** An open write barrier of one partition's appends in the current turn (see untilWrittenToEnd). */
interface TurnBarrier {
  barrier: WriteBarrier;
  /** The log end the barrier covers: `written` once it settles. */
  target: number;
  promise: Promise<void>;
}

function handled(p: Promise<void>): Promise<void> {
  p.catch(() => {});
  return p;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class PartitionLog {
  onHighWatermarkAdvance: ((log: PartitionLog) => void) | null = null;
  /** Called when the log start offset moved (DeleteRecords, retention, the remote tier attached). */
  onLogStartAdvance: ((log: PartitionLog) => void) | null = null;

  private segments: Segment[];
  private startOffset: number;
  private committed: number;
  /** Durable-mode high watermark floor after a switch from flush-interval mode (never go back). */
  private hwFloor = 0;
  private failure: Error | null = null;
  private unsynced: Segment[] = [];
  /** Sealed segments whose writes no write barrier has covered yet (flush-interval mode, native engine). */
  private unbarriered: Segment[] = [];
  /** Written = in the kernel (a write barrier said so): the high watermark in flush-interval mode on the native engine. */
  private written: number;
  /** The shared write barrier this turn's appends wait for (flush-interval mode, native engine). */
  private turnBarrier: TurnBarrier | null = null;
  private dirDirty = false;
  private readonly groupCommit: GroupCommit;
  private messagesSinceFlush = 0;
  private flushTimer: LongTimeout | null = null;
  private activeJitterMs = 0;
  private metaWrites: Promise<void> = SETTLED;
  private readonly recoveryPoint: RecoveryPointWriter;
  /** Tiering: what is in the object store (null: not tiered). */
  private remote: RemoteLogView | null = null;
  /** Memory tier: the newest batches of this partition. */
  private hot: PartitionHotCache | null = null;
  /** Offset of the newest producer snapshot written or loaded (close skips rewriting it). */
  private lastSnapshotOffset: number | null;
  /** What opening (recovering) this log cost. */
  recoveryStats: RecoveryStats | null = null;
  /** Set by close when every segment file was complete and fsynced (the producer snapshot only saves replay). */
  closedCleanly = false;

  private constructor(
    readonly dir: string,
    readonly topic: string,
    readonly partition: number,
    private config: LogConfig,
    private readonly files: SegmentFileFactory,
    private readonly random: () => number,
    segments: Segment[],
    startOffset: number,
    private producers: ProducerStateManager,
    private readonly snapshots: ProducerSnapshotFiles,
    readonly producerStateLoad: ProducerStateLoad,
    recoveryPointOnDisk: number | null,
  ) {
    this.recoveryPoint = new RecoveryPointWriter(dir, recoveryPointOnDisk);
    this.lastSnapshotOffset = producerStateLoad.snapshotOffset;
    this.segments = segments;
    this.startOffset = startOffset;
    this.committed = this.logEndOffset;
    this.written = this.logEndOffset;
    this.groupCommit = new GroupCommit(() => this.syncToEnd());
    this.activeJitterMs = this.pickJitter();
  }

  /**
   * Opens (creating `dir` when missing) and recovers the log: see recover-log notes in `recover`.
   * `dir` is the partition directory itself (conventionally `<data>/<topic>-<partition>`, see
   * partitionDirName).
   */
  static async open(
    dir: string,
    topic: string,
    partition: number,
    config: LogConfig,
    options: OpenOptions = {},
  ): Promise<PartitionLog> {
    const files = options.files ?? fdSegmentFileFactory;
    fs.mkdirSync(dir, { recursive: true });
    const producers = new ProducerStateManager();
    const snapshots = new ProducerSnapshotFiles(dir);
    const syncTail = acksWaitForSync(config, files); // recovery then fsyncs what it found, see recover
    const recovered = await recover(dir, config, files, producers, snapshots, syncTail, options.cleanShutdown === true);
    const log = new PartitionLog(
      dir, topic, partition, config, files, options.random ?? Math.random, recovered.segments, recovered.startOffset, producers, snapshots, recovered.load,
      recovered.recoveryPoint.onDisk,
    );
    log.recoveryStats = recovered.stats;
    log.recoveryPoint.advance(recovered.recoveryPoint.now);
    if (recovered.pending !== null) log.adoptUnsyncedTail(recovered.pending);
    return log;
  }

  /**
   * A flush-interval log opened without the recovery fsync: what recovery left unsynced is synced
   * like fresh appends, by the flush timer (flush.ms) or, without one, by a flush now.
   */
  private adoptUnsyncedTail(pending: UnsyncedTail): void {
    this.unsynced = pending.unsynced;
    this.committed = Math.min(this.committed, pending.committed);
    if (!pending.flush) return; // nothing but empty segments
    const ms = this.config.flushIntervalMs;
    if (ms === null) this.backgroundFlush();
    else this.armFlushTimer(ms);
  }

  get logStartOffset(): number {
    return this.startOffset;
  }

  /** First offset held in local segments (Kafka's local-log-start-offset; = logStartOffset untiered). */
  get localLogStartOffset(): number {
    return Math.max(this.startOffset, (this.segments[0] as Segment).baseOffset);
  }

  /**
   * Attaches the remote tier. The log start then covers remote data too: the persisted start
   * (DeleteRecords / retention) or, without one, the first remote offset when the remote part
   * reaches the local one.
   */
  attachRemote(view: RemoteLogView): void {
    this.remote = view;
    const persisted = readPartitionMeta(this.dir)?.logStartOffset ?? 0;
    const localBase = (this.segments[0] as Segment).baseOffset;
    const remoteStart = view.remoteStartOffset;
    if (remoteStart !== null && remoteStart < localBase && view.remoteEndOffset >= localBase) {
      const before = this.startOffset;
      this.startOffset = Math.max(persisted, remoteStart);
      if (this.startOffset !== before) this.notifyLogStart();
    }
  }

  /** Serves tail reads from memory (the hot cache) from now on. */
  useHotCache(cache: PartitionHotCache): void {
    this.hot = cache;
  }

  /** Sealed segments whose files (log + indexes) are fsynced, oldest first: what may be tiered. */
  sealedSegments(): SealedSegmentInfo[] {
    const out: SealedSegmentInfo[] = [];
    for (const s of this.segments) {
      if (!s.sealed || !s.synced || s.isEmpty) break;
      out.push({
        baseOffset: s.baseOffset,
        endOffset: s.nextOffset,
        size: s.size,
        maxTimestamp: s.maxTimestamp,
        offsetOfMaxTimestamp: s.offsetOfMaxTimestamp,
        retentionTimestamp: s.retentionTimestamp,
      });
    }
    return out;
  }

  get logEndOffset(): number {
    return this.active.nextOffset;
  }

  /**
   * Whether acknowledgements (and the high watermark) wait for fdatasync. Always in durable mode;
   * in flush-interval mode only when the file backend queues writes asynchronously (the native
   * engine): there an acknowledged write could still sit in this process's queue and die with it
   * on kill -9, so such a log stays durable rather than lose acknowledged records.
   */
  private get acksWaitForSync(): boolean {
    return acksWaitForSync(this.config, this.files);
  }

  /**
   * Flush-interval mode on a backend with asynchronous writes (the native engine): an ack waits
   * for a write barrier (the bytes are in the kernel, as a write on the JS thread would be), not
   * for fdatasync; the writes themselves leave the JS thread, batched per event-loop turn.
   */
  private get acksWaitForWrite(): boolean {
    return !isDurableMode(this.config) && this.files.writeBarriers === true;
  }

  get highWatermark(): number {
    if (this.acksWaitForSync) return Math.max(this.committed, this.hwFloor);
    if (this.acksWaitForWrite) return Math.max(this.written, this.committed, this.hwFloor);
    return this.logEndOffset;
  }

  /** Number of group-commit syncs started (each is one fdatasync of the active segment). */
  get syncCount(): number {
    return this.groupCommit.syncs;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  get failed(): boolean {
    return this.failure !== null;
  }

  private get active(): Segment {
    return this.segments[this.segments.length - 1] as Segment;
  }

  /**
   * Validates, checks producer state, assigns offsets (patching `records` in place) and writes.
   * When the topic's compression.type forces another codec (or deep validation is on) the batches
   * may be rebuilt first (log/recompress.ts); the rebuilt copy is patched and written instead.
   * `origin` "client" (Produce) refuses control batches like Kafka's LogValidator ("Clients are not
   * allowed to write control records" → INVALID_RECORD); "coordinator" (transaction markers) may
   * write them.
   */
  append(records: Uint8Array, now: number, origin: "client" | "coordinator" = "client"): AppendResult {
    if (this.failure !== null) return this.error(ErrorCode.KAFKA_STORAGE_ERROR, this.failure.message);
    const validation = validateBatches(records, this.config.maxMessageBytes);
    if (!validation.ok) {
      return this.error(validation.errorCode, validation.message, [
        { batchIndex: validation.batchIndex, message: validation.message },
      ]);
    }
    let batches = validation.batches;
    // Recompression to the topic's codec and deep validation; skipped entirely (no decode, no copy)
    // when compression.type is `producer` or already matches and deep validation is off.
    const rewrite = rewriteSettings(this.config);
    if (rewrite !== null && needsRewrite(batches, rewrite)) {
      const rewritten = rewriteBatches(records, batches, rewrite);
      if (!rewritten.ok) {
        return this.error(rewritten.errorCode, rewritten.message, [
          { batchIndex: rewritten.batchIndex, message: rewritten.message },
        ]);
      }
      records = rewritten.records;
      batches = rewritten.batches;
    }
    const appendTime = this.config.messageTimestampType === "LogAppendTime";
    const producerAppend = this.producers.begin();
    const appended: AppendedBatch[] = [];
    let next = this.logEndOffset;
    for (let i = 0; i < batches.length; i++) {
      const b = batches[i] as BatchInfo;
      if (b.isControl && origin === "client") {
        const message = "clients are not allowed to write control records";
        return this.error(ErrorCode.INVALID_RECORD, message, [{ batchIndex: i, message }]);
      }
      if (b.isTransactional && b.producerId < 0) {
        const message = "transactional batch without a producer id";
        return this.error(ErrorCode.INVALID_RECORD, message, [{ batchIndex: i, message }]);
      }
      // Kafka's LogValidator: "Producer should not set timestamp type to LogAppendTime."
      if (b.logAppendTime && origin === "client") {
        const message = "producer set the timestamp type to LogAppendTime";
        return this.error(ErrorCode.INVALID_TIMESTAMP, message, [{ batchIndex: i, message }]);
      }
      // A BatchInfo carries every ProducerBatch field: no per-append copy.
      const check = producerAppend.check(b);
      if (check.kind === "duplicate") return this.duplicate(check.firstOffset, check.lastOffset);
      if (check.kind === "error") return this.error(check.errorCode, check.message);
      const lastOffset = next + b.lastOffsetDelta;
      producerAppend.stage(b, next, lastOffset);
      appended.push({
        baseOffset: next,
        lastOffset,
        position: b.position,
        length: b.length,
        maxTimestamp: appendTime ? now : b.maxTimestamp,
      });
      next = lastOffset + 1;
    }

    // Offsets are patched in place: outside the CRC, so no re-CRC unless LogAppendTime.
    for (let i = 0; i < batches.length; i++) {
      const b = batches[i] as BatchInfo;
      const a = appended[i] as AppendedBatch;
      setBaseOffset(records, b.position, a.baseOffset);
      if (appendTime) setLogAppendTime(records, b.position, b.length, now);
    }

    try {
      if (this.shouldRoll(records.length, next - 1, now)) this.roll();
      this.active.append(records, appended, now);
    } catch (err) {
      if (err instanceof SegmentCorruptedError || !(err instanceof Error && "code" in err)) {
        this.fail(new LogStorageError(`append failed: ${describe(err)}`, err));
      }
      return this.error(ErrorCode.KAFKA_STORAGE_ERROR, `append failed: ${describe(err)}`);
    }
    producerAppend.commit();
    this.hot?.append(records, appended);

    const base = (appended[0] as AppendedBatch).baseOffset;
    const result: AppendResult = {
      errorCode: ErrorCode.NONE,
      baseOffset: base,
      logAppendTime: appendTime ? now : -1,
      logStartOffset: this.startOffset,
      durable: SETTLED,
      lastOffset: (appended[appended.length - 1] as AppendedBatch).lastOffset,
    };
    if (this.acksWaitForSync) {
      result.durable = handled(this.groupCommit.request());
    } else if (this.acksWaitForWrite) {
      result.durable = this.untilWrittenToEnd();
      this.afterFlushIntervalAppend(batches);
    } else {
      this.afterFlushIntervalAppend(batches);
      this.notifyHighWatermark();
    }
    return result;
  }

  read(offset: number, maxBytes: number, upTo?: number): ReadResult {
    if (this.failure !== null) return { errorCode: ErrorCode.KAFKA_STORAGE_ERROR, records: null };
    if (offset < this.startOffset || offset > this.logEndOffset) {
      return { errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, records: null };
    }
    const limit = Math.min(upTo ?? this.highWatermark, this.logEndOffset);
    if (offset >= limit) return { errorCode: ErrorCode.NONE, records: new Uint8Array(0) };
    const fromMemory = this.hot?.read(offset, maxBytes, limit);
    if (fromMemory !== undefined && fromMemory !== null) return { errorCode: ErrorCode.NONE, records: fromMemory };
    if (this.remote !== null && offset < (this.segments[0] as Segment).baseOffset) {
      return { errorCode: ErrorCode.NONE, records: null, remote: true };
    }
    try {
      for (let i = this.segmentIndexFor(offset); i < this.segments.length; i++) {
        const segment = this.segments[i] as Segment;
        const found = segment.findBatch(offset);
        if (found === null) continue;
        return { errorCode: ErrorCode.NONE, records: segment.readBatches(found.position, maxBytes, limit) };
      }
    } catch (err) {
      this.fail(new LogStorageError(`read failed: ${describe(err)}`, err));
      return { errorCode: ErrorCode.KAFKA_STORAGE_ERROR, records: null };
    }
    return { errorCode: ErrorCode.NONE, records: new Uint8Array(0) };
  }

  /**
   * ListOffsets by timestamp: the first record with timestamp >= ts and its timestamp, like Kafka,
   * found through the time index then batch headers (maxTimestamp). Inside an uncompressed
   * CreateTime batch the records' timestamps are read to give Kafka's exact answer; for compressed
   * batches (not decompressed here) and LogAppendTime batches the answer is the batch's base offset
   * and maxTimestamp, which is at or before Kafka's: a consumer seeking there never skips a
   * matching record (it may see a few earlier ones of that batch). The offset is at least
   * logStartOffset and below the high watermark; null when no record qualifies.
   */
  offsetForTimestamp(ts: number): { offset: number; timestamp: number } | null {
    if (this.failure !== null) return null;
    const remoteHit = this.remote?.findByTimestamp(ts) ?? null;
    if (remoteHit !== null && remoteHit.offset < (this.segments[0] as Segment).baseOffset) {
      const offset = Math.max(remoteHit.offset, this.startOffset);
      return offset < this.highWatermark ? { offset, timestamp: remoteHit.timestamp } : null;
    }
    for (const segment of this.segments) {
      if (segment.isEmpty || segment.maxTimestamp < ts || segment.nextOffset <= this.startOffset) continue;
      const found = segment.findByTimestamp(ts);
      if (found === null) continue;
      const offset = Math.max(found.offset, this.startOffset);
      if (offset >= this.highWatermark) return null;
      return { offset, timestamp: found.timestamp };
    }
    return null;
  }

  /**
   * For ListOffsets MAX_TIMESTAMP (-3): the largest timestamp in the log and the offset of the
   * first record carrying it (exact for uncompressed CreateTime batches, else that batch's base
   * offset, as in offsetForTimestamp).
   */
  maxTimestamp(): { offset: number; timestamp: number } | null {
    if (this.failure !== null) return null;
    let best: Segment | null = null;
    for (const segment of this.segments) {
      if (segment.isEmpty || segment.nextOffset <= this.startOffset) continue;
      if (best === null || segment.maxTimestamp > best.maxTimestamp) best = segment;
    }
    const remoteMax = this.remote?.maxTimestamp() ?? null;
    if (remoteMax !== null && (best === null || remoteMax.timestamp > best.maxTimestamp)) {
      return { offset: Math.max(remoteMax.offset, this.startOffset), timestamp: remoteMax.timestamp };
    }
    if (best === null) return null;
    const found = best.findByTimestamp(best.maxTimestamp) ?? {
      offset: best.offsetOfMaxTimestamp,
      timestamp: best.maxTimestamp,
    };
    return { offset: Math.max(found.offset, this.startOffset), timestamp: found.timestamp };
  }

  /**
   * DeleteRecords: moves logStartOffset to `offset` (-1 = the high watermark), persisted with an
   * atomic metadata write before it takes effect, then deletes whole segments below it.
   */
  async deleteRecordsBefore(offset: number): Promise<{ errorCode: number; lowWatermark: number }> {
    if (this.failure !== null) return { errorCode: ErrorCode.KAFKA_STORAGE_ERROR, lowWatermark: -1 };
    const target = offset === -1 ? this.highWatermark : offset;
    if (target < 0 || target > this.highWatermark) {
      return { errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, lowWatermark: this.startOffset };
    }
    if (target <= this.startOffset) return { errorCode: ErrorCode.NONE, lowWatermark: this.startOffset };
    // Serialised so that concurrent calls persist in order and the file never goes backwards.
    const write = this.metaWrites.then(async () => {
      const value = Math.max(target, this.startOffset);
      await writePartitionMeta(this.dir, { logStartOffset: value });
      const before = this.startOffset;
      this.startOffset = Math.max(this.startOffset, value);
      if (this.startOffset !== before) this.notifyLogStart();
    });
    this.metaWrites = write.catch(() => {});
    try {
      await write;
    } catch (err) {
      this.fail(new LogStorageError(`cannot persist log start offset: ${describe(err)}`, err));
      return { errorCode: ErrorCode.KAFKA_STORAGE_ERROR, lowWatermark: -1 };
    }
    this.deleteSegmentsWhile((s) => s.nextOffset <= this.startOffset);
    return { errorCode: ErrorCode.NONE, lowWatermark: this.startOffset };
  }

  /**
   * Rolls the active segment when segment.ms has passed, then deletes the oldest sealed segments
   * while one of these holds (Kafka's three retention rules): the segment lies below
   * logStartOffset; its max timestamp (or mtime without timestamps) is older than retention.ms;
   * or the log minus this segment is still >= retention.bytes. Never touches the active segment,
   * nor a sealed one whose fsync has not completed yet (it is picked up next time).
   */
  async applyRetention(now: number): Promise<void> {
    if (this.failure !== null) return;
    if (!this.active.isEmpty && this.segmentMsExpired(now)) {
      try {
        this.roll();
      } catch (err) {
        this.fail(new LogStorageError(`roll failed: ${describe(err)}`, err));
        return;
      }
    }
    const local = this.remote?.localRetention() ?? null;
    if (local !== null) {
      this.applyLocalRetention(now, local.ms, local.bytes);
      return;
    }
    const { retentionMs, retentionBytes } = this.config;
    let total = this.sizeInBytes();
    this.deleteSegmentsWhile((s) => {
      const expired =
        s.nextOffset <= this.startOffset ||
        (retentionMs >= 0 && s.retentionTimestamp < now - retentionMs) ||
        (retentionBytes >= 0 && total - s.size >= retentionBytes);
      if (expired) total -= s.size;
      return expired;
    });
  }

  /**
   * Local retention of a tiered log: a segment below the log start goes; otherwise only one that
   * is safely remote (below the remote end offset) goes, and only when local.retention.ms/bytes say
   * so. Retention over the whole log (retention.*) is the tiering layer's job: it moves the log
   * start, and segments below it go here.
   */
  private applyLocalRetention(now: number, localMs: number, localBytes: number): void {
    const remoteEnd = this.remote?.remoteEndOffset ?? 0;
    let total = this.sizeInBytes();
    this.deleteSegmentsWhile((s) => {
      const expired =
        s.nextOffset <= this.startOffset ||
        (s.nextOffset <= remoteEnd &&
          ((localMs >= 0 && s.retentionTimestamp < now - localMs) || (localBytes >= 0 && total - s.size >= localBytes)));
      if (expired) total -= s.size;
      return expired;
    });
  }

  updateConfig(config: LogConfig): void {
    const wasDurable = isDurableMode(this.config);
    const hwBefore = this.highWatermark;
    this.config = config;
    if (!wasDurable && isDurableMode(config)) {
      // Keep the high watermark (logEndOffset, or the written end) from going back while the tail is fsynced.
      this.hwFloor = hwBefore;
      this.backgroundFlush();
    }
    if (isDurableMode(config) && this.flushTimer !== null) {
      this.flushTimer.cancel();
      this.flushTimer = null;
    }
    // Leaving fsync-before-ack shows what was written but not yet fsynced at once.
    if (this.highWatermark > hwBefore) this.notifyHighWatermark();
  }

  sizeInBytes(): number {
    let total = 0;
    for (const s of this.segments) total += s.size;
    return total;
  }

  activeProducers(): ActiveProducer[] {
    return this.producers.active();
  }

  /** Forgets idle producers (see ProducerStateManager.removeExpired); the number removed. */
  expireProducers(nowMs: number, expirationMs: number): number {
    return this.producers.removeExpired(nowMs, expirationMs);
  }

  /**
   * The first local offset when the producer state was rebuilt from local batches alone while the
   * log starts after offset 0: older batches (remote, or deleted) may have held producer state that
   * a remote snapshot can restore. Null when the state is complete as far as this log knows.
   */
  get producerStateGap(): number | null {
    const base = (this.segments[0] as Segment).baseOffset;
    return this.producerStateLoad.snapshotOffset === null && base > 0 ? base : null;
  }

  /** Path of the producer snapshot at `offset` (a sealed segment's end) once written; null when none exists. */
  async producerSnapshotFile(offset: number): Promise<string | null> {
    await this.snapshots.settled();
    const path = this.snapshots.path(offset);
    return fs.existsSync(path) ? path : null;
  }

  /**
   * Restores producer state from a snapshot taken at an offset inside the local log (from the
   * remote tier): its state, then every local batch at or after it. False when it does not fit.
   */
  restoreProducerState(bytes: Uint8Array): boolean {
    const snap = decodeProducerSnapshot(bytes);
    const base = (this.segments[0] as Segment).baseOffset;
    if (snap.offset < base || snap.offset > this.logEndOffset) return false;
    const restored = new ProducerStateManager();
    restored.load(snap.producers);
    const replayed = replayFrom(this.segments, snap.offset, restored);
    if (replayed < 0) return false;
    this.producers = restored;
    this.producerStateLoad.snapshotOffset = snap.offset;
    this.producerStateLoad.replayedBatches = replayed;
    if (this.lastSnapshotOffset === null || snap.offset > this.lastSnapshotOffset) this.lastSnapshotOffset = snap.offset;
    void this.snapshots.write(snap.offset, bytes);
    return true;
  }

  /**
   * The recovery point on disk (recovery-point.ts; null: none), once the background writes of
   * what a crash recovery reads (it and the producer snapshots) are done.
   */
  async writtenRecoveryPoint(): Promise<number | null> {
    await this.snapshots.settled();
    await this.recoveryPoint.settled();
    return this.recoveryPoint.onDisk;
  }

  /** fsyncs everything written so far; rejects when the log has failed. */
  flush(): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    return this.groupCommit.request();
  }

  /** Flushes and closes; writes a producer snapshot at the log end unless `deleting`. */
  async close(deleting = false): Promise<void> {
    this.flushTimer?.cancel();
    this.flushTimer = null;
    if (this.failure === null) {
      try {
        await this.flush();
      } catch {
        // The failure is recorded; closing the files is still right.
      }
    }
    while (this.groupCommit.busy) await this.groupCommit.request().catch(() => {});
    if (!deleting && this.failure === null && this.lastSnapshotOffset !== this.logEndOffset) {
      this.writeProducerSnapshot(this.logEndOffset);
    }
    await this.snapshots.settled();
    await this.recoveryPoint.settled();
    if (!deleting && this.failure === null) {
      // A clean close leaves every file complete and fsynced (the active segment's indexes too),
      // so the next open may resume the segments from their indexes instead of walking them.
      try {
        await this.active.syncIndexes(); // its data: by the flush above
        this.closedCleanly = true;
      } catch (err) {
        this.fail(new LogStorageError(`fsync at close failed: ${describe(err)}`, err));
      }
    }
    if (this.failure === null) this.failure = new LogStorageError("log closed");
    this.hot?.release();
    this.hot = null;
    for (const s of this.segments) s.close();
  }

  async delete(): Promise<void> {
    await this.close(true);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  // --- internals -------------------------------------------------------------------------------

  private error(errorCode: number, message: string, recordErrors?: AppendResult["recordErrors"]): AppendResult {
    const r: AppendResult = {
      errorCode,
      errorMessage: message,
      baseOffset: -1,
      logAppendTime: -1,
      logStartOffset: this.startOffset,
      durable: SETTLED,
      lastOffset: -1,
    };
    if (recordErrors !== undefined) r.recordErrors = recordErrors;
    return r;
  }

  /** A retried batch: answered with its original offsets once they are durable. */
  private duplicate(firstOffset: number, lastOffset: number): AppendResult {
    const durable =
      this.acksWaitForSync && lastOffset >= this.committed
        ? handled(this.groupCommit.request())
        : this.acksWaitForWrite && lastOffset >= this.written
          ? this.untilWrittenToEnd()
          : SETTLED;
    return {
      errorCode: ErrorCode.NONE,
      baseOffset: firstOffset,
      logAppendTime: -1,
      logStartOffset: this.startOffset,
      durable,
      lastOffset,
    };
  }

  /**
   * Resolves when the bytes of an append are in the kernel, so they survive a crash of this
   * process (what acks=1 promises). In durable mode that is the append's own fsync (asked for
   * anyway; with the inline fsync of an idle engine also the quickest answer); on the js backend
   * writes reach the kernel on return; otherwise a write barrier of the native engine. Only acks=1
   * asks, so other appends cost nothing.
   */
  untilWritten(result: AppendResult): Promise<void> {
    if (result.errorCode !== ErrorCode.NONE) return SETTLED;
    if (this.acksWaitForSync) return result.durable;
    if (this.files.writeBarriers !== true || result.lastOffset < Math.max(this.written, this.committed)) return SETTLED;
    return this.untilWrittenToEnd();
  }

  private segmentIndexFor(offset: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.segments[mid] as Segment).baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  private pickJitter(): number {
    const jitter = this.config.segmentJitterMs ?? 0;
    return jitter > 0 ? Math.floor(this.random() * jitter) : 0;
  }

  private segmentMsExpired(now: number): boolean {
    const a = this.active;
    return a.rollTimestamp >= 0 && now - a.rollTimestamp > this.config.segmentMs - this.activeJitterMs;
  }

  private shouldRoll(bytes: number, lastOffset: number, now: number): boolean {
    const a = this.active;
    if (!a.fits(bytes, lastOffset, this.config.segmentBytes)) return true;
    return !a.isEmpty && this.segmentMsExpired(now);
  }

  /** Seals the active segment and starts a new one at logEndOffset; the sync path makes both durable. */
  private roll(): void {
    const old = this.active;
    const next = Segment.open(this.dir, old.nextOffset, this.files, this.config.indexIntervalBytes);
    old.seal();
    old.synced = false;
    this.segments.push(next);
    this.unsynced.push(old);
    if (this.files.writeBarriers === true) {
      this.unbarriered.push(old);
      this.turnBarrier = null; // the next append's barrier must cover the new active segment too
    }
    this.dirDirty = true;
    this.activeJitterMs = this.pickJitter();
    // The state before this append's batches is committed: exactly the state as of next.baseOffset.
    this.writeProducerSnapshot(next.baseOffset);
    this.backgroundFlush();
  }

  /** Writes the producer state as of `offset` (= logEndOffset now) in the background. */
  private writeProducerSnapshot(offset: number): void {
    this.lastSnapshotOffset = offset;
    void this.snapshots.write(offset, encodeProducerSnapshot(offset, this.producers.view()));
  }

  /**
   * One group-commit sync. Captures logEndOffset first: every byte below it is already in a file
   * (writes are synchronous), so once the fsyncs below complete it is durable.
   */
  private async syncToEnd(): Promise<void> {
    if (this.failure !== null) throw this.failure;
    const target = this.logEndOffset;
    const sealed = this.unsynced;
    this.unsynced = [];
    const dirDirty = this.dirDirty;
    this.dirDirty = false;
    const active = this.active;
    try {
      for (const s of sealed) {
        await s.syncAll();
        s.synced = true;
      }
      if (dirDirty) await fsyncDirectory(this.dir);
      await active.syncData();
      // Every segment below the active one (as of the capture above) now has its log, indexes
      // and directory entry durable: a crash needs to walk only from there.
      this.recoveryPoint.advance(active.baseOffset);
    } catch (err) {
      // After a failed fsync the page cache can no longer be trusted (the "fsyncgate" lesson):
      // stop the log like Kafka stops a failed log dir.
      throw this.failWith("fsync failed", err);
    }
    if (target > this.committed) {
      const before = this.highWatermark;
      this.committed = target;
      if (this.highWatermark > before) this.notifyHighWatermark();
    }
  }

  /**
   * Resolves once every byte appended so far is in the kernel (flush-interval mode, native
   * engine). All appends of one turn, over all partitions, share one engine barrier (see
   * SharedWriteBarrier); this partition's appends of the turn share one promise, whose target
   * (the log end it makes `written`) moves with each append while the barrier is still open.
   * A write error fails the log as a failed fsync does.
   */
  private untilWrittenToEnd(): Promise<void> {
    if (this.failure !== null) return handled(Promise.reject(this.failure));
    const tb = this.turnBarrier;
    if (tb !== null && tb.barrier.open) {
      tb.target = this.logEndOffset;
      return tb.promise;
    }
    const segments = [...this.unbarriered, this.active];
    let barrier: WriteBarrier | null = null;
    try {
      for (const s of segments) {
        const b = s.joinWriteBarrier();
        // One log's segments come from one file factory, so they share the engine's barrier.
        if (b !== null && barrier !== null && b !== barrier) throw new Error("segments joined different write barriers");
        barrier = b ?? barrier;
      }
    } catch (err) {
      this.failWith("write barrier failed", err);
      return handled(Promise.reject(this.failure));
    }
    this.unbarriered = [];
    if (barrier === null) return SETTLED; // writes reach the kernel on return
    const next: TurnBarrier = { barrier, target: this.logEndOffset, promise: SETTLED };
    next.promise = handled(
      new Promise<void>((resolve, reject) => {
        barrier.whenSettled(() => {
          for (const s of segments) {
            const error = s.writeErrorIn(barrier);
            if (error !== null) this.failWith("write failed", error);
          }
          if (this.failure !== null) return reject(this.failure);
          if (next.target > this.written) {
            const before = this.highWatermark;
            this.written = next.target;
            if (this.highWatermark > before) this.notifyHighWatermark();
          }
          resolve();
        });
      }),
    );
    this.turnBarrier = next;
    return next.promise;
  }

  private afterFlushIntervalAppend(batches: BatchInfo[]): void {
    for (const b of batches) this.messagesSinceFlush += b.recordCount;
    const { flushIntervalMessages, flushIntervalMs } = this.config;
    if (flushIntervalMessages !== null && this.messagesSinceFlush >= flushIntervalMessages) {
      this.messagesSinceFlush = 0;
      this.backgroundFlush();
    } else if (flushIntervalMs !== null && this.flushTimer === null) {
      this.armFlushTimer(flushIntervalMs);
    }
  }

  /** Flush-interval mode: a background flush `ms` from now (flush.ms counts from the first unflushed append). */
  private armFlushTimer(ms: number): void {
    this.flushTimer = setLongTimeout(() => {
      this.flushTimer = null;
      this.messagesSinceFlush = 0;
      this.backgroundFlush();
    }, ms);
  }

  /** A flush nobody waits for; a failure is recorded in the log's failed state. */
  private backgroundFlush(): void {
    if (this.failure !== null) return;
    this.groupCommit.request().catch(() => {});
  }

  private notifyHighWatermark(): void {
    this.notify(this.onHighWatermarkAdvance);
  }

  private notifyLogStart(): void {
    this.notify(this.onLogStartAdvance);
  }

  private notify(listener: ((log: PartitionLog) => void) | null): void {
    if (listener === null) return;
    try {
      listener(this);
    } catch {
      // A listener's bug must not break the log.
    }
  }

  private fail(err: Error): void {
    if (this.failure === null) this.failure = err;
  }

  /**
   * Fails the log with `what: <cause>` (unless it failed already) and returns that new error, for
   * the failed sync or barrier to throw or reject with.
   */
  private failWith(what: string, err: unknown): LogStorageError {
    const failure = new LogStorageError(`${what}: ${describe(err)}`, err);
    this.fail(failure);
    return failure;
  }

  private deleteSegmentsWhile(pred: (s: Segment) => boolean): void {
    const delay = this.config.fileDeleteDelayMs ?? 0;
    const before = this.segments.length;
    while (this.segments.length > 1) {
      const oldest = this.segments[0] as Segment;
      if (!oldest.sealed || !oldest.synced || !pred(oldest)) break;
      this.segments.shift();
      try {
        oldest.delete(delay);
      } catch (err) {
        this.fail(new LogStorageError(`cannot delete segment ${oldest.baseOffset}: ${describe(err)}`, err));
        break;
      }
    }
    // With a remote tier, local deletions do not move the log start while remote data precedes.
    const localBase = (this.segments[0] as Segment).baseOffset;
    if (this.segments.length < before) this.snapshots.deleteBelow(localBase);
    const remoteStart = this.remote?.remoteStartOffset ?? null;
    const remoteCovers = remoteStart !== null && remoteStart < localBase && (this.remote?.remoteEndOffset ?? 0) >= localBase;
    const startBefore = this.startOffset;
    this.startOffset = Math.max(this.startOffset, remoteCovers ? remoteStart : localBase);
    if (this.startOffset !== startBefore) this.notifyLogStart();
  }
}

function headerToProducerBatch(header: BatchHeader): ProducerBatch {
  return {
    producerId: header.producerId,
    producerEpoch: header.producerEpoch,
    baseSequence: header.baseSequence,
    lastOffsetDelta: header.lastOffsetDelta,
    maxTimestamp: header.maxTimestamp,
    isTransactional: (header.attributes & 0x10) !== 0,
    isControl: (header.attributes & 0x20) !== 0,
  };
}

/**
 * Replays every batch at or after `from` into `producers` (headers only); the number replayed,
 * or -1 when a batch straddles `from` (a snapshot taken inside a batch cannot be right).
 */
function replayFrom(segments: readonly Segment[], from: number, producers: ProducerStateManager): number {
  let replayed = 0;
  let straddled = false;
  for (const s of segments) {
    if (s.nextOffset <= from) continue;
    s.scanHeaders(({ header }) => {
      const last = header.baseOffset + header.lastOffsetDelta;
      if (header.baseOffset >= from) {
        producers.replay(headerToProducerBatch(header), header.baseOffset, last);
        replayed++;
      } else if (last >= from) straddled = true;
    });
  }
  return straddled ? -1 : replayed;
}

/**
 * Recovery on open:
 *  1. leftovers of interrupted deletes / atomic writes (`*.deleted`, `*.tmp`) are removed;
 *  2. segments that need no walk are resumed from their indexes (Segment.resume, which checks
 *     they fit the file): all of them after a clean shutdown; after a crash those that end at or
 *     below both the recovery point (recovery-point.ts) and the newest producer snapshot. Every
 *     other segment is walked batch by batch (headers only; CRCs too for the last two segments
 *     and those past the recovery point, the ones that can hold unsynced bytes: a durable log
 *     fsyncs a segment before acknowledging anything after it), the file truncated at the first
 *     torn or bad batch, and the indexes checked exactly against the batches found and rebuilt
 *     when they differ;
 *  3. a segment cut short, or not contiguous with the next, ends the log: later segments follow a
 *     hole and were never acknowledged in durable mode, so they are deleted;
 *  4. producer state: the newest snapshot file that decodes is loaded first and only the batches
 *     at or after its offset are replayed; when it turns out not to fit what survived (past the
 *     log end, below the first segment, inside a batch) the newest older one that fits is used
 *     and the batches after it are read again, else every kept batch is replayed;
 *  5. durable logs (`syncTail`): the last two segments are fsynced (bytes written before a
 *     process crash may sit only in the page cache), so everything found counts as committed.
 *     Flush-interval logs skip this, as Kafka does (it leaves the recovery point behind): their
 *     acknowledgements never promised an fsync, and syncing gigabytes of a crashed process's dirty
 *     pages held startup for seconds (bench/RESULTS.md). Those segments are handed back as
 *     `unsynced`; the log's flush policy syncs them like fresh appends.
 * Cost after a crash: what lies past the recovery point (or, without one, the whole log) is read
 * in 1 MiB chunks and walked batch by batch; below it, a few reads per segment.
 */
async function recover(
  dir: string,
  config: LogConfig,
  files: SegmentFileFactory,
  producers: ProducerStateManager,
  snapshots: ProducerSnapshotFiles,
  syncTail: boolean,
  cleanShutdown: boolean,
): Promise<RecoveredLog> {
  const stats: RecoveryStats = { resumedSegments: 0, bytes: 0, crcBytes: 0, batches: 0, truncatedBytes: 0, syncedSegments: 0 };
  const names = fs.readdirSync(dir);
  let dirChanged = false;
  for (const name of names) {
    if (name.endsWith(DELETED_SUFFIX) || name.endsWith(TMP_SUFFIX)) {
      fs.rmSync(`${dir}/${name}`, { force: true });
      dirChanged = true;
    }
  }
  const bases = names
    .map(parseLogFileName)
    .filter((b): b is number => b !== null)
    .sort((a, b) => a - b);
  const meta = readPartitionMeta(dir);
  let created = false;
  if (bases.length === 0) {
    bases.push(meta?.logStartOffset ?? 0);
    created = true;
  }

  const candidate = snapshots.newest(0, Number.MAX_SAFE_INTEGER);
  if (candidate !== null) producers.load(candidate.producers);
  const replayAbove = candidate?.offset ?? 0;
  // After a crash, segments that end at or below the recovery point were durable, indexes too
  // (recovery-point.ts); those that also end at or below the producer snapshot need no replay.
  // So they are resumed like after a clean shutdown, and only the rest is walked.
  const recoveryPointOnDisk = readRecoveryPoint(dir);
  const recoveryPoint = cleanShutdown ? null : recoveryPointOnDisk;
  const resumeBelow = Math.min(recoveryPoint ?? 0, replayAbove);
  /** Whether the segment that ends where `nextBase` begins (undefined: the last one) reaches past the recovery point. */
  const endsPastRecoveryPoint = (nextBase: number | undefined) =>
    recoveryPoint !== null && (nextBase === undefined || nextBase > recoveryPoint);
  let replayed = 0;
  let straddled = false;

  const segments: Segment[] = [];
  const touched = new Set<Segment>();
  // After a clean shutdown segments are resumed from their indexes, and the producer state is
  // replayed after the loop (from the snapshot close wrote: usually nothing to replay).
  const resumed = new Set<Segment>();
  for (let i = 0; i < bases.length; i++) {
    const base = bases[i] as number;
    const segment = Segment.open(dir, base, files, config.indexIntervalBytes);
    segments.push(segment);
    const nextBase = bases[i + 1];
    // A resumed segment must also meet the next one's base, else its indexes lied: walk it.
    const mayResume = cleanShutdown || (nextBase !== undefined && nextBase <= resumeBelow);
    if (mayResume && segment.resume() && (nextBase === undefined || segment.nextOffset === nextBase)) {
      resumed.add(segment);
      continue;
    }
    // Bytes that may never have been fsynced get their CRCs checked: the last two segments
    // (a durable log syncs a segment before acknowledging anything after it) and, when the
    // recovery point is known, every segment past it (a flush-interval log's unflushed tail).
    const verifyCrc = i >= bases.length - 2 || endsPastRecoveryPoint(nextBase);
    const result = segment.recover(verifyCrc, ({ header }) => {
      if (cleanShutdown) return;
      const last = header.baseOffset + header.lastOffsetDelta;
      if (header.baseOffset >= replayAbove) {
        producers.replay(headerToProducerBatch(header), header.baseOffset, last);
        replayed++;
      } else if (last >= replayAbove) straddled = true;
    });
    stats.bytes += result.validBytes;
    if (verifyCrc) stats.crcBytes += result.validBytes;
    stats.batches += result.batches;
    stats.truncatedBytes += result.truncatedBytes;
    if (result.truncatedBytes > 0 || result.indexRebuilt) touched.add(segment);
    if (nextBase !== undefined && (result.truncatedBytes > 0 || segment.nextOffset !== nextBase)) {
      // Everything after a hole is unreachable by offset: drop it (see step 3).
      for (const later of bases.slice(i + 1)) {
        const s = Segment.open(dir, later, files, config.indexIntervalBytes);
        s.delete(0);
        dirChanged = true;
      }
      break;
    }
  }

  let startOffset = Math.max(meta?.logStartOffset ?? 0, (segments[0] as Segment).baseOffset);
  const end = (segments[segments.length - 1] as Segment).nextOffset;
  if (startOffset > end) {
    // The persisted start lies past what survived: start an empty log there (Kafka does the same).
    for (const s of segments) s.delete(0);
    segments.length = 0;
    const fresh = Segment.open(dir, startOffset, files, config.indexIntervalBytes);
    fresh.recover(false, () => {});
    segments.push(fresh);
    created = true;
  }
  startOffset = Math.max(startOffset, (segments[0] as Segment).baseOffset);

  const firstBase = (segments[0] as Segment).baseOffset;
  const logEnd = (segments[segments.length - 1] as Segment).nextOffset;
  stats.resumedSegments = resumed.size;
  if (cleanShutdown && !created) {
    if (candidate === null) replayed = replayFrom(segments, firstBase, producers);
    else if (candidate.offset >= firstBase && candidate.offset <= logEnd) {
      replayed = candidate.offset < logEnd ? replayFrom(segments, candidate.offset, producers) : 0;
      if (replayed < 0) {
        straddled = true;
        replayed = 0;
      }
    }
  }
  let snapshotOffset = candidate?.offset ?? null;
  if (candidate !== null && (straddled || candidate.offset < firstBase || candidate.offset > logEnd || created)) {
    const older = snapshots.newest(firstBase, straddled ? Math.min(logEnd, candidate.offset - 1) : logEnd);
    if (older === null) producers.clear();
    else producers.load(older.producers);
    snapshotOffset = older?.offset ?? null;
    replayed = replayFrom(segments, older?.offset ?? firstBase, producers);
    if (replayed < 0) {
      producers.clear();
      snapshotOffset = null;
      replayed = replayFrom(segments, firstBase, producers);
    }
  } else if (candidate === null && created) {
    producers.clear();
  }
  // Snapshots past the end describe lost batches; below the first segment they cannot be resumed.
  snapshots.retainSync(firstBase, logEnd);

  const unsynced: Segment[] = [];
  let unsyncedBytes = false;
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i] as Segment;
    const isLast = i === segments.length - 1;
    if (!isLast) s.seal();
    // (resumed segments were synced: by the clean shutdown, or before the recovery point was written)
    const mayBeUnsynced = touched.has(s) || (!resumed.has(s) && (i >= segments.length - 2 || endsPastRecoveryPoint(segments[i + 1]?.baseOffset)));
    if (mayBeUnsynced && syncTail) {
      await s.syncAll();
      stats.syncedSegments++;
    }
    s.synced = !mayBeUnsynced || syncTail;
    if (!s.synced && !isLast) unsynced.push(s);
    if (!s.synced && !s.isEmpty) unsyncedBytes = true;
  }
  // The directory is synced in both modes when its entries changed (files created or deleted;
  // truncations and index rewrites do not change it): a new topic's partitions get it at
  // creation rather than inside their first flush.
  if (created || dirChanged) await fsyncDirectory(dir);
  // What is durable now: below the oldest segment that may hold unsynced bytes (all sealed ones
  // when synced). Not synced here, so it also bounds what a flush-interval log counts committed.
  const durableBelow = (unsynced[0] ?? (segments[segments.length - 1] as Segment)).baseOffset;
  const committed = syncTail ? null : durableBelow;
  return {
    segments,
    startOffset,
    load: { snapshotOffset, replayedBatches: replayed },
    stats,
    pending: syncTail ? null : { unsynced, committed: committed as number, flush: unsyncedBytes },
    recoveryPoint: { onDisk: recoveryPointOnDisk, now: durableBelow },
  };
}
