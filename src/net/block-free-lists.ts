/**
 * Free lists of reusable memory blocks by size, bounded in total bytes: the part the request-frame
 * pool (src/net/frame-pool.ts) and the response-block pool (src/protocol/writer.ts `BufferPool`)
 * share. Each pool keeps its own ownership rules (who may still read a block); this only stores
 * blocks nobody uses any more and hands them out again, so hot paths touch memory that is already
 * mapped instead of fresh pages (a page fault costs microseconds on this VM).
 */
export class BlockFreeLists {
  private readonly free = new Map<number, Uint8Array[]>();
  private freeBytes = 0;

  /** @param maxFreeBytes most bytes kept (beyond it, given-back blocks are dropped for the GC) */
  constructor(private readonly maxFreeBytes: number) {}

  /** A free block of exactly `size` bytes, else null. */
  take(size: number): Uint8Array | null {
    const block = this.free.get(size)?.pop();
    if (block === undefined) return null;
    this.freeBytes -= size;
    return block;
  }

  /** A fresh block of `size` bytes: a dedicated ArrayBuffer, not zero-filled (only written bytes are read). */
  static allocate(size: number): Uint8Array {
    return new Uint8Array(Buffer.allocUnsafeSlow(size).buffer, 0, size);
  }

  /** Keeps `block` (its whole ArrayBuffer) for reuse, unless the lists are full. */
  give(block: Uint8Array): void {
    const size = block.length;
    if (this.freeBytes + size > this.maxFreeBytes) return;
    let list = this.free.get(size);
    if (list === undefined) {
      list = [];
      this.free.set(size, list);
    }
    list.push(block);
    this.freeBytes += size;
  }
}
