/**
 * The memory tier: the newest batches of every partition, kept in one bounded pool so that
 * consumers reading at the tail are answered without touching the disk. Each partition holds a
 * contiguous run of its latest batches (appends add at the end, eviction takes from the front),
 * so a read at or after the oldest cached batch is served wholly from memory.
 *
 * Fairness: when the pool is over budget, bytes are taken from the partition holding the most,
 * so every partition keeps at least an equal share (max-min fair, to within one slab) and one busy
 * partition cannot push the quiet ones' tails out. Reads give the same bytes and batch boundaries as
 * Segment.readBatches (at least one batch, KIP-74; then whole batches within maxBytes; none
 * whose last offset is >= upTo).
 *
 * Memory: appends are copied into per-partition slabs (one `set` per append, no allocation per append),
 * 16 KiB at first, doubling up to 1 MiB but never above a quarter of the partition's fair share
 * (maxBytes / partitions), so eviction stays fine-grained with many partitions. An append that
 * does not fit the newest slab starts a new one; eviction drops the oldest slab whole. An append
 * larger than the largest slab is not cached (the partition's cached run starts over after it):
 * it would push out the partition's whole history for one batch, and when each append took a slab
 * of its own size (256 KiB batches of an unthrottled producer at 1000 partitions, 64 KiB slabs)
 * the pool allocated a fresh slab per append and dropped another, which halved the broker's
 * maximum there and left seconds of 50-300 ms loop stalls behind (bench/RESULTS.md, session 12). A slab
 * given back with no view out (evicted, or its partition's run started over) waits, idle, for the
 * next take() of its size; when the pool is full, idle slabs of other sizes are dropped before
 * anything is evicted, so at steady state the produce path touches no fresh memory. A read whose batches
 * lie in one slab is answered with a view into it (no copy, a loan: see below); a read across
 * slabs is a copy.
 *
 * Accounting rule: the pool counts the full capacity of every slab a partition holds (including
 * the unfilled end of its newest slab) and keeps that total plus its idle slabs within maxBytes
 * (bunka.hot.cache.bytes). A slab leaves the partitions' count (`stats().bytes`) when evicted or
 * cleared (so clear() and release() bring it back to 0); idle ones are memory kept for reuse.
 *
 * Views and reuse: a slab counts the views reads lent out of it (src/util/lent-views.ts); readers
 * give a view back once it is dead (copied into a Fetch response, or written to the socket). An
 * evicted slab is reused only with no view out; one with a view still out (a slow socket, a read
 * held across a remote-tier await, a caller that never gives back) is dropped instead and lives on
 * outside the budget only until its readers let go. Before views were given back, a consumer at the
 * tail kept every slab lent, so the cache allocated fresh memory at the produce rate
 * (bench/hot-cache-churn.bench.ts).
 *
 * Finding the biggest partition is a max-heap keyed by held bytes; a partition's bytes change only
 * when it gains or drops a slab (every few appends), so keeping the heap costs O(log partitions)
 * per slab rather than a scan of every partition per append.
 */

import { registerLender, type Lender } from "../util/lent-views.ts";

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

const FIRST_SLAB = 16 * 1024;
const MAX_SLAB = 1024 * 1024;
/** Smallest slab, for tiny pools where a quarter of the fair share is below FIRST_SLAB. */
const MIN_SLAB = 1024;
const FIRST_ENTRIES = 32;

interface Slab extends Lender {
  readonly buf: Uint8Array;
  /** Bytes written so far (appends go at `used`). */
  used: number;
  /** Cached batches still stored in this slab. */
  entries: number;
  /** Views reads returned into it and readers have not given back: reuse only at 0. */
  loans: number;
}

function pow2Floor(n: number): number {
  return n < 1 ? 1 : 2 ** Math.floor(Math.log2(n));
}

function pow2Ceil(n: number): number {
  return n <= 1 ? 1 : 2 ** Math.ceil(Math.log2(n));
}

export class PartitionHotCache {
  /** Bytes of slab capacity this partition holds (what it counts against the pool). */
  bytes = 0;
  /** @internal position in the pool's max-heap */
  heapIndex = -1;

  // Batches as a ring of parallel typed arrays (no object per batch): oldest at `head`.
  private ring = FIRST_ENTRIES; // a power of two: indices wrap with `& mask`
  private mask = FIRST_ENTRIES - 1;
  private head = 0;
  private count = 0;
  private base = new Float64Array(FIRST_ENTRIES);
  private last = new Float64Array(FIRST_ENTRIES);
  private pos = new Int32Array(FIRST_ENTRIES);
  private len = new Int32Array(FIRST_ENTRIES);
  /**
   * Each batch's slab as the slab's sequence number in this partition (see slabAt), not as a
   * reference: a JS array of references written on every append sits in the collector's
   * remembered set and is scanned whole by every young collection. With 100 partitions of
   * one-record batches those rings held ~400 k references: each eden collection visited 1.5-4.8 MB
   * and paused the event loop 1.7 ms at the median, 6 ms at worst (bench/RESULTS.md, session 26).
   */
  private slabSeqOf = new Int32Array(FIRST_ENTRIES);

  // Slabs in append order: oldest at `slabHead`, the one being filled last.
  private slabs: Slab[] = [];
  private slabHead = 0;
  /** Sequence number of slabs[slabHead] (wraps as int32); the next slab taken gets firstSlabSeq + held slabs. */
  private firstSlabSeq = 0;
  private lastSlabSize = 0;

  constructor(private readonly pool: HotCache) {}

  get size(): number {
    return this.count;
  }

  /** The offset after the newest cached batch, or -1 when empty. */
  get nextOffset(): number {
    if (this.count === 0) return -1;
    return (this.last[(this.head + this.count - 1) & this.mask] as number) + 1;
  }

  /** Caches the batches of an append (copied once; the caller's buffer may be reused). */
  append(buf: Uint8Array, batches: readonly HotBatch[]): void {
    if (batches.length === 0 || this.heapIndex < 0) return; // nothing, or released: not counted any more
    const first = batches[0] as HotBatch;
    if (this.count > 0 && first.baseOffset !== this.nextOffset) this.clear(); // not contiguous: restart
    const lastB = batches[batches.length - 1] as HotBatch;
    const start = first.position;
    const end = lastB.position + lastB.length;
    const n = end - start;
    let slab = this.slabs.length > this.slabHead ? (this.slabs[this.slabs.length - 1] as Slab) : undefined;
    if (n > this.pool.largestSlab()) {
      this.clear(); // too large to cache (see the header): the tail stays contiguous by starting over
      return;
    }
    if (slab === undefined || slab.buf.length - slab.used < n) {
      const size = this.pool.slabSize(n, this.lastSlabSize);
      slab = this.pool.take(this, size);
      this.lastSlabSize = size;
      this.slabs.push(slab); // take() may have evicted older slabs (even all) of this partition
    }
    const at = slab.used;
    slab.buf.set(start === 0 && end === buf.length ? buf : buf.subarray(start, end), at);
    slab.used = at + n;
    const seq = (this.firstSlabSeq + this.slabs.length - 1 - this.slabHead) | 0;
    for (const b of batches) this.push(b.baseOffset, b.lastOffset, at + b.position - start, b.length, seq);
    slab.entries += batches.length;
  }

  /** Whole batches from the one containing `offset`, or null when that batch is not cached. */
  read(offset: number, maxBytes: number, upTo: number): Uint8Array | null {
    if (this.count === 0) return null;
    const mask = this.mask;
    if (offset < (this.base[this.head] as number) || offset >= this.nextOffset) {
      this.pool.misses++;
      return null;
    }
    // First batch whose last offset is >= offset (indices relative to head).
    let lo = 0;
    let hi = this.count - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.last[(this.head + mid) & mask] as number) < offset) lo = mid + 1;
      else hi = mid;
    }
    let total = 0;
    let end = lo; // exclusive
    let oneRun = true; // all picked batches adjacent in one slab: answer with a view
    const firstIdx = (this.head + lo) & mask;
    const firstSeq = this.slabSeqOf[firstIdx] as number;
    for (; end < this.count; end++) {
      const i = (this.head + end) & mask;
      if ((this.last[i] as number) >= upTo) break;
      const length = this.len[i] as number;
      if (end > lo && total + length > maxBytes) break;
      if (end > lo && (this.slabSeqOf[i] !== firstSeq || this.pos[i] !== (this.pos[firstIdx] as number) + total)) oneRun = false;
      total += length;
      if (total >= maxBytes) {
        end++;
        break;
      }
    }
    this.pool.hits++;
    if (end === lo) return new Uint8Array(0);
    if (oneRun) {
      const firstSlab = this.slabAt(firstSeq);
      firstSlab.loans++;
      const p = this.pos[firstIdx] as number;
      return firstSlab.buf.subarray(p, p + total);
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (let k = lo; k < end; k++) {
      const i = (this.head + k) & mask;
      const p = this.pos[i] as number;
      const length = this.len[i] as number;
      out.set(this.slabAt(this.slabSeqOf[i] as number).buf.subarray(p, p + length), at);
      at += length;
    }
    return out;
  }

  /** Drops the oldest batch; returns its size. Its slab goes back to the pool once it holds no batch. */
  evictOldest(): number {
    if (this.count === 0) return 0;
    const slab = this.slabAt(this.slabSeqOf[this.head] as number);
    const length = this.len[this.head] as number;
    this.shift();
    if (--slab.entries === 0) this.dropFrontSlab();
    return length;
  }

  /** @internal Drops the oldest slab with all its batches (the pool's unit of eviction). */
  evictSlab(): void {
    const slab = this.slabs[this.slabHead];
    if (slab === undefined) return;
    while (this.count > 0 && this.slabSeqOf[this.head] === this.firstSlabSeq) this.shift();
    slab.entries = 0;
    this.dropFrontSlab();
  }

  clear(): void {
    this.head = 0;
    this.count = 0;
    const slabs = this.slabs;
    const from = this.slabHead;
    this.firstSlabSeq = (this.firstSlabSeq + slabs.length - from) | 0;
    this.slabs = [];
    this.slabHead = 0;
    for (let i = from; i < slabs.length; i++) this.pool.released(this, slabs[i] as Slab);
  }

  /** The partition is gone: frees its memory and leaves the pool. */
  release(): void {
    this.clear();
    this.pool.remove(this);
  }

  /** The held slab with sequence number `seq` (one of slabs[slabHead..]). */
  private slabAt(seq: number): Slab {
    return this.slabs[this.slabHead + ((seq - this.firstSlabSeq) | 0)] as Slab;
  }

  private push(baseOffset: number, lastOffset: number, position: number, length: number, slabSeq: number): void {
    if (this.count === this.ring) this.grow();
    const i = (this.head + this.count) & this.mask;
    this.base[i] = baseOffset;
    this.last[i] = lastOffset;
    this.pos[i] = position;
    this.len[i] = length;
    this.slabSeqOf[i] = slabSeq;
    this.count++;
  }

  private shift(): void {
    this.head = (this.head + 1) & this.mask;
    this.count--;
  }

  private grow(): void {
    const ring = this.ring * 2;
    const base = new Float64Array(ring);
    const last = new Float64Array(ring);
    const pos = new Int32Array(ring);
    const len = new Int32Array(ring);
    const slabSeqOf = new Int32Array(ring);
    for (let k = 0; k < this.count; k++) {
      const i = (this.head + k) & this.mask;
      base[k] = this.base[i] as number;
      last[k] = this.last[i] as number;
      pos[k] = this.pos[i] as number;
      len[k] = this.len[i] as number;
      slabSeqOf[k] = this.slabSeqOf[i] as number;
    }
    this.ring = ring;
    this.mask = ring - 1;
    this.head = 0;
    this.base = base;
    this.last = last;
    this.pos = pos;
    this.len = len;
    this.slabSeqOf = slabSeqOf;
  }

  private dropFrontSlab(): void {
    const slab = this.slabs[this.slabHead] as Slab;
    this.slabs[this.slabHead] = undefined as unknown as Slab;
    this.slabHead++;
    this.firstSlabSeq = (this.firstSlabSeq + 1) | 0;
    if (this.slabHead === this.slabs.length) {
      this.slabs.length = 0;
      this.slabHead = 0;
    } else if (this.slabHead >= 64 && this.slabHead * 2 > this.slabs.length) {
      this.slabs = this.slabs.slice(this.slabHead);
      this.slabHead = 0;
    }
    this.pool.released(this, slab);
  }
}

export class HotCache {
  /** Max-heap of partitions by held bytes (heap[0] holds the most). */
  private readonly heap: PartitionHotCache[] = [];
  /** Bytes of the slabs partitions hold. */
  private total = 0;
  /**
   * Slabs given back with no view out (eviction, a partition's cached run starting over), by size,
   * kept for take() to reuse. They count against maxBytes with the held ones; take() drops idle
   * slabs of other sizes before it evicts anything.
   */
  private readonly idle = new Map<number, Slab[]>();
  private idleBytes = 0;
  /** Slab bytes allocated fresh so far (the rest were recycled): for tests and benches. */
  allocatedBytes = 0;
  hits = 0;
  misses = 0;

  constructor(readonly maxBytes: number) {}

  partition(): PartitionHotCache {
    const p = new PartitionHotCache(this);
    p.heapIndex = this.heap.length;
    this.heap.push(p);
    this.up(p.heapIndex);
    return p;
  }

  stats(): HotCacheStats {
    return { hits: this.hits, misses: this.misses, bytes: this.total, partitions: this.heap.length };
  }

  /** Hit rate of reads so far (0 when none). */
  hitRate(): number {
    const n = this.hits + this.misses;
    return n === 0 ? 0 : this.hits / n;
  }

  /** @internal The largest slab, and so the largest append cached: a quarter of a partition's fair share, at most MAX_SLAB. */
  largestSlab(): number {
    const share = this.maxBytes / Math.max(1, this.heap.length);
    return Math.min(MAX_SLAB, Math.max(MIN_SLAB, pow2Floor(share / 4)), this.maxBytes);
  }

  /** @internal Size of a new slab for an append of `n` (at most largestSlab()) bytes after a slab of `previous` bytes. */
  slabSize(n: number, previous: number): number {
    const cap = this.largestSlab();
    const want = Math.min(cap, previous === 0 ? FIRST_SLAB : previous * 2);
    return n <= want ? want : Math.min(cap, pow2Ceil(n));
  }

  /**
   * @internal A slab of `size` bytes for `p`, counted from now on. When the pool is full, whole
   * slabs are evicted from the biggest partitions until it fits, and a freed slab of that size is
   * reused rather than allocating.
   */
  take(p: PartitionHotCache, size: number): Slab {
    let slab: Slab | null = null;
    for (;;) {
      slab = this.takeIdle(size);
      if (slab !== null || this.total + this.idleBytes + size <= this.maxBytes) break;
      if (this.idleBytes > 0) {
        this.dropIdle();
        continue;
      }
      const victim = this.heap[0];
      if (victim === undefined || victim.bytes === 0) break;
      victim.evictSlab(); // its slab turns idle (or is dropped while lent); the next round may take it
    }
    if (slab === null) {
      slab = { buf: new Uint8Array(size), used: 0, entries: 0, loans: 0 };
      registerLender(slab.buf.buffer, slab);
      this.allocatedBytes += size;
    } else {
      slab.used = 0;
      slab.entries = 0;
    }
    this.total += size;
    p.bytes += size;
    this.up(p.heapIndex);
    return slab;
  }

  /** @internal `p` no longer holds `slab`: uncount it, and keep it for take() when no view of it is out. */
  released(p: PartitionHotCache, slab: Slab): void {
    const size = slab.buf.length;
    p.bytes -= size;
    this.total -= size;
    this.down(p.heapIndex);
    if (slab.loans > 0) return; // a view of it is still out: left to the garbage collector
    const list = this.idle.get(size);
    if (list === undefined) this.idle.set(size, [slab]);
    else list.push(slab);
    this.idleBytes += size;
  }

  private takeIdle(size: number): Slab | null {
    const slab = this.idle.get(size)?.pop() ?? null;
    if (slab !== null) this.idleBytes -= size;
    return slab;
  }

  /** Drops one idle slab, of the size holding the most idle bytes. */
  private dropIdle(): void {
    let worst: Slab[] | null = null;
    let worstBytes = 0;
    for (const [size, list] of this.idle) {
      if (list.length * size > worstBytes) {
        worst = list;
        worstBytes = list.length * size;
      }
    }
    const slab = worst?.pop();
    if (slab !== undefined) this.idleBytes -= slab.buf.length;
  }

  /** @internal */
  remove(p: PartitionHotCache): void {
    const i = p.heapIndex;
    if (i < 0 || this.heap[i] !== p) return;
    const moved = this.heap.pop() as PartitionHotCache;
    p.heapIndex = -1;
    if (moved === p) return;
    this.heap[i] = moved;
    moved.heapIndex = i;
    this.up(i);
    this.down(moved.heapIndex);
  }

  private up(i: number): void {
    const heap = this.heap;
    const p = heap[i];
    if (p === undefined) return;
    while (i > 0) {
      const parentAt = (i - 1) >> 1;
      const parent = heap[parentAt] as PartitionHotCache;
      if (parent.bytes >= p.bytes) break;
      heap[i] = parent;
      parent.heapIndex = i;
      i = parentAt;
    }
    heap[i] = p;
    p.heapIndex = i;
  }

  private down(i: number): void {
    const heap = this.heap;
    const p = heap[i];
    if (p === undefined) return;
    const n = heap.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && (heap[r] as PartitionHotCache).bytes > (heap[l] as PartitionHotCache).bytes) c = r;
      const child = heap[c] as PartitionHotCache;
      if (child.bytes <= p.bytes) break;
      heap[i] = child;
      child.heapIndex = i;
      i = c;
    }
    heap[i] = p;
    p.heapIndex = i;
  }
}
