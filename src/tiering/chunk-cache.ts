/**
 * A bounded LRU cache of fixed-size chunks of remote objects, so remote reads are ranged GETs of
 * whole chunks and a consumer reading a tiered segment front to back issues one GET per chunk, not
 * one per fetch. Concurrent misses on the same chunk share one GET. Objects are immutable (a key
 * names the same bytes forever, see keys.ts), so entries never go stale; `dropObject` frees the
 * chunks of deleted objects early.
 */
export type RangeLoader = (key: string, start: number, length: number) => Promise<Uint8Array>;

export interface ChunkCacheStats {
  hits: number;
  misses: number;
  bytes: number;
  chunks: number;
  prefetches: number;
}

export class ChunkCache {
  private readonly entries = new Map<string, Uint8Array>();
  private readonly loading = new Map<string, Promise<Uint8Array>>();
  private bytes = 0;
  hits = 0;
  misses = 0;
  prefetches = 0;

  constructor(
    readonly maxBytes: number,
    readonly chunkBytes: number,
    private readonly load: RangeLoader,
  ) {
    if (chunkBytes <= 0) throw new Error("chunk size must be positive");
  }

  stats(): ChunkCacheStats {
    return { hits: this.hits, misses: this.misses, bytes: this.bytes, chunks: this.entries.size, prefetches: this.prefetches };
  }

  /** `length` bytes at `start` of the object `key` of `objectSize` bytes (fewer at its end). */
  async read(key: string, objectSize: number, start: number, length: number): Promise<Uint8Array> {
    const end = Math.min(objectSize, start + length);
    if (end <= start) return new Uint8Array(0);
    const first = Math.floor(start / this.chunkBytes);
    const last = Math.floor((end - 1) / this.chunkBytes);
    const chunks = await Promise.all(
      Array.from({ length: last - first + 1 }, (_, i) => this.chunk(key, objectSize, first + i)),
    );
    if (chunks.length === 1) {
      const only = chunks[0] as Uint8Array;
      const from = start - first * this.chunkBytes;
      return only.subarray(from, from + (end - start));
    }
    const out = new Uint8Array(end - start);
    let at = 0;
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i] as Uint8Array;
      const chunkStart = (first + i) * this.chunkBytes;
      const from = Math.max(start, chunkStart) - chunkStart;
      const to = Math.min(end, chunkStart + c.length) - chunkStart;
      out.set(c.subarray(from, to), at);
      at += to - from;
    }
    return out.subarray(0, at);
  }

  /**
   * Starts loading the chunk holding byte `at` of the object when it is neither cached nor loading
   * (read-ahead for sequential readers); never waits, never fails.
   */
  prefetch(key: string, objectSize: number, at: number): void {
    if (at < 0 || at >= objectSize) return;
    const index = Math.floor(at / this.chunkBytes);
    const id = `${key}#${index}`;
    if (this.entries.has(id) || this.loading.has(id)) return;
    this.prefetches++;
    this.chunk(key, objectSize, index, false).catch(() => {});
  }

  /** Forgets every chunk of `key` (the object was deleted). */
  dropObject(key: string): void {
    const prefix = `${key}#`;
    for (const [k, v] of this.entries) {
      if (k.startsWith(prefix)) {
        this.entries.delete(k);
        this.bytes -= v.length;
      }
    }
  }

  private async chunk(key: string, objectSize: number, index: number, counted = true): Promise<Uint8Array> {
    const id = `${key}#${index}`;
    const hit = this.entries.get(id);
    if (hit !== undefined) {
      this.hits++;
      this.entries.delete(id); // re-insert: Map order is the LRU order
      this.entries.set(id, hit);
      return hit;
    }
    const pending = this.loading.get(id);
    if (pending !== undefined) {
      this.hits++;
      return pending;
    }
    if (counted) this.misses++;
    const start = index * this.chunkBytes;
    const length = Math.min(this.chunkBytes, objectSize - start);
    const work = this.load(key, start, length).then((data) => {
      if (data.length !== length) throw new Error(`short read of ${key} at ${start}: ${data.length} of ${length} bytes`);
      this.insert(id, data);
      return data;
    });
    this.loading.set(id, work);
    try {
      return await work;
    } finally {
      this.loading.delete(id);
    }
  }

  private insert(id: string, data: Uint8Array): void {
    if (data.length > this.maxBytes) return;
    this.entries.set(id, data);
    this.bytes += data.length;
    while (this.bytes > this.maxBytes) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      const v = this.entries.get(oldest.value) as Uint8Array;
      this.entries.delete(oldest.value);
      this.bytes -= v.length;
    }
  }
}
