/**
 * Segment log files appended through a shared memory mapping instead of one pwrite per append
 * (the flush-interval logs' backend; `bunka.log.mmap`). At many partitions every produce request
 * writes one small batch per partition, and the ext4 buffered-write path (syscall, page lookup,
 * block bookkeeping, an inode time update per call) cost more JS-thread time than everything else
 * the broker does for the record (bench/RESULTS.md). A store into a mapped page costs nothing once
 * the page is writable; the kernel work is paid once per page, and the faults of 64 KiB of pages
 * are taken in one madvise call.
 *
 * How it stays safe:
 * - The file's size is moved ahead of the append position with ftruncate (a sparse tail, in
 *   steps of 64 KiB doubling to 4 MiB), so the pages written are inside the file. Every page is
 *   pre-faulted writable (MADV_POPULATE_WRITE) before a byte is copied to it: that is where ext4
 *   reserves its disk block, and where a full disk shows up, as an error of that call (EFAULT,
 *   thrown as ENOSPC: the log truncates back and answers KAFKA_STORAGE_ERROR) instead of a SIGBUS
 *   on a store. A page once populated keeps its reservation (or its block, after writeback), so
 *   later stores to it cannot fail for space. (Measured on a full 8 MiB ext4 image: the populate
 *   call fails with EFAULT at the last free block, the bytes written before it fsync fine.) Blocks
 *   are allocated by writeback, off the JS thread, as for pwrite (fallocate here cost the JS thread
 *   block-bitmap reads, and a synchronous discard when the unused tail was freed at seal).
 * - The bytes are in the page cache when `write` returns, as after pwrite: they survive a crash
 *   of the process (writesReachKernelOnReturn), and fdatasync writes the mapping's dirty pages.
 * - The file is longer than its data while active: the tail reads as zeros. `seal` and `close`
 *   cut the file to the data; after a crash, recovery (src/log/segment.ts) stops at the first zero
 *   header and truncates there, as it does for a torn write.
 * - Nothing but `write` touches the mapping (one memcpy through bun:ffi; JS holds no view of it):
 *   reads are preads (the page cache is shared), and truncating the file cannot leave anybody
 *   holding pages past its end. Only a window of pages around the append position stays mapped
 *   (RSS stays small).
 * - What remains: a page evicted after writeback and unreadable (a disk read error) would raise
 *   SIGBUS on the next store to it instead of an EIO from pwrite. Only the page holding the
 *   append position is ever stored to again, and it was written within the last window.
 * Only `*.log` files are mapped; index files are written 64 entries at a time and stay on pwrite.
 * Where the mapping calls are unavailable or mmap fails (address space or map count limits), the
 * file falls back to the plain pwrite file of segment-file.ts for good.
 */
import * as fs from "node:fs";
import { fileMapping, type FileMapping } from "../native/file-mapping.ts";
import { dropCachedAsync, writeBehindAsync } from "../native/index.ts";
import { PageCacheWarmer, WarmRange } from "./page-cache-warmer.ts";
import { checkCut, DROP_BEHIND_KEEP_BYTES, fdSegmentFileFactory, PAGE_BYTES, preadUpTo, pwriteAll, WRITE_BEHIND_BYTES, writeBehindCounters } from "./segment-file.ts";
import type { SegmentFile, SegmentFileFactory } from "./segment-file.ts";

/**
 * Appends of at least this many bytes use pwrite. A page first written through the mapping costs
 * the kernel more than a page written by pwrite (page fault-in through the mapping), so
 * the mapping wins only where pwrite's per-call cost dominates: below ~1.5 KiB per append
 * (`bun bench/mapped-append.bench.ts`: 1 KiB 0.67-1.0x pwrite's CPU, 2 KiB 0.7-1.2x, 16 KiB 2.8-2.9x).
 * That is what many partitions produce: one 1 KiB record per partition and request.
 */
const MAPPED_BELOW_BYTES = 2048;
/** Address space reserved per mapped file; appends past it (segment.bytes above 1 GiB) use pwrite. */
const MAPPING_BYTES = 1 << 30;
/** Steps the file's size moves ahead by: 64-128 KiB, doubling to 4 MiB (few calls for a busy partition). */
const FIRST_STEP = 64 * 1024;
const MAX_STEP = 4 * 1024 * 1024;
/** Pages kept mapped ahead of the append position (64-128 KiB, pre-faulted in one call). */
const WINDOW = 64 * 1024;
/**
 * Which appends keep the page cache warmed ahead (page-cache-warmer.ts): those through the mapping
 * (whose window populate otherwise allocates and zero-fills the sparse tail's pages on the JS
 * thread: 11 % of the broker's samples in `memset` under `madvise` at 100 partitions when new pages
 * were slow; e2e p99 at 100 x 60 MiB/s 75-361 ms unwarmed, 5-38 warmed) and pwrites of at least
 * this many bytes (large batches, the throughput regime). Mid-size pwrites (a busy partition's
 * ~10-75 KiB batches) do not: warming them cost the one-partition p99 at 10 MiB/s (1.07-1.15 ms
 * warmed vs 1.01 ms not), the worker pool's bursts taking the other core.
 */
const WARM_MIN_APPEND_BYTES = 128 * 1024;

const pageFloor = (n: number): number => n - (n % PAGE_BYTES);
/**
 * A random number of whole pages below `bytes`. Allocation steps and windows are jittered so that
 * partitions written at the same rate do not all cross a boundary in the same request: in lockstep
 * the 1000 partitions of the benchmark paid their madvise and growth calls in bursts of tens of
 * ms every second (e2e p99 0.4-1 s at 1000 partitions x 60 MiB/s, against 60-80 ms jittered).
 */
const jitter = (bytes: number): number => PAGE_BYTES * Math.floor(Math.random() * (bytes / PAGE_BYTES));

/** Counters (benchmarks and tests). */
export const mappedIoCounters = { appends: 0, windows: 0, fallbacks: 0, populatedAhead: 0 };

export class MappedSegmentFile implements SegmentFile {
  private fd: number;
  size: number;
  /** File length: data plus the sparse tail. Writes through the mapping stay below it. */
  private length: number;
  /** [mappedFrom, mappedTo): the window of pages this process maps; appends below mappedTo need no call. */
  private mappedFrom: number;
  private mappedTo: number;
  /** Address of the mapping (0 while unmapped). */
  private address = 0;
  private step = FIRST_STEP + jitter(FIRST_STEP);
  /** Set once mapping failed (or the file outgrew the mapping): plain pwrite from then on. */
  private unmappable = false;
  /** The sparse tail being read into the page cache ahead of the writer (null: no warmer). */
  private readonly warmRange: WarmRange | null;
  /** False once sealed (or a tail could not be kept): no more tail ahead. */
  private warming: boolean;
  /** A populate of the pages past mappedTo runs on the worker pool (see populateAhead). */
  private aheadInFlight = false;
  /** A mapping released while that populate ran: unmapped once it has returned. */
  private unmapWhenIdle = 0;
  /** Counts cuts of the file: a populate that started before one does not move mappedTo. */
  private cuts = 0;
  /** Write-behind: the data below this offset has had its writeback started (or was there at open). */
  private writtenBehind: number;
  private behindInFlight = false;
  /** The data below this offset has been dropped from the page cache (or was there at open). */
  private droppedBelow: number;

  constructor(
    readonly path: string,
    private readonly calls: FileMapping,
    /** Appends this large or larger use pwrite (benchmarks move it to compare both paths). */
    private readonly mappedBelowBytes = MAPPED_BELOW_BYTES,
    /** Brings the sparse tail's pages in off the JS thread (page-cache-warmer.ts); null: not at all. */
    private readonly warmer: PageCacheWarmer | null = null,
  ) {
    this.fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    this.size = fs.fstatSync(this.fd).size;
    this.length = this.size;
    this.mappedFrom = this.mappedTo = pageFloor(this.size);
    this.warmRange = warmer !== null ? new WarmRange(this.fd) : null;
    this.warming = this.warmRange !== null;
    this.writtenBehind = pageFloor(this.size);
    this.droppedBelow = this.writtenBehind;
  }

  write(buf: Uint8Array): void {
    const end = this.size + buf.length;
    let mapped = false;
    if (buf.length >= this.mappedBelowBytes || (end > this.mappedTo && !this.moveWindow(end))) {
      this.pwrite(buf);
    } else {
      if (buf.length > 0) this.calls.copy(this.address + this.size, buf);
      this.size = end;
      mappedIoCounters.appends++;
      mapped = true;
      if (this.warmer !== null && this.mappedTo - this.size < WINDOW) this.populateAhead();
    }
    // mapped and large appends warm the tail ahead; mid-size pwrites do not (see WARM_MIN_APPEND_BYTES)
    if (this.warming && (mapped || buf.length >= WARM_MIN_APPEND_BYTES) && this.length - this.size < this.step / 2) this.extendAhead();

    if (this.warmRange !== null && this.size - this.writtenBehind >= WRITE_BEHIND_BYTES && !this.behindInFlight) this.writeBehind();
  }

  /**
   * With a warmer: starts the writeback of the whole pages written since the last call, on the
   * addon's low-priority write-behind thread (native/src/page_cache.rs), so a segment's data
   * reaches the disk WRITE_BEHIND_BYTES at a time while it is written. Without it a 1 GiB segment
   * was written back all at once by the fsync after its roll (and the kernel's 30 s expiry): at 1
   * partition × 60 MiB/s the broker's event loop stalled 10-27 ms in the seconds after each roll,
   * e2e p99 4.0 / 7.7 ms against 2.4 / 2.5 ms in runs without a roll (bench/RESULTS.md, session
   * 20). Only starts writes of data already in the page cache: nothing is acknowledged differently,
   * and a failed call is ignored (the flush that follows reports an I/O error). One write-behind
   * call per file at a time; the descriptor stays open for it (and for a drop).
   *
   * Then, on the same thread after it, the data more than DROP_BEHIND_KEEP_BYTES below the append
   * position is written back (waited for) and dropped from the page cache, so the pages the writer
   * takes next are the ones it just gave back (see DROP_BEHIND_KEEP_BYTES). Only clean pages go;
   * a read of that data later comes from the disk.
   */
  private writeBehind(): void {
    const from = this.writtenBehind;
    const to = pageFloor(this.size);
    if (to <= from) return;
    this.writtenBehind = to;
    this.behindInFlight = true;
    writeBehindCounters.calls++;
    writeBehindCounters.bytes += to - from;
    this.holdingDescriptor(
      () => writeBehindAsync(this.fd, from, to - from),
      () => (this.behindInFlight = false),
    );
    const dropTo = Math.min(from, to - DROP_BEHIND_KEEP_BYTES);
    if (dropTo - this.droppedBelow >= WRITE_BEHIND_BYTES) {
      const dropFrom = this.droppedBelow;
      this.droppedBelow = dropTo;
      writeBehindCounters.dropCalls++;
      writeBehindCounters.droppedBytes += dropTo - dropFrom;
      this.holdingDescriptor(() => dropCachedAsync(this.fd, dropFrom, dropTo - dropFrom));
    }
  }

  /**
   * Starts `call` on the descriptor and keeps the descriptor open until it returns (or was refused);
   * `returned` runs then. The call's result is ignored (see writeBehind).
   */
  private holdingDescriptor(call: () => Promise<number>, returned: () => void = () => {}): void {
    const range = this.warmRange!;
    range.hold();
    const done = () => {
      returned();
      range.release();
    };
    try {
      call().then(done, done);
    } catch {
      done();
    }
  }

  /**
   * With a warmer: keeps at least half a step of sparse tail ahead of the append position and has
   * the warmer read each new stretch of it into the page cache, so the writes that follow land in
   * pages that exist. The append itself is done: a failure here (a file size limit) only stops
   * the warming of this file.
   */
  private extendAhead(): void {
    // Not while this file's readahead runs: growing the file waits for it (ext4 takes the mapping's
    // invalidate lock for a size change, readahead holds it shared), which stalled the JS thread
    // for the length of a readahead call when new pages were slow. The append after it retries.
    if (this.warmRange!.busy) return;
    const from = this.length;
    const target = Math.min(MAPPING_BYTES, from + this.step);
    if (target <= Math.max(from, this.size)) return; // past the mapping's span: no tail kept
    try {
      this.growTo(target);
    } catch {
      this.stopWarming();
      return;
    }
    this.warmer!.warm(this.warmRange!, from, target);
  }

  /**
   * With a warmer: has the worker pool fault the next window's pages in writable (the same
   * MADV_POPULATE_WRITE as moveWindow), so that appends reaching them find them mapped and the JS
   * thread makes no call. The window populates were 8.5-9 % of the broker's CPU profile at 100
   * partitions x 50 MiB/s (ext4's page_mkwrite, the inode time update, the page table), on the
   * event loop. mappedTo moves only once the call has succeeded, and only if the file was not cut
   * or unmapped meanwhile; a failure (a full disk) is left to the next window on the JS thread,
   * which throws it where an append can answer. One call per file at a time; the mapping is not
   * unmapped while it runs (release), so its address can never be reused under it. The same call
   * first unmaps the written pages behind the append position (releaseBehind's work, counted as
   * done when it is sent: a failure only leaves pages mapped).
   */
  private populateAhead(): void {
    if (this.aheadInFlight || this.address === 0) return;
    const from = this.mappedTo;
    const to = Math.min(this.length, from + WINDOW + jitter(WINDOW));
    if (to <= from) {
      this.releaseBehind();
      return;
    }
    const start = pageFloor(from);
    const address = this.address;
    // the written pages behind go in the same call, off the event loop (see releaseBehind): at 100
    // partitions x 50 MiB/s that was ~560 madvise calls a second on the JS thread
    const releaseFrom = this.mappedFrom;
    const releaseTo = Math.max(releaseFrom, pageFloor(this.size));
    this.mappedFrom = releaseTo;
    const cuts = this.cuts;
    this.aheadInFlight = true;
    const settled = (errno: number): void => {
      this.aheadInFlight = false;
      if (this.unmapWhenIdle !== 0) {
        const idle = this.unmapWhenIdle;
        this.unmapWhenIdle = 0;
        try {
          this.calls.unmap(idle, MAPPING_BYTES);
        } catch {
          // nothing to do for an unmap that failed: the address space stays reserved
        }
        return;
      }
      if (errno === 0 && cuts === this.cuts && address === this.address && to > this.mappedTo && to <= this.length) {
        this.mappedTo = to;
        mappedIoCounters.populatedAhead++;
      }
    };
    this.calls.populateAsync(address + start, to - start, address + releaseFrom, releaseTo - releaseFrom).then(settled, () => settled(-1));
  }

  /**
   * Unmaps the written pages behind the append position, at each window moved on the JS thread or
   * populated ahead: with the windows populated ahead moveWindow hardly runs, and a first version
   * left every page written mapped — the process's RSS grew by the active segments (1644 against
   * 1025 MiB peak in a grid). A failure only leaves pages mapped.
   */
  private releaseBehind(): void {
    const from = pageFloor(this.size);
    if (from <= this.mappedFrom) return;
    try {
      this.calls.release(this.address + this.mappedFrom, from - this.mappedFrom);
      this.mappedFrom = from;
    } catch {
      // still mapped; the next window tries again
    }
  }

  /** Nothing more is read ahead; the range keeps the descriptor until close() (see WarmRange.close). */
  private stopWarming(): void {
    this.warming = false;
    this.warmRange?.clip(0);
  }

  /**
   * Makes [size, end) writable through the mapping: maps on first use, grows the file when
   * needed, pre-faults the pages up to `end` (at least WINDOW ahead) and unmaps the pages behind
   * the append position: they are written, the page cache keeps them, and a process that kept
   * every page it ever wrote mapped would show the whole active segment in its RSS.
   * False when this file must use pwrite instead; throws (e.g. ENOSPC) when the disk refuses.
   */
  private moveWindow(end: number): boolean {
    if (this.unmappable || end > MAPPING_BYTES) return false;
    if (this.address === 0) {
      try {
        this.address = this.calls.map(this.fd, MAPPING_BYTES);
      } catch {
        this.unmappable = true;
        mappedIoCounters.fallbacks++;
        return false;
      }
    }
    if (end > this.length) {
      // the tail ran out while this file's readahead runs: growing the file now would wait for it
      // (see extendAhead), so this append takes pwrite, which extends the file without that lock
      if (this.warmRange?.busy === true) return false;
      this.extend(end);
    }
    this.releaseBehind();
    const from = pageFloor(this.size);
    const to = Math.min(this.length, Math.max(end, from + WINDOW + jitter(WINDOW)));
    // Throws (ENOSPC) when a page cannot be reserved; the window then ends where it did, so no
    // store reaches a page that was not populated.
    this.calls.populate(this.address + from, to - from);
    this.mappedTo = to;
    mappedIoCounters.windows++;
    return true;
  }

  /** Moves the file's size to the next step (at least to `end`); throws EFBIG past a file size limit. */
  private extend(end: number): void {
    const target = Math.min(MAPPING_BYTES, Math.max(end, this.length + this.step));
    try {
      this.growTo(target);
    } catch (err) {
      // Near a file size limit the step may not fit where this append does: take just what it needs.
      if ((err as NodeJS.ErrnoException).code !== "EFBIG" || target === end) throw err;
      fs.ftruncateSync(this.fd, end);
      this.length = end;
      this.step = Math.min(MAX_STEP, this.step * 2);
    }
  }

  /** ftruncate up to `target` (the sparse tail); the next step doubles. Throws what ftruncate throws. */
  private growTo(target: number): void {
    fs.ftruncateSync(this.fd, target);
    this.length = target;
    this.step = Math.min(MAX_STEP, this.step * 2);
  }

  /** At the append position, over the sparse tail or past it (the page cache is the mapping's). */
  private pwrite(buf: Uint8Array): void {
    pwriteAll(this.fd, buf, this.size);
    this.size += buf.length;
    this.length = Math.max(this.length, this.size);
  }

  /** Positioned read: the page cache holds what the mapping wrote, so pread sees it at once. */
  read(position: number, length: number, into?: Uint8Array): Uint8Array {
    return preadUpTo(this.fd, position, Math.max(0, Math.min(length, this.size - position)), into);
  }

  truncate(size: number): void {
    checkCut(size, this.size);
    this.cutTo(size);
    this.size = size;
  }

  /** ftruncate; the kernel unmaps whatever lay past the new end, so the window shrinks with it. */
  private cutTo(length: number): void {
    fs.ftruncateSync(this.fd, length);
    this.length = length;
    this.cuts++;
    this.warmRange?.clip(length);
    this.mappedTo = Math.min(this.mappedTo, length);
    this.mappedFrom = Math.min(this.mappedFrom, pageFloor(length));
    this.writtenBehind = Math.min(this.writtenBehind, pageFloor(length));
    this.droppedBelow = Math.min(this.droppedBelow, this.writtenBehind);
  }

  /** No more appends: drop the sparse tail and the mapping. */
  seal(): void {
    this.stopWarming();
    this.release();
  }

  private release(): void {
    if (this.length > this.size) this.cutTo(this.size);
    if (this.address !== 0) {
      const address = this.address;
      this.address = 0;
      this.unmappable = true; // a sealed file is never appended to again; if it were, pwrite is right
      // a populate on the worker pool still runs on this mapping: unmapped when it returns
      if (this.aheadInFlight) this.unmapWhenIdle = address;
      else this.calls.unmap(address, MAPPING_BYTES);
    }
  }

  datasync(): Promise<void> {
    return new Promise((resolve, reject) => {
      fs.fdatasync(this.fd, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): void {
    if (this.fd < 0) return;
    try {
      this.release();
    } finally {
      // with a warmer, the range closes the descriptor once no read of it is in flight
      if (this.warmRange !== null) this.warmRange.close();
      else fs.closeSync(this.fd);
      this.fd = -1;
    }
  }
}

/** Maps `*.log` files when the mapping calls are available; everything else is a pwrite file. */
export function mappedSegmentFileFactory(warmAhead = true): SegmentFileFactory | null {
  const calls = fileMapping();
  if (calls === null) return null;
  const warmer = warmAhead ? new PageCacheWarmer() : null;
  return {
    open: (path) => (path.endsWith(".log") ? new MappedSegmentFile(path, calls, MAPPED_BELOW_BYTES, warmer) : fdSegmentFileFactory.open(path)),
    writesReachKernelOnReturn: true,
  };
}
