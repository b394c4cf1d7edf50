import { describe, expect, test } from "bun:test";
import { HotCache, type HotBatch, type PartitionHotCache } from "../../../src/log/hot-cache.ts";
import { giveBack, isLentView } from "../../../src/util/lent-views.ts";

/** Deterministic bytes for batch `offset` of a partition: any mix-up shows in a comparison. */
function batchBytes(partition: number, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (partition * 131 + offset * 31 + i * 7) & 0xff;
  return out;
}

interface Model {
  offsets: number[];
  bytes: Uint8Array[];
}

/**
 * Appends `lengths.length` one-record batches at `next`, laid out after `pad` junk bytes in a
 * reused frame (as produce requests arrive in pooled frames), and records them in `model`.
 */
function appendBatches(part: PartitionHotCache, partition: number, next: number, lengths: number[], frame: Uint8Array, model?: Model, pad = 7): number {
  const batches: HotBatch[] = [];
  let at = pad;
  for (const length of lengths) {
    const bytes = batchBytes(partition, next, length);
    frame.set(bytes, at);
    batches.push({ baseOffset: next, lastOffset: next, position: at, length });
    model?.offsets.push(next);
    model?.bytes.push(bytes);
    at += length;
    next++;
  }
  frame.fill(0xee, at, at + 16); // junk after the records: must not be cached
  part.append(frame.subarray(0, at + 16), batches);
  frame.fill(0xdd); // the caller reuses its buffer
  return next;
}

/** What a read must return, computed from the model (Segment.readBatches' rules). */
function expected(model: Model, offset: number, maxBytes: number, upTo: number): Uint8Array | null {
  const first = model.offsets.findIndex((o) => o >= offset);
  if (first < 0) return null;
  const picked: Uint8Array[] = [];
  let total = 0;
  for (let i = first; i < model.offsets.length; i++) {
    if ((model.offsets[i] as number) >= upTo) break;
    const b = model.bytes[i] as Uint8Array;
    if (picked.length > 0 && total + b.length > maxBytes) break;
    picked.push(b);
    total += b.length;
    if (total >= maxBytes) break;
  }
  return Buffer.concat(picked);
}

describe("hot cache slabs", () => {
  test("reads give the appended bytes, also across slab boundaries, for any offset, maxBytes and upTo", () => {
    const pool = new HotCache(1 << 20); // one partition: slabs of 16, 32, 64 KiB...
    const part = pool.partition();
    const frame = new Uint8Array(64 * 1024);
    const model: Model = { offsets: [], bytes: [] };
    let next = 0;
    for (let i = 0; i < 120; i++) {
      const lengths = Array.from({ length: 1 + (i % 3) }, (_, k) => 300 + ((i * 37 + k * 101) % 1500));
      next = appendBatches(part, 0, next, lengths, frame, model);
    }
    expect(part.size).toBe(next);
    expect(part.nextOffset).toBe(next);
    for (let offset = 0; offset < next; offset += 3) {
      for (const maxBytes of [1, 1000, 5000, 40_000, 1 << 20]) {
        for (const upTo of [offset + 1, offset + 5, next]) {
          const got = part.read(offset, maxBytes, upTo);
          expect(got).not.toBeNull();
          expect(Buffer.compare(Buffer.from(got as Uint8Array), expected(model, offset, maxBytes, upTo) as Buffer)).toBe(0);
        }
      }
    }
    expect(part.read(next, 1000, next + 1)).toBeNull(); // past the tail: a miss
    expect(part.read(3, 1000, 3)?.length).toBe(0); // nothing below upTo: an empty hit
  });

  test("batches keep pointing at their own slab through eviction, hundreds of slabs and restarts", () => {
    // small slabs (a quarter of a 256 KiB pool: 16 KiB at most) so one partition goes through
    // hundreds of them: the held-slab list is compacted (from 64 dropped on) and wraps many times
    const pool = new HotCache(256 * 1024);
    const part = pool.partition();
    const frame = new Uint8Array(64 * 1024);
    let model: Model = { offsets: [], bytes: [] };
    let next = 0;
    for (let i = 0; i < 3000; i++) {
      if (i % 1000 === 999) {
        part.clear(); // a restart: the next batches get slabs numbered on from the old ones
        model = { offsets: [], bytes: [] };
      }
      const lengths = Array.from({ length: 1 + (i % 4) }, (_, k) => 200 + ((i * 53 + k * 97) % 1800));
      next = appendBatches(part, 0, next, lengths, frame, model);
      if (i % 50 !== 49) continue;
      // everything still cached reads back exact; what was evicted is a miss
      const oldest = next - part.size;
      model.offsets.splice(0, model.offsets.length - part.size);
      model.bytes.splice(0, model.bytes.length - part.size);
      expect(part.read(oldest - 1, 1 << 20, next)).toBeNull();
      for (let offset = oldest; offset < next; offset += 7) {
        for (const maxBytes of [1, 3000, 20_000]) {
          const got = part.read(offset, maxBytes, next);
          expect(Buffer.compare(Buffer.from(got as Uint8Array), expected(model, offset, maxBytes, next) as Buffer)).toBe(0);
          if (got !== null && isLentView(got)) giveBack(got);
        }
      }
    }
    expect(next - part.size).toBeGreaterThan(2000); // thousands of batches were evicted on the way
    expect(pool.stats().bytes).toBeLessThanOrEqual(256 * 1024);
  });

  test("once the pool is full, appends reuse evicted slabs instead of allocating", () => {
    const pool = new HotCache(4 << 20);
    const parts = Array.from({ length: 100 }, () => pool.partition());
    const next = parts.map(() => 0);
    const frame = new Uint8Array(16 * 1024);
    const round = () => {
      for (let i = 0; i < 5000; i++) {
        const p = (i * 7919) % parts.length;
        next[p] = appendBatches(parts[p] as PartitionHotCache, p, next[p] as number, [1000, 1100], frame);
      }
    };
    round(); // ~10 MiB: fills the pool
    const before = pool.allocatedBytes;
    expect(before).toBeGreaterThanOrEqual(4 << 20);
    expect(pool.stats().bytes).toBeLessThanOrEqual(4 << 20);
    round();
    round();
    expect(pool.allocatedBytes).toBe(before); // 20 MiB more appended, not a byte allocated
    expect(pool.stats().bytes).toBeLessThanOrEqual(4 << 20);
    // and what is cached is still right: the last batches of every partition
    for (let p = 0; p < parts.length; p++) {
      const n = next[p] as number;
      const got = (parts[p] as PartitionHotCache).read(n - 1, 1 << 20, n) as Uint8Array;
      expect(Buffer.compare(Buffer.from(got), Buffer.from(batchBytes(p, n - 1, 1100)))).toBe(0);
    }
  });

  test("a view handed to a reader is never overwritten by recycling", () => {
    const pool = new HotCache(64 * 1024);
    const part = pool.partition();
    const frame = new Uint8Array(8 * 1024);
    let next = appendBatches(part, 0, 0, [1000], frame);
    const view = part.read(0, 1 << 20, 1) as Uint8Array;
    const copy = view.slice();
    for (let i = 0; i < 500; i++) next = appendBatches(part, 0, next, [1000, 900], frame);
    expect(part.read(0, 1 << 20, next)).toBeNull(); // long evicted
    expect(Buffer.compare(Buffer.from(view), Buffer.from(copy))).toBe(0);
    expect(pool.stats().bytes).toBeLessThanOrEqual(64 * 1024);
  });

  test("a view given back lets its slab be reused; one still out keeps it from reuse", () => {
    const pool = new HotCache(64 * 1024);
    const part = pool.partition();
    const frame = new Uint8Array(8 * 1024);
    let next = 0;
    // a reader at the tail: every append read back as a view, given back once "sent"
    for (let i = 0; i < 400; i++) {
      next = appendBatches(part, 0, next, [1000], frame);
      const view = part.read(next - 1, 1 << 20, next) as Uint8Array;
      expect(isLentView(view)).toBe(true);
      expect(Buffer.compare(Buffer.from(view), Buffer.from(batchBytes(0, next - 1, 1000)))).toBe(0);
      giveBack(view);
    }
    const settled = pool.allocatedBytes;
    expect(settled).toBeLessThanOrEqual(2 * 64 * 1024); // ~390 KiB appended through a 64 KiB pool
    // one view kept: its slab is dropped at eviction, not reused, and the view stays intact
    const kept = part.read(next - 1, 1 << 20, next) as Uint8Array;
    const keptCopy = kept.slice();
    for (let i = 0; i < 400; i++) {
      next = appendBatches(part, 0, next, [1000], frame);
      giveBack(part.read(next - 1, 1 << 20, next) as Uint8Array);
    }
    expect(Buffer.compare(Buffer.from(kept), Buffer.from(keptCopy))).toBe(0);
    const withKept = pool.allocatedBytes;
    expect(withKept).toBeGreaterThan(settled); // the kept view's slab had to be replaced once
    expect(withKept).toBeLessThanOrEqual(settled + 64 * 1024);
    expect(pool.stats().bytes).toBeLessThanOrEqual(64 * 1024);
    // a copy across slabs is no loan, and giving back a view that is not lent changes nothing
    expect(isLentView(new Uint8Array(8))).toBe(false);
    giveBack(new Uint8Array(8));
  });

  test("1000 partitions: the budget holds, quiet tails stay, busy partitions share the rest evenly", () => {
    const max = 16 << 20;
    const pool = new HotCache(max);
    const parts = Array.from({ length: 1000 }, () => pool.partition());
    const next = parts.map(() => 0);
    const frame = new Uint8Array(16 * 1024);
    const busy = 100; // partitions 0..99 are busy, the others append 3 batches each
    for (let p = busy; p < parts.length; p++) next[p] = appendBatches(parts[p] as PartitionHotCache, p, 0, [1000, 1000, 1000], frame);
    for (let i = 0; i < 30_000; i++) {
      const p = (i * 7919) % busy;
      next[p] = appendBatches(parts[p] as PartitionHotCache, p, next[p] as number, [900, 1200], frame);
      if (i % 1000 === 0) expect(pool.stats().bytes).toBeLessThanOrEqual(max);
    }
    expect(pool.stats().bytes).toBeLessThanOrEqual(max);
    for (let p = busy; p < parts.length; p++) {
      const part = parts[p] as PartitionHotCache;
      expect(part.size).toBe(3);
      expect(part.read(0, 1 << 20, 3)?.length).toBe(3000);
    }
    const held = parts.slice(0, busy).map((p) => p.bytes);
    const slab = 4096; // a quarter of the 16 KiB fair share
    expect(Math.max(...held) - Math.min(...held)).toBeLessThanOrEqual(2 * slab);
    // the busy ones got what the quiet ones left (to within a slab each)
    const quiet = parts.slice(busy).reduce((n, p) => n + p.bytes, 0);
    expect(held.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(max - quiet - busy * slab);
    for (let p = 0; p < busy; p++) {
      const part = parts[p] as PartitionHotCache;
      const n = next[p] as number;
      expect(part.read(n - 2, 1 << 20, n)?.length).toBe(2100);
      expect(part.read(0, 1 << 20, n)).toBeNull();
    }
  });

  test("clear and release give every byte back; a non-contiguous append restarts the partition", () => {
    const pool = new HotCache(1 << 20);
    const a = pool.partition();
    const b = pool.partition();
    const frame = new Uint8Array(64 * 1024);
    let na = 0;
    let nb = 0;
    for (let i = 0; i < 100; i++) {
      na = appendBatches(a, 0, na, [700, 800], frame);
      nb = appendBatches(b, 1, nb, [1500], frame);
    }
    b.read(nb - 1, 1 << 20, nb); // lends a slab: must not change the accounting
    expect(pool.stats().bytes).toBe(a.bytes + b.bytes);
    expect(a.bytes).toBeGreaterThan(0);
    a.clear();
    expect(a.bytes).toBe(0);
    expect(a.size).toBe(0);
    expect(a.nextOffset).toBe(-1);
    expect(a.read(0, 1000, 1)).toBeNull();
    expect(pool.stats().bytes).toBe(b.bytes);
    const m: Model = { offsets: [], bytes: [] };
    appendBatches(b, 1, 5000, [1200], frame, m); // not contiguous with nb
    expect(b.size).toBe(1);
    expect(Buffer.compare(Buffer.from(b.read(5000, 1 << 20, 5001) as Uint8Array), Buffer.from(m.bytes[0] as Uint8Array))).toBe(0);
    b.release();
    a.release();
    appendBatches(a, 0, 0, [1000], frame); // a released partition caches nothing more
    expect(a.size).toBe(0);
    // hits: the two reads of b; a read of an empty partition counts as neither (as before slabs)
    expect(pool.stats()).toEqual({ hits: 2, misses: 0, bytes: 0, partitions: 0 });
  });

  test("an append larger than the whole pool is not cached and keeps the budget", () => {
    const pool = new HotCache(8 * 1024);
    const part = pool.partition();
    const frame = new Uint8Array(32 * 1024);
    let next = appendBatches(part, 0, 0, [1000], frame);
    next = appendBatches(part, 0, next, [10_000], frame);
    expect(part.size).toBe(0);
    expect(pool.stats().bytes).toBe(0);
    next = appendBatches(part, 0, next, [1000], frame);
    expect(part.read(next - 1, 1 << 20, next)?.length).toBe(1000);
    expect(pool.stats().bytes).toBeLessThanOrEqual(8 * 1024);
  });

  test("an append larger than the largest slab (a quarter of the fair share) is not cached; the run restarts after it", () => {
    const pool = new HotCache(1 << 20);
    const parts = Array.from({ length: 8 }, () => pool.partition()); // fair share 128 KiB: slabs up to 32 KiB
    const part = parts[0]!;
    const frame = new Uint8Array(64 * 1024);
    let next = appendBatches(part, 0, 0, [1000, 1000], frame);
    expect(part.size).toBe(2);
    next = appendBatches(part, 0, next, [40_000], frame); // > 32 KiB
    expect(part.size).toBe(0);
    expect(part.read(next - 1, 1 << 20, next)).toBeNull();
    expect(pool.stats().bytes).toBe(0);
    const allocated = pool.allocatedBytes;
    next = appendBatches(part, 0, next, [30_000], frame); // fits the largest slab
    expect(part.read(next - 1, 1 << 20, next)?.length).toBe(30_000);
    expect(pool.allocatedBytes - allocated).toBeLessThanOrEqual(32 * 1024);
  });

  test("slabs a partition gives back wait idle for the next append of their size: alternating cached and uncached appends allocate nothing new", () => {
    const pool = new HotCache(1 << 20);
    const parts = Array.from({ length: 8 }, () => pool.partition());
    const part = parts[0]!;
    const frame = new Uint8Array(64 * 1024);
    let next = 0;
    for (let round = 0; round < 5; round++) {
      next = appendBatches(part, 0, next, [1000, 1000, 1000], frame);
      next = appendBatches(part, 0, next, [40_000], frame); // not cached: the run (and its slab) is given back
    }
    const allocated = pool.allocatedBytes;
    for (let round = 0; round < 100; round++) {
      next = appendBatches(part, 0, next, [1000, 1000, 1000], frame);
      const view = part.read(next - 3, 1 << 20, next)!;
      expect(view.length).toBe(3000);
      giveBack(view); // a reader done with it (a view still out would keep its slab from reuse)
      next = appendBatches(part, 0, next, [40_000], frame);
    }
    expect(pool.allocatedBytes).toBe(allocated);
    expect(pool.stats().bytes).toBe(0);
  });

  test("evictOldest drops one batch and gives its slab back when empty", () => {
    const pool = new HotCache(1 << 20);
    const part = pool.partition();
    const frame = new Uint8Array(8 * 1024);
    const next = appendBatches(part, 0, 0, [1000, 1000, 1000], frame);
    expect(part.evictOldest()).toBe(1000);
    expect(part.size).toBe(2);
    expect(part.read(0, 1 << 20, next)).toBeNull();
    expect(part.read(1, 1 << 20, next)?.length).toBe(2000);
    expect(pool.stats().bytes).toBeGreaterThan(0);
    part.evictOldest();
    part.evictOldest();
    expect(part.evictOldest()).toBe(0);
    expect(pool.stats().bytes).toBe(0);
  });
});
