/**
 * The memory tier: the newest batches of every partition, kept in one bounded pool so that
 * consumers reading at the tail are answered without touching the disk. Each partition holds a
 * contiguous run of its latest batches (appends add at the end, eviction takes from the front),
 * so a read at or after the oldest cached batch is served wholly from memory.
 *
 * Fairness: when the pool is over budget, bytes are taken from the partition holding the most,
 * so every partition keeps at least an equal share (max-min fair) and one busy partition cannot
 * push the quiet ones' tails out. Reads give the same bytes and batch boundaries as
 * Segment.readBatches (at least one batch, KIP-74; then whole batches within maxBytes; none
 * whose last offset is >= upTo).
 */

export interface HotBatch {
  baseOffset: number;
  lastOffset: number;
  /** Position inside the appended buffer. */
  position: number;
  length: number;
}

export interface HotCacheStats {
  hits: number;
  misses: number;
  bytes: number;
  partitions: number;
}

interface Entry {
  base: number;
  last: number;
  bytes: Uint8Array;
}

export class PartitionHotCache {
  private entries: Entry[] = [];
  private head = 0;
  bytes = 0;

  constructor(private readonly pool: HotCache) {}

  get size(): number {
    return this.entries.length - this.head;
  }

  /** The offset after the newest cached batch, or -1 when empty. */
  get nextOffset(): number {
    const last = this.entries[this.entries.length - 1];
    return this.size === 0 || last === undefined ? -1 : last.last + 1;
  }

  /** Caches the batches of an append (copied once; the caller's buffer may be reused). */
  append(buf: Uint8Array, batches: readonly HotBatch[]): void {
    if (batches.length === 0) return;
    const first = batches[0] as HotBatch;
    if (this.size > 0 && first.baseOffset !== this.nextOffset) this.clear(); // not contiguous: restart
    const lastB = batches[batches.length - 1] as HotBatch;
    const start = first.position;
    const copy = buf.slice(start, lastB.position + lastB.length);
    for (const b of batches) {
      this.entries.push({ base: b.baseOffset, last: b.lastOffset, bytes: copy.subarray(b.position - start, b.position - start + b.length) });
      this.bytes += b.length;
    }
    this.pool.grew(this, copy.length);
  }

  /** Whole batches from the one containing `offset`, or null when that batch is not cached. */
  read(offset: number, maxBytes: number, upTo: number): Uint8Array | null {
    if (this.size === 0) return null;
    const firstEntry = this.entries[this.head] as Entry;
    if (offset < firstEntry.base || offset >= this.nextOffset) {
      this.pool.misses++;
      return null;
    }
    let lo = this.head;
    let hi = this.entries.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.entries[mid] as Entry).last < offset) lo = mid + 1;
      else hi = mid;
    }
    const picked: Uint8Array[] = [];
    let total = 0;
    for (let i = lo; i < this.entries.length; i++) {
      const e = this.entries[i] as Entry;
      if (e.last >= upTo) break;
      if (picked.length > 0 && total + e.bytes.length > maxBytes) break;
      picked.push(e.bytes);
      total += e.bytes.length;
      if (total >= maxBytes) break;
    }
    this.pool.hits++;
    if (picked.length === 0) return new Uint8Array(0);
    if (picked.length === 1) return picked[0] as Uint8Array;
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of picked) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  /** Drops the oldest batch; returns its size. */
  evictOldest(): number {
    const e = this.entries[this.head];
    if (e === undefined) return 0;
    this.entries[this.head] = undefined as unknown as Entry;
    this.head++;
    this.bytes -= e.bytes.length;
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    return e.bytes.length;
  }

  clear(): void {
    const freed = this.bytes;
    this.entries = [];
    this.head = 0;
    this.bytes = 0;
    this.pool.shrank(freed);
  }

  /** The partition is gone: frees its memory and leaves the pool. */
  release(): void {
    this.clear();
    this.pool.remove(this);
  }
}

export class HotCache {
  private readonly partitions = new Set<PartitionHotCache>();
  private total = 0;
  hits = 0;
  misses = 0;

  constructor(readonly maxBytes: number) {}

  partition(): PartitionHotCache {
    const p = new PartitionHotCache(this);
    this.partitions.add(p);
    return p;
  }

  stats(): HotCacheStats {
    return { hits: this.hits, misses: this.misses, bytes: this.total, partitions: this.partitions.size };
  }

  /** Hit rate of reads so far (0 when none). */
  hitRate(): number {
    const n = this.hits + this.misses;
    return n === 0 ? 0 : this.hits / n;
  }

  /** @internal */
  grew(_p: PartitionHotCache, bytes: number): void {
    this.total += bytes;
    if (this.total > this.maxBytes) this.evict();
  }

  /** @internal */
  shrank(bytes: number): void {
    this.total -= bytes;
  }

  /** @internal */
  remove(p: PartitionHotCache): void {
    this.partitions.delete(p);
  }

  private evict(): void {
    while (this.total > this.maxBytes) {
      let biggest: PartitionHotCache | null = null;
      for (const p of this.partitions) if (biggest === null || p.bytes > biggest.bytes) biggest = p;
      if (biggest === null || biggest.bytes === 0) return;
      // Down to the fair share (or until the pool fits), then look again.
      const share = this.maxBytes / this.partitions.size;
      do this.total -= biggest.evictOldest();
      while (this.total > this.maxBytes && biggest.bytes > share && biggest.size > 0);
    }
  }
}
