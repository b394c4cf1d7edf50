/**
 * Reusable buffers for large request frames. A fresh 256 KiB allocation costs this VM about 60-75 µs
 * of page faults (bench/RESULTS.md, "Frames and engine batching"), more than copying the bytes into
 * memory that is already mapped (about 11 µs), so frames that must be reassembled from several
 * socket reads go into pooled blocks that are handed back once nobody reads the frame any more.
 *
 * Ownership is counted: `acquire` returns a view with one hold (the connection's, released when the
 * request's response was produced); code that keeps reading the bytes later (the produce path until
 * the covering write/sync completed) adds a hold with `hold` and gives it back with the function it
 * returns. Only when the count reaches zero does the block go back to the free list. A hold that is
 * never released only costs the block (the garbage collector takes it); a release while the bytes
 * are still in use would corrupt them, so the connection pools only frames of APIs whose handlers
 * are known to copy what they keep (Produce: the log copies or holds; see 00-produce.ts).
 *
 * Blocks are plain Uint8Arrays (not Buffers), so `slice` on a frame or a view of it copies.
 */

import { BlockFreeLists } from "./block-free-lists.ts";

/** Frames below this size are not pooled (small allocations come from the heap, not fresh pages). */
export const POOL_MIN_FRAME = 32 * 1024;
const MIN_CLASS = 64 * 1024;

interface Lease {
  holds: number;
  block: Uint8Array;
}

export class FramePool {
  private readonly free: BlockFreeLists;
  private readonly leases = new WeakMap<ArrayBuffer, Lease>();
  /** Counters for tests and benchmarks. */
  readonly stats = { acquired: 0, reused: 0, released: 0 };

  /**
   * @param maxFreeBytes most bytes kept on the free lists (beyond it, released blocks are dropped)
   * @param maxBlockBytes frames above this size are allocated unpooled
   */
  constructor(
    maxFreeBytes = 16 * 1024 * 1024,
    private readonly maxBlockBytes = 16 * 1024 * 1024,
  ) {
    this.free = new BlockFreeLists(maxFreeBytes);
  }

  /** Whether a frame of `n` bytes would come from the pool. */
  pools(n: number): boolean {
    return n >= POOL_MIN_FRAME && n <= this.maxBlockBytes;
  }

  /** A view of `n` bytes (contents undefined) with one hold. */
  acquire(n: number): Uint8Array {
    const size = classOf(n);
    let block = this.free.take(size);
    if (block !== null) this.stats.reused++;
    else block = BlockFreeLists.allocate(size);
    this.stats.acquired++;
    this.leases.set(block.buffer as ArrayBuffer, { holds: 1, block });
    return block.subarray(0, n);
  }

  /**
   * Adds a hold on the pooled frame `view` points into and returns the function that gives it
   * back (idempotent); null when `view` is not in a pooled frame (nothing to hold).
   */
  hold(view: Uint8Array): (() => void) | null {
    const buffer = view.buffer as ArrayBuffer;
    const lease = this.leases.get(buffer);
    if (lease === undefined) return null;
    lease.holds++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.drop(buffer, lease);
    };
  }

  /** Gives back the hold `acquire` returned with `view`. */
  release(view: Uint8Array): void {
    const buffer = view.buffer as ArrayBuffer;
    const lease = this.leases.get(buffer);
    if (lease !== undefined) this.drop(buffer, lease);
  }

  /** True when `view` points into a block currently leased from this pool. */
  owns(view: Uint8Array): boolean {
    return this.leases.has(view.buffer as ArrayBuffer);
  }

  private drop(buffer: ArrayBuffer, lease: Lease): void {
    if (--lease.holds > 0) return;
    this.leases.delete(buffer);
    this.stats.released++;
    this.free.give(lease.block);
  }
}

function classOf(n: number): number {
  let size = MIN_CLASS;
  while (size < n) size *= 2;
  return size;
}

/** The process-wide pool the broker's connections use. */
export const framePool = new FramePool();
