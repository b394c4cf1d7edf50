/**
 * Segment files whose writes and fdatasyncs run on the native I/O engine's worker thread
 * (native/src/segment_io.rs): io_uring with each file's queued writes linked to one fdatasync, or
 * pwrite + fdatasync on the same thread where io_uring is refused. Chosen by the broker config
 * `bunka.log.io` = auto | io_uring | pwrite | js (js = the libuv path of segment-file.ts).
 *
 * Semantics against the `SegmentFile` contract:
 * - `write` queues the bytes and returns; the append position (`size`) moves at once. Writes,
 *   syncs and kicks are collected on the JS side and handed to the engine in one native call
 *   (`submit`: one queue lock, at most one wake of the worker) after the current synchronous run
 *   and the microtasks it queued (the group-commit syncs): so all partition appends and syncs of
 *   the produce requests handled in one turn cost one hand-off, not one per partition. The
 *   engine does not copy the bytes: the worker writes from the caller's buffer (kept alive by a
 *   napi reference, released on the JS thread when the write is done), so callers must not modify
 *   a buffer after writing it, until the covering datasync settled (the log never does; pooled
 *   request frames are held that long: src/net/frame-pool.ts). Writes are lazy: the group-commit sync
 *   that follows in durable mode takes them (write + fdatasync go out as one linked chain), and
 *   writes made while a sync is in flight wait for the next one. Writes no sync covers are kicked
 *   after the loop turn (setImmediate), so flush-interval writes reach the page cache within
 *   about one turn. A flush-interval log's acknowledgements wait for a write barrier; all files
 *   appended to before one submit share one (SharedWriteBarrier): one entry per file in that
 *   submit and one promise per partition, settled together.
 * - `read` is a positioned read (fs.readSync) on the JS thread for the part the worker has confirmed written
 *   (`writtenEnd`); newer bytes come from the references kept to the written buffers, dropped once
 *   confirmed. So reads see every write that returned, as with synchronous writes. (Callers must
 *   not mutate a buffer after writing it: the log never does.) `readAsync` does the file part on
 *   the worker instead, for large reads that should not block the event loop.
 * - `datasync` resolves when one fdatasync that started after every earlier write completed.
 * - A write the worker fails on (ENOSPC, EFBIG, EIO…) is cut off the file, marks the file failed
 *   (sticky) and rejects the covering datasync with the errno; every later write, truncate or sync
 *   on it fails at once. The partition log then fails like after an fsync error (Kafka takes the
 *   log dir offline): the affected produce requests get KAFKA_STORAGE_ERROR and nothing past the
 *   last successful fdatasync was acknowledged. Unlike the js backend, which sees a write error
 *   synchronously and just truncates back, the log cannot go on: offsets after the failed batch
 *   were already handed out. Reopening (broker restart) recovers.
 * - `truncate` and `close` wait for the file's queued work, then run on the JS thread.
 */
import * as fs from "node:fs";
import { renameSync, writeFileSync } from "node:fs";
import {
  createIoEngine,
  writeBehindAsync,
  errnoError,
  ioError,
  ioUringProbe,
  setIoBackendInUse,
  type IoEngineBinding,
  type IoEngineStats,
  type NativeFileBinding,
} from "../native/index.ts";
import { OpColumns } from "./op-columns.ts";
import { checkCut, fdSegmentFileFactory, jsIoCounters, PAGE_BYTES, WRITE_BEHIND_BYTES, writeBehindCounters } from "./segment-file.ts";
import type { SegmentFile, SegmentFileFactory, WriteBarrier } from "./segment-file.ts";

export type LogIoSetting = "auto" | "io_uring" | "pwrite" | "js";
export const LOG_IO_SETTINGS: readonly LogIoSetting[] = ["auto", "io_uring", "pwrite", "js"];
type EngineMode = Exclude<LogIoSetting, "js">;

const ST_OK = 0;
const ST_WRITE_ERROR = 1;
const ST_SYNC_ERROR = 2;
const SYSCALL_OF_STATUS = ["", "write", "fdatasync", "read"];
/** Op kinds of IoEngineBinding.submit. */
const OP_WRITE = 0;
const OP_SYNC = 1;
const OP_FLUSH = 2;
const OP_BARRIER = 3;
/**
 * Batches of one file's writes (up to this many bytes) plus its sync, submitted while nothing else
 * is in flight, are written and fdatasynced inline on the JS thread (see IoEngine.flush).
 * BUNKA_IO_INLINE_SYNC_BYTES=0 turns that off (benchmarks compare both).
 */
const INLINE_SYNC_MAX_BYTES = Number(process.env.BUNKA_IO_INLINE_SYNC_BYTES ?? 64 * 1024) || 0;
/**
 * An inline fsync blocks the event loop for as long as the disk takes. On a disk where that is
 * slow (network block devices, a degraded drive) one slow inline submit turns the inline path off
 * for INLINE_BACKOFF_MS, so every other connection is not stalled behind each fsync.
 */
const INLINE_SLOW_MS = 5;
const INLINE_BACKOFF_MS = 10_000;
/** Past this many unconfirmed writes, `write` asks the engine how far it got (bounds `pending`). */
const PENDING_TRIM = 256;

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
  /** Async reads: what to do with the bytes. */
  onRead?: (bytes: Uint8Array) => void;
}

/**
 * One write barrier shared by every file that joined it before the engine's next submit (see
 * NativeSegmentFile.joinWriteBarrier): the flush-interval acknowledgement of all partitions
 * appended to in one event-loop turn costs one entry per file in that submit and one settle per
 * file, instead of a promise chain per partition.
 */
export class SharedWriteBarrier implements WriteBarrier {
  /** True until the submit that carries it: files may still join. */
  open = true;
  private readonly members: NativeSegmentFile[] = [];
  private remaining = 0;
  private settled = false;
  private errors: Map<SegmentFile, Error> | null = null;
  private listeners: (() => void)[] = [];

  /** Adds a member (the caller makes sure each file joins once: NativeSegmentFile.joinWriteBarrier). */
  add(file: NativeSegmentFile): void {
    this.members.push(file);
  }

  /** Files joined (each once), in join order; read by the submit that carries the barrier. */
  get files(): readonly NativeSegmentFile[] {
    return this.members;
  }

  /** Called by the submit: from now on only completions change it. */
  close(): void {
    this.open = false;
    this.remaining = this.members.length;
    if (this.remaining === 0) this.finish();
  }

  /** One member's barrier completed (error: its write failed, so the file failed). */
  memberDone(file: NativeSegmentFile, error: Error | null): void {
    if (error !== null) (this.errors ??= new Map()).set(file, error);
    if (--this.remaining === 0) this.finish();
  }

  /** The write error of `file` in this barrier, or null when its writes reached the kernel. */
  errorOf(file: SegmentFile): Error | null {
    return this.errors?.get(file) ?? null;
  }

  /** Runs `cb` (synchronously, from the completion) once every member's barrier completed. */
  whenSettled(cb: () => void): void {
    if (this.settled) queueMicrotask(cb);
    else this.listeners.push(cb);
  }

  private finish(): void {
    this.settled = true;
    const listeners = this.listeners;
    this.listeners = [];
    for (const cb of listeners) {
      try {
        cb();
      } catch {
        // A listener's bug must not keep the other members' acknowledgements back.
      }
    }
  }
}

/** The waiter of one file's entry in a shared barrier. */
class BarrierMember implements Waiter {
  constructor(
    private readonly barrier: SharedWriteBarrier,
    private readonly file: NativeSegmentFile,
    private readonly covered: number,
    private readonly generation: number,
  ) {}

  resolve(): void {
    this.file.barrierCompleted(this.covered, this.generation);
    this.barrier.memberDone(this.file, null);
  }

  reject(err: Error): void {
    this.barrier.memberDone(this.file, err);
  }
}

/** Promise plumbing around one native engine: tokens, completions, event-loop ref, kicks. */
export class IoEngine {
  readonly raw: IoEngineBinding;
  private nextToken = 1;
  private readonly waiters = new Map<number, Waiter>();
  private referenced = false;
  private kickScheduled = false;
  /** Files with writes that no sync request covers yet (see NativeSegmentFile.needsKick). */
  private readonly lazy = new Set<NativeSegmentFile>();
  /** Ops collected for the next `submit` (see flush). */
  private batchFiles: NativeFileBinding[] = [];
  private readonly batchOps = new OpColumns();
  private batchData: Uint8Array[] = [];
  private flushScheduled = false;
  /** The shared write barrier the next submit carries (null until a file joins one). */
  private openBarrier: SharedWriteBarrier | null = null;
  /** Native submit calls made (tests and benchmarks compare them with ops). */
  submits = 0;
  /** Times a slow inline fsync turned the inline path off (see INLINE_SLOW_MS). */
  inlineBackoffs = 0;
  /** An inline submit slower than this turns the inline path off for a while (tests lower it). */
  inlineSlowMs = INLINE_SLOW_MS;
  /** performance.now() before which submits do not run inline. */
  private inlineOffUntil = 0;
  /**
   * The most bytes any sync of the next submit covers since its file's previous sync request. The
   * submit's own writes do not bound what an fdatasync writes back: a flush-interval file's earlier
   * writes (through write barriers) may still be dirty, a whole segment of them at a roll. Inline
   * only when this is small too: a roll's sync of a 1 GiB flush-interval segment ran inline and
   * held the event loop 0.7-0.9 s (bench/RESULTS.md, session 22).
   */
  private batchSyncSpan = 0;

  constructor(mode: EngineMode) {
    this.raw = createIoEngine(mode, () => this.drain());
  }

  /** Allows the inline path again at once (after a backoff; tests). */
  resetInlineBackoff(): void {
    this.inlineOffUntil = 0;
  }

  get backend(): string {
    return this.raw.backend;
  }

  stats(): IoEngineStats {
    return this.raw.stats();
  }

  open(path: string): NativeSegmentFile {
    let handle: NativeFileBinding;
    try {
      handle = this.raw.open(path);
    } catch (err) {
      throw ioError(err);
    }
    return new NativeSegmentFile(this, handle, path);
  }

  /**
   * `file` has writes no sync covers: after this turn (once the group commit had its chance to
   * ask for a sync) kick it unless a sync was requested or one is in flight (whose completion
   * brings the next sync in durable mode, or calls this again).
   */
  noteLazyWrite(file: NativeSegmentFile): void {
    this.lazy.add(file);
    if (this.kickScheduled) return;
    this.kickScheduled = true;
    setImmediate(() => {
      this.kickScheduled = false;
      for (const f of this.lazy) f.kickIfIdle();
      this.lazy.clear();
    });
  }

  /** An fdatasync of `handle`; `span`: bytes written to the file since its previous sync request. */
  sync(handle: NativeFileBinding, span: number): Promise<void> {
    if (span > this.batchSyncSpan) this.batchSyncSpan = span;
    return new Promise<void>((resolve, reject) => {
      const token = this.register({ resolve, reject });
      this.enqueue(handle, OP_SYNC, 0, token, null);
    });
  }

  /**
   * The shared write barrier the next submit carries (see NativeSegmentFile.joinWriteBarrier): it
   * settles once every write queued on its member files before that submit is in the kernel.
   */
  nextBarrier(): SharedWriteBarrier {
    let b = this.openBarrier;
    if (b === null) {
      b = new SharedWriteBarrier();
      this.openBarrier = b;
      this.scheduleFlush();
    }
    return b;
  }

  /** Queues a write of `data` at `pos` for the next submit (the caller keeps `data` unchanged). */
  queueWrite(handle: NativeFileBinding, pos: number, data: Uint8Array): void {
    // The worker reads `data` in place. A small typed array may keep its bytes inline until its
    // `.buffer` is first asked for, which then moves them into an ArrayBuffer; ask now, so the
    // address the engine takes is the final one.
    if (data.buffer.byteLength < data.byteLength) throw new RangeError("detached write buffer");
    this.enqueue(handle, OP_WRITE, pos, 0, data);
  }

  /** Queues a flush (start the file's queued writes without an fsync). */
  queueKick(handle: NativeFileBinding): void {
    this.enqueue(handle, OP_FLUSH, 0, 0, null);
  }

  private enqueue(handle: NativeFileBinding, kind: number, pos: number, token: number, data: Uint8Array | null): void {
    this.batchFiles.push(handle);
    this.batchOps.push(kind, pos, token);
    if (data !== null) this.batchData.push(data);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Two microtask hops: the group-commit syncs of this run's appends are requested from
    // microtasks queued after the first op (GroupCommit.kick), and should ride the same submit.
    queueMicrotask(() =>
      queueMicrotask(() => {
        this.flushScheduled = false;
        this.flush();
      }),
    );
  }

  /**
   * Hands every collected op to the engine in one native call. Called from the scheduled
   * microtask, and directly by operations that must not overtake queued ops (truncate, close,
   * async reads).
   */
  flush(): void {
    const barrier = this.openBarrier;
    if (barrier !== null) {
      // After every write of this batch, so each member's entry covers the writes queued before it.
      this.openBarrier = null;
      let closed: NativeSegmentFile[] | null = null;
      for (const f of barrier.files) {
        const entry = f.barrierEntry();
        if (entry === null) {
          (closed ??= []).push(f); // cannot happen (close() flushes first); fail it rather than hang
          continue;
        }
        const token = this.register(new BarrierMember(barrier, f, entry.covered, entry.generation));
        this.batchFiles.push(entry.handle);
        this.batchOps.push(OP_BARRIER, 0, token);
      }
      barrier.close();
      for (const f of closed ?? []) barrier.memberDone(f, errnoError(9, "write", "file is closed"));
    }
    const n = this.batchOps.length;
    if (n === 0) return;
    const files = this.batchFiles;
    const { kinds, positions, tokens } = this.batchOps.views();
    const data = this.batchData;
    this.batchFiles = [];
    this.batchOps.clear(); // the views stay valid until the next op is queued (after the native call)
    this.batchData = [];
    const syncSpan = this.batchSyncSpan;
    this.batchSyncSpan = 0;
    this.submits++;
    // Inline fsync (the low-load path, see IoEngine.submit in segment_io.rs) only when nothing but
    // this batch's syncs is in flight, so the loop is never blocked behind other I/O.
    let syncs = 0;
    for (let i = 0; i < n; i++) if (kinds[i] === OP_SYNC) syncs++;
    const started = performance.now();
    const inline =
      INLINE_SYNC_MAX_BYTES > 0 && syncs === 1 && syncSpan <= INLINE_SYNC_MAX_BYTES && this.waiters.size === 1 && started >= this.inlineOffUntil
        ? INLINE_SYNC_MAX_BYTES
        : 0;
    try {
      const done = this.raw.submit(files, kinds, positions, tokens, data, inline);
      if (done.length > 0) {
        const took = performance.now() - started;
        if (took > this.inlineSlowMs) {
          this.inlineOffUntil = performance.now() + INLINE_BACKOFF_MS;
          this.inlineBackoffs++;
        }
        this.settleAll(done);
      }
    } catch (err) {
      // Only invalid arguments get here (a bug): fail every sync and barrier of the batch, so nothing that
      // depended on these writes is acknowledged.
      // The waiting tokens are copied out first: settling may queue new ops into the reused columns.
      const e = ioError(err);
      const waiting: number[] = [];
      for (let i = 0; i < n; i++) if (kinds[i] === OP_SYNC || kinds[i] === OP_BARRIER) waiting.push(tokens[i] as number);
      for (const token of waiting) this.settle(token, ST_SYNC_ERROR, 0, e);
    }
  }

  readAsync(handle: NativeFileBinding, position: number, length: number): Promise<Uint8Array> {
    this.flush();
    return new Promise<Uint8Array>((resolve, reject) => {
      const token = this.register({ resolve: () => {}, reject, onRead: resolve });
      try {
        handle.readAsync(position, length, token);
      } catch (err) {
        this.settle(token, ST_SYNC_ERROR, 0, ioError(err));
      }
    });
  }

  private register(w: Waiter): number {
    const token = this.nextToken;
    this.nextToken = this.nextToken >= 0x7fffffff ? 1 : this.nextToken + 1;
    this.waiters.set(token, w);
    if (!this.referenced) {
      this.referenced = true;
      this.raw.refLoop();
    }
    return token;
  }

  /** Runs on the JS thread when the worker reports completions. */
  private drain(): void {
    this.settleAll(this.raw.takeCompletions());
  }

  private settleAll(c: number[]): void {
    for (let i = 0; i + 2 < c.length; i += 3) {
      this.settle((c[i] as number) >>> 0, c[i + 1] as number, c[i + 2] as number);
    }
    if (this.waiters.size === 0 && this.referenced) {
      this.referenced = false;
      this.raw.unrefLoop();
    }
  }

  private settle(token: number, status: number, errno: number, error?: Error): void {
    const w = this.waiters.get(token);
    if (w === undefined) return;
    this.waiters.delete(token);
    if (error !== undefined) {
      w.reject(error);
    } else if (status === ST_OK) {
      if (w.onRead) w.onRead(this.raw.takeRead(token) ?? new Uint8Array(0));
      else w.resolve();
    } else {
      const syscall = SYSCALL_OF_STATUS[status] ?? "io";
      const what = status === ST_WRITE_ERROR ? "write failed" : status === ST_SYNC_ERROR ? "fdatasync failed" : "read failed";
      w.reject(errnoError(errno, syscall, what));
    }
    if (this.waiters.size === 0 && this.referenced && error !== undefined) {
      this.referenced = false;
      this.raw.unrefLoop();
    }
  }
}

interface PendingWrite {
  pos: number;
  buf: Uint8Array;
}

export class NativeSegmentFile implements SegmentFile {
  size: number;
  /** Every byte below this is in the file (the worker said so). */
  private confirmed: number;
  /** Writes at or above `confirmed`, in position order (contiguous up to `size`). */
  private pending: PendingWrite[] = [];
  private handle: NativeFileBinding | null;
  /** Writes made since the last datasync request. */
  private unsynced = false;
  /** The file's size when the last datasync was requested (what it covers; see IoEngine.batchSyncSpan). */
  private syncRequestedAt: number;
  /** Write-behind (see writeBehind): where the next call starts, and whether one is in flight. */
  private writtenBehind: number;
  private behindInFlight = false;
  private syncsInFlight = 0;
  /** Bumped by truncate: a sync requested before it confirms nothing after it. */
  private generation = 0;
  /** The shared write barrier this file last joined (see joinWriteBarrier). */
  private joined: SharedWriteBarrier | null = null;

  constructor(
    private readonly engine: IoEngine,
    handle: NativeFileBinding,
    readonly path: string,
  ) {
    this.handle = handle;
    this.size = handle.initialSize;
    this.syncRequestedAt = handle.initialSize;
    this.writtenBehind = handle.initialSize;
    this.confirmed = this.size;
  }

  private live(syscall: string): NativeFileBinding {
    if (this.handle === null) throw errnoError(9, syscall, "file is closed"); // EBADF
    return this.handle;
  }

  write(buf: Uint8Array): void {
    const h = this.live("write");
    if (buf.length === 0) return;
    const failed = h.failedErrno; // sticky write failure seen by the worker: fail now, as the js backend would
    if (failed !== 0) throw errnoError(failed, "write", "write failed");
    this.engine.queueWrite(h, this.size, buf);
    this.pending.push({ pos: this.size, buf });
    this.size += buf.length;
    if (this.pending.length > PENDING_TRIM) this.confirm(h.writtenEnd());
    // An open shared barrier this file joined covers this write as well (its entry goes into the
    // submit after every write queued before it), so no kick is needed.
    if (!this.unsynced && this.joined?.open !== true) {
      this.unsynced = true;
      this.engine.noteLazyWrite(this);
    }
  }

  /** Starts this file's queued writes when no sync covers them and none is in flight. */
  kickIfIdle(): void {
    if (this.unsynced && this.syncsInFlight === 0 && this.handle !== null) {
      this.unsynced = false;
      this.engine.queueKick(this.handle);
    }
  }

  private confirm(end: number): void {
    if (end > this.confirmed) this.confirmed = Math.min(end, this.size);
    let drop = 0;
    while (drop < this.pending.length) {
      const p = this.pending[drop] as PendingWrite;
      if (p.pos + p.buf.length > this.confirmed) break;
      drop++;
    }
    if (drop > 0) this.pending.splice(0, drop);
    if (!this.behindInFlight && this.confirmed - Math.max(this.writtenBehind, this.syncRequestedAt) >= WRITE_BEHIND_BYTES) this.writeBehind();
  }

  /**
   * A flush-interval file (acks through write barriers, no fdatasync for a long while) starts the
   * writeback of each WRITE_BEHIND_BYTES it has confirmed written, on the addon's low-priority
   * write-behind thread, as MappedSegmentFile does. Without it a segment's sync at its roll found
   * ~1 GiB dirty: on ext4 (data=ordered) the journal commit that fdatasync forces waits for all of
   * it, and appends to the new segment waited with it (e2e p99 0.5-0.75 s at 1 partition x 60
   * MiB/s; bench/RESULTS.md, session 22). Durable files sync far more often than every step and
   * never get here. Only whole pages the kernel already has; a failed call is ignored (the next
   * fdatasync reports I/O errors). A call that outlives close() may start writeback on whatever
   * file reuses the descriptor number: that writes nothing and changes no data.
   */
  private writeBehind(): void {
    const h = this.handle;
    if (h === null || h.fd < 0) return;
    const from = Math.max(this.writtenBehind, this.syncRequestedAt - (this.syncRequestedAt % PAGE_BYTES));
    const to = this.confirmed - (this.confirmed % PAGE_BYTES);
    if (to <= from) return;
    this.writtenBehind = to;
    this.behindInFlight = true;
    writeBehindCounters.calls++;
    writeBehindCounters.bytes += to - from;
    const returned = () => {
      this.behindInFlight = false;
    };
    try {
      writeBehindAsync(h.fd, from, to - from).then(returned, returned);
    } catch {
      returned();
    }
  }

  read(position: number, length: number, into?: Uint8Array): Uint8Array {
    const h = this.live("read");
    const n = Math.max(0, Math.min(length, this.size - position));
    if (n === 0) return new Uint8Array(0);
    const end = position + n;
    if (end > this.confirmed && this.pending.length > 0) this.confirm(h.writtenEnd());
    const fromFile = Math.max(0, Math.min(end, this.confirmed) - position);
    // Plain pread on the JS thread into a JS buffer: for cached data this is the cheapest read
    // there is (a worker round trip or a native allocation per read costs more; see RESULTS.md).
    const out = into !== undefined && into.length >= n ? into.subarray(0, n) : Buffer.allocUnsafe(n);
    let done = 0;
    while (done < fromFile) {
      const r = fs.readSync(h.fd, out, done, fromFile - done, position + done);
      if (r === 0) return out.subarray(0, done); // the file is shorter than it should be
      done += r;
    }
    if (fromFile < n) this.copyPending(out, position, position + fromFile, end);
    return out;
  }

  /** Async positioned read: the file part runs on the worker thread. */
  async readAsync(position: number, length: number): Promise<Uint8Array> {
    const h = this.live("read");
    const n = Math.max(0, Math.min(length, this.size - position));
    if (n === 0) return new Uint8Array(0);
    const end = position + n;
    if (end > this.confirmed && this.pending.length > 0) this.confirm(h.writtenEnd());
    const fromFile = Math.max(0, Math.min(end, this.confirmed) - position);
    if (fromFile === n) return this.engine.readAsync(h, position, n);
    // Copy the unconfirmed tail now: the references may be dropped before the read completes.
    const out = new Uint8Array(n);
    this.copyPending(out, position, position + fromFile, end);
    if (fromFile > 0) {
      const head = await this.engine.readAsync(h, position, fromFile);
      if (head.length < fromFile) return head;
      out.set(head, 0);
    }
    return out;
  }

  /** Copies bytes [from, to) of the pending writes into `out` (which starts at file `base`). */
  private copyPending(out: Uint8Array, base: number, from: number, to: number): void {
    for (const p of this.pending) {
      const s = Math.max(from, p.pos);
      const e = Math.min(to, p.pos + p.buf.length);
      if (s >= e) continue;
      out.set(p.buf.subarray(s - p.pos, e - p.pos), s - base);
    }
  }

  truncate(size: number): void {
    checkCut(size, this.size);
    const h = this.live("ftruncate");
    this.engine.flush(); // queued writes go first (the native truncate waits for them)
    this.generation++;
    try {
      h.truncate(size);
    } catch (err) {
      throw ioError(err);
    }
    this.size = size;
    this.confirmed = size;
    this.pending = [];
    this.syncRequestedAt = Math.min(this.syncRequestedAt, size);
    this.writtenBehind = Math.min(this.writtenBehind, size);
  }

  /**
   * The sync starts the file's queued writes itself (no separate kick), and once it completed
   * every write queued before it is in the file, so our references to them can go.
   */
  datasync(): Promise<void> {
    if (this.handle === null) return Promise.reject(errnoError(9, "fdatasync", "file is closed"));
    this.unsynced = false;
    this.syncsInFlight++;
    const covered = this.size;
    const generation = this.generation;
    const span = Math.max(0, covered - this.syncRequestedAt);
    this.syncRequestedAt = covered;
    return this.engine
      .sync(this.handle, span)
      .then(() => {
        if (generation === this.generation) this.confirm(covered);
      })
      .finally(() => {
        this.syncsInFlight--;
        if (this.unsynced) this.engine.noteLazyWrite(this);
      });
  }

  /**
   * Joins the engine's shared write barrier (see SharedWriteBarrier): it settles once every write
   * made to this file before the engine's next submit is in the kernel (no fsync). The barrier
   * starts those writes itself, so no separate kick is needed.
   */
  joinWriteBarrier(): SharedWriteBarrier {
    this.live("write");
    this.unsynced = false;
    const b = this.engine.nextBarrier();
    if (this.joined !== b) {
      this.joined = b;
      b.add(this);
    }
    return b;
  }

  /** What the submit carrying a shared barrier needs of this file; null once closed. */
  barrierEntry(): { handle: NativeFileBinding; covered: number; generation: number } | null {
    if (this.handle === null) return null;
    return { handle: this.handle, covered: this.size, generation: this.generation };
  }

  /** This file's entry in a shared barrier completed: the writes below `covered` are in the file. */
  barrierCompleted(covered: number, generation: number): void {
    if (generation === this.generation) this.confirm(covered);
  }

  close(): void {
    const h = this.handle;
    if (h === null) return;
    this.engine.flush(); // queued writes go first (the native close waits for them)
    this.handle = null;
    this.pending = [];
    try {
      h.close();
    } catch (err) {
      throw ioError(err);
    }
  }
}

// --- backend selection -------------------------------------------------------------------------

const engines = new Map<EngineMode, IoEngine>();

/** The engine for `mode`, started on first use (one worker thread each). */
export function ioEngine(mode: EngineMode): IoEngine {
  let e = engines.get(mode);
  if (e === undefined) {
    e = new IoEngine(mode);
    engines.set(mode, e);
  }
  return e;
}

export interface SegmentIo {
  files: SegmentFileFactory;
  /** "io_uring" | "pwrite" | "pwrite-fallback" | "js" */
  backend: string;
  /** One line for the startup log. */
  description: string;
  engine: IoEngine | null;
}

/**
 * The segment file implementation for a `bunka.log.io` setting. "io_uring" throws when the kernel
 * refuses it; "auto" falls back to pwrite on the worker thread and says why in `description`.
 */
export function segmentIoFor(setting: LogIoSetting): SegmentIo {
  let io: SegmentIo;
  if (setting === "js") {
    io = {
      files: fdSegmentFileFactory,
      backend: "js",
      description: "segment I/O: js (writes on the JS thread, fdatasync on the libuv threadpool; bunka.log.io=js)",
      engine: null,
    };
  } else {
    const engine = ioEngine(setting);
    const reason = engine.raw.fallbackReason;
    io = {
      files: { open: (path) => engine.open(path), writeBarriers: true },
      backend: engine.backend,
      description:
        `segment I/O: ${engine.backend} on a native thread (bunka.log.io=${setting}` +
        (engine.raw.ringFlags ? `, ring ${engine.raw.ringFlags})` : ")") +
        (reason ? `; io_uring refused: ${reason}` : ""),
      engine,
    };
  }
  setIoBackendInUse(io.backend);
  installStatsDump();
  return io;
}

export { ioUringProbe };

/** Counters of every engine started plus the js backend's, for benchmarks and diagnostics. */
export function segmentIoStats(): Record<string, unknown> {
  const out: Record<string, unknown> = { js: { ...jsIoCounters } };
  for (const [mode, e] of engines) out[mode] = { backend: e.backend, ...e.stats(), submits: e.submits };
  return out;
}

let statsDumpInstalled = false;

/**
 * Benchmarks only: with BUNKA_IO_STATS_FILE set, SIGUSR2 writes segmentIoStats() there as JSON,
 * so a load generator can read per-phase fsync counts from a broker process.
 */
function installStatsDump(): void {
  const file = process.env.BUNKA_IO_STATS_FILE;
  if (statsDumpInstalled || !file) return;
  statsDumpInstalled = true;
  process.on("SIGUSR2", () => {
    try {
      writeFileSync(`${file}.tmp`, JSON.stringify({ at: Date.now(), ...segmentIoStats() }));
      renameSync(`${file}.tmp`, file);
    } catch {
      // diagnostics only
    }
  });
}
