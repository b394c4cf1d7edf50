/**
 * The only place the log touches file descriptors for segment data. Everything above it sees
 * `SegmentFile`, so the backend is a local choice: this file's `fdSegmentFileFactory` (the "js"
 * backend: writes on the JS thread, fdatasync on the libuv threadpool), or the native engine of
 * native-segment-file.ts (io_uring or pwrite on a native thread; `bunka.log.io`), or a fault
 * injector in tests.
 */
import * as fs from "node:fs";

export interface SegmentFile {
  readonly path: string;
  /** Bytes in the file as far as this process knows (the append position). */
  readonly size: number;
  /**
   * Appends all of `buf` at `size` (which moves at once); throws on an error it sees now (the
   * caller then truncates back). Asynchronous backends report later errors through `datasync`.
   * The caller must not modify `buf` afterwards.
   */
  write(buf: Uint8Array): void;
  /**
   * Reads up to `length` bytes at `position`; returns fewer at end of file. Sees every write made.
   * With `into` (at least `length` bytes) the bytes may land there (the result is then a view of
   * it, valid until `into` is reused); a backend may ignore it and return a fresh buffer.
   */
  read(position: number, length: number, into?: Uint8Array): Uint8Array;
  /** Cuts the file to `size` bytes (0 ≤ size ≤ this.size; anything else throws RangeError, nothing cut). */
  truncate(size: number): void;
  /** fdatasync off the JS thread; covers every write that returned before it; rejects on any error. */
  datasync(): Promise<void>;
  /**
   * Joins the backend's next write barrier, shared with the other files joined in the same turn:
   * it settles once every write that returned before the barrier was submitted is in the kernel
   * (no fsync); `errorOf(this)` then tells whether this file's writes failed. Only backends whose
   * writes are asynchronous have it (see writeBarriers).
   */
  joinWriteBarrier?(): WriteBarrier;
  /** The segment takes no more appends (it was rolled): a backend may release what appends needed. */
  seal?(): void;
  close(): void;
}

/** A write barrier several files share (see SegmentFile.joinWriteBarrier). */
export interface WriteBarrier {
  /** True until the barrier is submitted: a file joining it now is still covered. */
  readonly open: boolean;
  /** Runs `cb` once every member's writes completed (or failed). */
  whenSettled(cb: () => void): void;
  /** The write error of member `file`, or null when its writes reached the kernel. */
  errorOf(file: SegmentFile): Error | null;
}

export interface SegmentFileFactory {
  /** Opens (creating when missing) the file for reading and appending. */
  open(path: string): SegmentFile;
  /**
   * True when `write` has handed the bytes to the kernel by the time it returns (they survive a
   * crash of this process). Flush-interval mode acknowledges on that alone; a backend without it
   * gets acknowledgements only after fdatasync (see PartitionLog.acksWaitForSync).
   */
  readonly writesReachKernelOnReturn?: boolean;
  /**
   * True when files have `joinWriteBarrier`: flush-interval mode then acknowledges once a barrier
   * says the bytes are in the kernel, instead of waiting for fdatasync.
   */
  readonly writeBarriers?: boolean;
}

/**
 * Throws unless `size` is a whole number in [0, current]: a truncate may only cut. Checked before
 * any call, because the runtime's ftruncate takes a negative length as 0 without an error, and a
 * negative append position would then send the mapped backend's next store in front of its
 * mapping (a segfault the unit tests once hit through a miscomputed size).
 */
export function checkCut(size: number, current: number): void {
  if (!Number.isInteger(size) || size < 0 || size > current) throw new RangeError(`truncate to ${size}: not a cut of a file of ${current} bytes`);
}

/**
 * Write-behind step of flush-interval segments (MappedSegmentFile, and NativeSegmentFile when a
 * flush-interval log keeps the engine): how much newly written, unsynced data starts its writeback
 * at once, so a segment's fdatasync at its roll does not find a whole segment dirty.
 */
export const WRITE_BEHIND_BYTES = 8 * 1024 * 1024;
/** The page size write-behind ranges and mapping windows are aligned to. */
export const PAGE_BYTES = 4096;
/** Write-behind calls and the bytes they covered; drop calls and the bytes they covered (benchmarks and tests). */
export const writeBehindCounters = { calls: 0, bytes: 0, dropCalls: 0, droppedBytes: 0 };
/**
 * How much of a flush-interval segment's newest data, below its append position, stays in the
 * page cache when write-behind is on; older data is dropped once written back (MappedSegmentFile).
 * Why: on a VM whose free memory goes back to the host, every new page-cache page the writer takes
 * is a fault in the host, and a writer whose page cache only grows writes at 0.4 GiB/s there; one
 * that gives its written-back pages back takes them again at once, still backed, at 1.8 GiB/s
 * (bench/RESULTS.md, session 25). Tail readers are served by the memory tier (bunka.hot.cache.bytes).
 */
export const DROP_BEHIND_KEEP_BYTES = 64 * 1024 * 1024;

/** All of `buf` at `position` with pwrite: a short write (e.g. disk nearly full) loops until an error. */
export function pwriteAll(fd: number, buf: Uint8Array, position: number): void {
  let done = 0;
  while (done < buf.length) done += fs.writeSync(fd, buf, done, buf.length - done, position + done);
}

/**
 * `n` bytes at `position` with pread (looping over short reads); fewer only at the end of the file.
 * Into `into` when it holds `n` bytes, else into a fresh buffer.
 */
export function preadUpTo(fd: number, position: number, n: number, into?: Uint8Array): Uint8Array {
  const out = into !== undefined && into.length >= n ? into.subarray(0, n) : Buffer.allocUnsafe(n);
  let done = 0;
  while (done < n) {
    const r = fs.readSync(fd, out, done, n - done, position + done);
    if (r === 0) break;
    done += r;
  }
  return done === n ? out : out.subarray(0, done);
}

/** Calls made by the js backend (benchmarks compare them with the native engine's counters). */
export const jsIoCounters = { writes: 0, fdatasyncs: 0 };

class FdSegmentFile implements SegmentFile {
  private fd: number;
  size: number;

  constructor(readonly path: string) {
    this.fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    this.size = fs.fstatSync(this.fd).size;
  }

  write(buf: Uint8Array): void {
    pwriteAll(this.fd, buf, this.size);
    this.size += buf.length;
    jsIoCounters.writes++;
  }

  read(position: number, length: number, into?: Uint8Array): Uint8Array {
    return preadUpTo(this.fd, position, Math.max(0, Math.min(length, this.size - position)), into);
  }

  truncate(size: number): void {
    checkCut(size, this.size);
    fs.ftruncateSync(this.fd, size);
    this.size = size;
  }

  datasync(): Promise<void> {
    jsIoCounters.fdatasyncs++;
    return new Promise((resolve, reject) => {
      fs.fdatasync(this.fd, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): void {
    if (this.fd >= 0) {
      fs.closeSync(this.fd);
      this.fd = -1;
    }
  }
}

export const fdSegmentFileFactory: SegmentFileFactory = {
  open: (path) => new FdSegmentFile(path),
  writesReachKernelOnReturn: true,
};
