/**
 * The remote tier of one partition: its manifest, uploads of sealed segments, remote retention,
 * and remote reads. Implements RemoteLogView for the partition log.
 *
 * Ordering (what makes it crash-safe; see manifest.ts for the invariant):
 *   upload:  put .log, .index, .timeindex (and the producer snapshot as of the segment's end, when
 *            the log has one) of up to 4 segments (in parallel)  →  write the local
 *            manifest naming those that made it  →  put the manifest copy. Only then may the log
 *            delete the local segments (it asks `remoteEndOffset`, from the committed manifest).
 *   delete:  persist the new log start (partition.meta, via the log)  →  write a local manifest
 *            without the segments below it  →  put the manifest copy  →  delete their objects.
 * A crash between any two steps leaves objects nobody names (removed as orphans at the next start)
 * or manifest entries below the log start (dropped at the next pass), never a name without an object.
 * All work of one partition runs one step at a time (the tier manager calls it sequentially).
 */
import * as fs from "node:fs";
import { indexFilePath, logFilePath, timeIndexFilePath } from "../log/file-names.ts";
import type { PartitionLog, SealedSegmentInfo } from "../log/partition-log.ts";
import type { RemoteLogView } from "../log/remote-view.ts";
import { BATCH_LENGTH_OFFSET, LAST_OFFSET_DELTA_OFFSET, LOG_OVERHEAD, RECORD_BATCH_HEADER_SIZE } from "../protocol/record-batch.ts";
import type { ChunkCache } from "./chunk-cache.ts";
import { SEGMENT_FILE_KINDS, manifestKey, segmentKey, snapshotKey, type SegmentFileKind } from "./keys.ts";
import { emptyManifest, encodeManifest, readLocalManifest, writeLocalManifest, type RemoteSegment, type TierManifest } from "./manifest.ts";
import type { ObjectStore } from "./object-store.ts";
import { readRemoteBatches } from "./remote-reader.ts";
import { remoteOffsetForTimestamp } from "./remote-timestamps.ts";

/** The topic configs tiering obeys, resolved (local.retention.* of -2 replaced by retention.*). */
export interface TopicTierSettings {
  remoteStorageEnable: boolean;
  retentionMs: number;
  retentionBytes: number;
  localRetentionMs: number;
  localRetentionBytes: number;
}

/** Segments whose start, and chunks of the current segment, are loaded ahead of a sequential remote reader (see `read`). */
const READ_AHEAD_SEGMENTS = 2;
const READ_AHEAD_CHUNKS = 2;

/** The offset after the last whole batch in `batches`. */
function nextOffsetAfter(batches: Uint8Array): number {
  const dv = new DataView(batches.buffer, batches.byteOffset, batches.byteLength);
  let pos = 0;
  let next = -1;
  while (pos + RECORD_BATCH_HEADER_SIZE <= batches.length) {
    next = dv.getInt32(pos) * 4294967296 + dv.getUint32(pos + 4) + dv.getInt32(pos + LAST_OFFSET_DELTA_OFFSET) + 1;
    pos += dv.getInt32(pos + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
  }
  return next;
}

export interface TierLag {
  segments: number;
  bytes: number;
}

export class PartitionTier implements RemoteLogView {
  private manifest: TierManifest;
  /** The uploaded manifest copy is older than the local one (its put failed). */
  private manifestCopyStale = false;
  /** Objects whose delete failed; retried every pass (and swept as orphans at the next start). */
  private readonly pendingDeletes = new Set<string>();
  /** Where recent remote reads ended (a read starting at one of these is sequential), bounded. */
  private readonly readEnds = new Set<number>();
  /** The producer-state restore from the remote tier has been done (or was not needed). */
  private producerStateChecked = false;
  detached = false;

  constructor(
    readonly log: PartitionLog,
    readonly topicId: string,
    readonly prefix: string,
    private readonly store: ObjectStore,
    private readonly cache: ChunkCache,
    readonly settings: () => TopicTierSettings,
  ) {
    this.manifest = readLocalManifest(log.dir) ?? emptyManifest(log.topic, topicId, log.partition);
  }

  get segments(): readonly RemoteSegment[] {
    return this.manifest.segments;
  }

  /** Whether this partition has anything to do with the remote tier. */
  get active(): boolean {
    return this.manifest.segments.length > 0 || this.settings().remoteStorageEnable;
  }

  // --- RemoteLogView -----------------------------------------------------------------------------

  get remoteStartOffset(): number | null {
    return this.manifest.segments[0]?.baseOffset ?? null;
  }

  get remoteEndOffset(): number {
    return this.manifest.segments[this.manifest.segments.length - 1]?.endOffset ?? 0;
  }

  localRetention(): { ms: number; bytes: number } | null {
    const s = this.settings();
    return s.remoteStorageEnable ? { ms: s.localRetentionMs, bytes: s.localRetentionBytes } : null;
  }

  findByTimestamp(ts: number): { offset: number; timestamp: number } | null {
    for (const s of this.manifest.segments) {
      if (s.endOffset <= this.log.logStartOffset) continue;
      if (s.maxTimestamp >= ts) return { offset: s.baseOffset, timestamp: s.maxTimestamp };
    }
    return null;
  }

  maxTimestamp(): { offset: number; timestamp: number } | null {
    let best: RemoteSegment | null = null;
    for (const s of this.manifest.segments) {
      if (s.endOffset <= this.log.logStartOffset) continue;
      if (best === null || s.maxTimestamp > best.maxTimestamp) best = s;
    }
    return best === null || best.maxTimestamp < 0 ? null : { offset: best.offsetOfMaxTimestamp, timestamp: best.maxTimestamp };
  }

  // --- uploads -----------------------------------------------------------------------------------

  /** Sealed local segments not yet remote (and not below the log start): the tiering lag. */
  pendingUploads(): SealedSegmentInfo[] {
    if (!this.settings().remoteStorageEnable) return [];
    const end = this.remoteEndOffset;
    const start = this.log.logStartOffset;
    return this.log.sealedSegments().filter((s) => s.endOffset > end && s.endOffset > start && s.baseOffset >= end);
  }

  lag(): TierLag {
    const pending = this.pendingUploads();
    return { segments: pending.length, bytes: pending.reduce((n, s) => n + s.size, 0) };
  }

  /**
   * Uploads up to `max` of the oldest pending segments, their objects all in parallel, then
   * commits those that made it (in order, up to the first failure) with ONE manifest write.
   * Returns the committed segments; throws the first store error after committing what it can.
   */
  async uploadPending(now: number, max: number): Promise<RemoteSegment[]> {
    const batch = this.pendingUploads().slice(0, max);
    if (batch.length === 0 || this.detached) return [];
    const results = await Promise.allSettled(batch.map((seg) => this.uploadObjects(seg, now)));
    const entries: RemoteSegment[] = [];
    let failure: unknown = null;
    for (const r of results) {
      if (r.status === "rejected") {
        failure = r.reason;
        break; // later segments' objects are re-put (same keys) and committed on the retry
      }
      if (r.value !== null) entries.push(r.value);
    }
    if (this.detached) return [];
    if (entries.length > 0) {
      await this.commit({ ...this.manifest, revision: this.manifest.revision + 1, segments: [...this.manifest.segments, ...entries] });
    }
    if (failure !== null) throw failure;
    return entries;
  }

  /** Puts the three objects of a segment; null when its files went meanwhile (nothing to tier). */
  private async uploadObjects(seg: SealedSegmentInfo, now: number): Promise<RemoteSegment | null> {
    const dir = this.log.dir;
    const files: Record<SegmentFileKind, string> = {
      log: logFilePath(dir, seg.baseOffset),
      index: indexFilePath(dir, seg.baseOffset),
      timeindex: timeIndexFilePath(dir, seg.baseOffset),
    };
    let indexSize: number;
    let timeIndexSize: number;
    let snapshot: string | null;
    try {
      indexSize = fs.statSync(files.index).size;
      timeIndexSize = fs.statSync(files.timeindex).size;
      snapshot = await this.log.producerSnapshotFile(seg.endOffset);
      const puts = SEGMENT_FILE_KINDS.map((kind) => this.store.putFile(segmentKey(this.prefix, seg.baseOffset, kind), files[kind]));
      if (snapshot !== null) puts.push(this.store.putFile(snapshotKey(this.prefix, seg.baseOffset), snapshot));
      await Promise.all(puts);
    } catch (e) {
      // Deleted under us (DeleteRecords moved the start past it, or the topic went): nothing to do.
      if ((e as NodeJS.ErrnoException).code === "ENOENT" && (this.detached || seg.endOffset <= this.log.logStartOffset)) return null;
      throw e;
    }
    const entry: RemoteSegment = {
      baseOffset: seg.baseOffset,
      endOffset: seg.endOffset,
      size: seg.size,
      indexSize,
      timeIndexSize,
      maxTimestamp: seg.maxTimestamp,
      offsetOfMaxTimestamp: seg.offsetOfMaxTimestamp,
      uploadedAtMs: now,
    };
    if (snapshot !== null) entry.producerSnapshot = true;
    return entry;
  }

  // --- producer state ------------------------------------------------------------------------------

  /**
   * Once per attach: when the log rebuilt its producer state from local batches alone while older
   * batches exist (no local snapshot fitted, see PartitionLog.producerStateGap), loads the newest
   * remote snapshot that lies inside the local log, so that producers whose batches are all remote
   * keep their idempotence state. Store errors throw (the next pass retries); a corrupt snapshot
   * is skipped for an older one.
   */
  async restoreProducerState(log: (msg: string) => void): Promise<void> {
    if (this.producerStateChecked || this.detached) return;
    const gap = this.log.producerStateGap;
    if (gap !== null) {
      const end = this.log.logEndOffset;
      const candidates = this.manifest.segments.filter((s) => s.producerSnapshot === true && s.endOffset >= gap && s.endOffset <= end);
      for (let i = candidates.length - 1; i >= 0; i--) {
        const seg = candidates[i] as RemoteSegment;
        const key = snapshotKey(this.prefix, seg.baseOffset);
        const bytes = await this.store.get(key);
        if (bytes === null) continue;
        let restored = false;
        try {
          restored = this.log.restoreProducerState(bytes);
        } catch (e) {
          log(`tiering: remote producer snapshot ${key} is unusable: ${e instanceof Error ? e.message : String(e)}`);
        }
        if (restored) {
          log(`tiering: restored producer state of ${this.name} from the remote snapshot at offset ${seg.endOffset}`);
          break;
        }
      }
    }
    this.producerStateChecked = true;
  }

  // --- remote retention --------------------------------------------------------------------------

  /**
   * Retention over the whole log (retention.ms / retention.bytes counting remote and local bytes
   * once each): moves the log start past expired remote segments, then drops every remote segment
   * below the log start (also those DeleteRecords left behind) and deletes its objects.
   */
  async enforceRetention(now: number, log: (msg: string) => void): Promise<void> {
    if (this.detached) return;
    const s = this.settings();
    const segs = this.manifest.segments;
    let start = this.log.logStartOffset;
    const localBase = this.log.localLogStartOffset;
    let total = this.log.sizeInBytes();
    for (const seg of segs) if (seg.endOffset <= localBase && seg.endOffset > start) total += seg.size;
    let target = start;
    for (const seg of segs) {
      if (seg.endOffset <= target) continue;
      const ts = seg.maxTimestamp >= 0 ? seg.maxTimestamp : seg.uploadedAtMs;
      const expired =
        (s.retentionMs >= 0 && ts < now - s.retentionMs) || (s.retentionBytes >= 0 && total - seg.size >= s.retentionBytes);
      if (!expired) break;
      target = seg.endOffset;
      total -= seg.size;
    }
    if (target > start) {
      const r = await this.log.deleteRecordsBefore(target);
      if (r.errorCode !== 0) log(`tiering: cannot move the log start of ${this.name} to ${target} (error ${r.errorCode})`);
      start = this.log.logStartOffset;
    }
    const doomed = segs.filter((seg) => seg.endOffset <= start);
    if (doomed.length === 0) return;
    const kept = segs.filter((seg) => seg.endOffset > start);
    await this.commit({ ...this.manifest, revision: this.manifest.revision + 1, segments: kept });
    for (const seg of doomed) {
      for (const kind of SEGMENT_FILE_KINDS) this.pendingDeletes.add(segmentKey(this.prefix, seg.baseOffset, kind));
      if (seg.producerSnapshot === true) this.pendingDeletes.add(snapshotKey(this.prefix, seg.baseOffset));
    }
    await this.retryDeletes();
  }

  /** Deletes objects whose segments left the manifest; keeps the failures for the next pass. */
  async retryDeletes(): Promise<void> {
    for (const key of [...this.pendingDeletes]) {
      this.cache.dropObject(key);
      await this.store.delete(key);
      this.pendingDeletes.delete(key);
    }
  }

  /** Re-uploads the manifest copy when an earlier put failed. */
  async syncManifestCopy(): Promise<void> {
    if (!this.manifestCopyStale) return;
    await this.store.put(manifestKey(this.prefix), encodeManifest(this.manifest));
    this.manifestCopyStale = false;
  }

  /** The object keys the manifest names (plus the manifest copy): everything else under the prefix is an orphan. */
  referencedKeys(): Set<string> {
    const keys = new Set<string>([manifestKey(this.prefix)]);
    for (const seg of this.manifest.segments) {
      for (const kind of SEGMENT_FILE_KINDS) keys.add(segmentKey(this.prefix, seg.baseOffset, kind));
      if (seg.producerSnapshot === true) keys.add(snapshotKey(this.prefix, seg.baseOffset));
    }
    return keys;
  }

  // --- reads -------------------------------------------------------------------------------------

  /** Batches at `offset` from the remote segment holding it (empty when none does). */
  async read(offset: number, maxBytes: number, upTo: number): Promise<Uint8Array> {
    const segs = this.manifest.segments;
    let lo = 0;
    let hi = segs.length - 1;
    let found: RemoteSegment | null = null;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = segs[mid] as RemoteSegment;
      if (s.endOffset <= offset) lo = mid + 1;
      else {
        found = s;
        hi = mid - 1;
      }
    }
    if (found === null) return new Uint8Array(0);
    const keys = { log: segmentKey(this.prefix, found.baseOffset, "log"), index: segmentKey(this.prefix, found.baseOffset, "index") };
    const sequential = this.readEnds.has(offset);
    const batches = await readRemoteBatches(this.cache, found, keys, Math.max(offset, found.baseOffset), maxBytes, upTo, sequential ? READ_AHEAD_CHUNKS : 0);
    // Read-ahead across segment boundaries, for sequential readers only (this read starts where an
    // earlier one ended; a random probe must not pay for GETs it will not use): the index and first
    // chunk of the next READ_AHEAD_SEGMENTS segments load while this one is consumed.
    if (batches.length > 0) {
      this.readEnds.delete(offset);
      this.readEnds.add(nextOffsetAfter(batches));
      if (this.readEnds.size > 64) this.readEnds.delete(this.readEnds.values().next().value as number);
    }
    if (sequential && batches.length > 0) {
      const at = segs.indexOf(found);
      for (const next of segs.slice(at + 1, at + 1 + READ_AHEAD_SEGMENTS)) {
        this.cache.prefetch(segmentKey(this.prefix, next.baseOffset, "index"), next.indexSize, 0);
        this.cache.prefetch(segmentKey(this.prefix, next.baseOffset, "log"), next.size, 0);
      }
    }
    return batches;
  }

  /**
   * ListOffsets by timestamp over the remote part, exact like the local path (see
   * remote-timestamps.ts); null when no remote record qualifies.
   */
  async offsetForTimestamp(ts: number): Promise<{ offset: number; timestamp: number } | null> {
    const start = this.log.logStartOffset;
    for (const seg of this.manifest.segments) {
      if (seg.endOffset <= start || seg.maxTimestamp < ts) continue;
      const keys = {
        log: segmentKey(this.prefix, seg.baseOffset, "log"),
        index: segmentKey(this.prefix, seg.baseOffset, "index"),
        timeindex: segmentKey(this.prefix, seg.baseOffset, "timeindex"),
      };
      const found = await remoteOffsetForTimestamp(this.cache, seg, keys, ts);
      if (found !== null) return { offset: Math.max(found.offset, start), timestamp: found.timestamp };
    }
    return null;
  }

  get name(): string {
    return `${this.log.topic}-${this.log.partition}`;
  }

  /** Writes the manifest locally (the commit point), then its copy in the store. */
  private async commit(next: TierManifest): Promise<void> {
    await writeLocalManifest(this.log.dir, next);
    this.manifest = next;
    this.manifestCopyStale = true;
    await this.syncManifestCopy();
  }
}
