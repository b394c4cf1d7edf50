/**
 * Hot cache (memory tier) on the produce path: JS-thread cost of PartitionHotCache.append and the
 * fresh memory it touches, at the shape the 1000-partition produce profile showed.
 *
 *   bun bench/hot-cache.bench.ts [module.ts ...]
 *
 * Each module (default: src/log/hot-cache.ts; e.g. pass /tmp/old-hot-cache.ts made with
 * `git show a7d718b:src/log/hot-cache.ts > /tmp/old-hot-cache.ts`, the pre-slab version) is measured in a
 * child process of its own, so page faults and RSS are not shared between them. Workload: 1000
 * partitions, pool 64 MiB, appends of 1-3 batches of ~1 KiB (about 2 KiB) to a random partition
 * from one reused "request frame"; the pool is filled first (100,000 appends), then 200,000
 * appends are measured, in two scenarios: produce only, and with tail reads (every 1000 appends,
 * 100 random partitions are read from 3 batches before their end, as a consumer at the tail).
 * A "baseline" row (a cache that stores nothing) comes first: its ns/append is the clock's own
 * cost (Bun.nanoseconds() around each call), its faults are the harness's.
 * Prints ns per append (time inside append only), minor page faults per MiB appended
 * (/proc/self/stat minflt: every thread, GC included), heap and RSS growth over the measured part,
 * and (new cache only) how much slab memory was allocated fresh rather than recycled.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Prng } from "../test/support/load.ts";

const PARTITIONS = 1000;
const POOL = 64 * 1024 * 1024;
const WARMUP = 100_000;
const APPENDS = 200_000;
const READ_EVERY = 1000;
const READS = 100;
const MiB = 1024 * 1024;

interface Batch {
  baseOffset: number;
  lastOffset: number;
  position: number;
  length: number;
}
interface Partition {
  append(buf: Uint8Array, batches: readonly Batch[]): void;
  read(offset: number, maxBytes: number, upTo: number): Uint8Array | null;
  readonly nextOffset: number;
}
interface Pool {
  partition(): Partition;
  stats(): { hits: number; misses: number; bytes: number; partitions: number };
  /** Slab bytes allocated fresh (the slab cache only). */
  allocatedBytes?: number;
}
type PoolCtor = new (maxBytes: number) => Pool;

function minflt(): number {
  const s = readFileSync("/proc/self/stat", "utf8");
  return Number(s.slice(s.lastIndexOf(")") + 2).split(" ")[7]); // field 10 (minflt)
}

/** Uniform in [0, 1) from the project's seeded PRNG (test/support/load.ts), so runs repeat. */
function rng(seed: number): () => number {
  const prng = new Prng(seed);
  return () => prng.u32() / 4294967296;
}

interface Figures {
  nsPerAppend: number;
  nsPerRead: number;
  faultsPerMiB: number;
  heapGrowthMiB: number;
  rssGrowthMiB: number;
  rssMiB: number;
  poolMiB: number;
  /** Fresh slab memory allocated during the measured part (null: the module does not tell). */
  freshMiB: number | null;
}

function run(HotCache: PoolCtor, withReads: boolean): Figures {
  const pool = new HotCache(POOL);
  const parts: Partition[] = [];
  const next: number[] = [];
  for (let i = 0; i < PARTITIONS; i++) {
    parts.push(pool.partition());
    next.push(0);
  }
  const frame = new Uint8Array(64 * 1024); // reused like a pooled request frame
  for (let i = 0; i < frame.length; i++) frame[i] = (i * 2654435761) >>> 24;
  const random = rng(42);
  let appendNs = 0;
  let readNs = 0;
  let reads = 0;
  let bytes = 0;
  let sink = 0;

  const one = (timed: boolean, i: number): void => {
    const p = Math.floor(random() * PARTITIONS);
    const n = 1 + Math.floor(random() * 3);
    const at = Math.floor(random() * 1024) * 16; // the records' place in the frame varies
    const batches: Batch[] = [];
    let position = at;
    for (let b = 0; b < n; b++) {
      const length = 900 + Math.floor(random() * 250);
      const base = next[p] as number;
      batches.push({ baseOffset: base, lastOffset: base, position: position - at, length });
      next[p] = base + 1;
      position += length;
    }
    const view = frame.subarray(at, position);
    const part = parts[p] as Partition;
    const t0 = Bun.nanoseconds();
    part.append(view, batches);
    if (timed) appendNs += Bun.nanoseconds() - t0;
    bytes += position - at;
    if (withReads && i % READ_EVERY === 0) {
      for (let r = 0; r < READS; r++) {
        const q = parts[Math.floor(random() * PARTITIONS)] as Partition;
        const end = q.nextOffset;
        if (end < 0) continue;
        const t1 = Bun.nanoseconds();
        const got = q.read(Math.max(0, end - 3), 1 << 20, end);
        if (timed) readNs += Bun.nanoseconds() - t1;
        sink += got?.length ?? 0;
        reads++;
      }
    }
  };

  for (let i = 0; i < WARMUP; i++) one(false, i);
  Bun.gc(true);
  bytes = 0;
  reads = 0;
  const fresh0 = pool.allocatedBytes;
  const heap0 = process.memoryUsage().heapUsed;
  const rss0 = process.memoryUsage().rss;
  const f0 = minflt();
  for (let i = 0; i < APPENDS; i++) one(true, i);
  const f1 = minflt();
  const mem = process.memoryUsage();
  if (sink < 0) console.log(sink);
  return {
    nsPerAppend: appendNs / APPENDS,
    nsPerRead: reads === 0 ? 0 : readNs / reads,
    faultsPerMiB: (f1 - f0) / (bytes / MiB),
    heapGrowthMiB: (mem.heapUsed - heap0) / MiB,
    rssGrowthMiB: (mem.rss - rss0) / MiB,
    rssMiB: mem.rss / MiB,
    poolMiB: pool.stats().bytes / MiB,
    freshMiB: fresh0 === undefined || pool.allocatedBytes === undefined ? null : (pool.allocatedBytes - fresh0) / MiB,
  };
}

/** Caches nothing: what the harness itself costs (clock reads, batch objects, faults of its own garbage). */
class Baseline implements Pool {
  private n = 0;
  partition(): Partition {
    return {
      append: () => {
        this.n++;
      },
      read: () => null,
      nextOffset: -1,
    };
  }
  stats() {
    return { hits: 0, misses: 0, bytes: 0, partitions: this.n };
  }
}

const args = process.argv.slice(2);
if (args[0] === "--child") {
  const mod = args[1] === "baseline" ? { HotCache: Baseline } : ((await import(args[1] as string)) as { HotCache: PoolCtor });
  const figures = run(mod.HotCache, args[2] === "reads");
  console.log(JSON.stringify(figures));
} else {
  const modules = ["baseline", ...(args.length > 0 ? args : [resolve(import.meta.dir, "../src/log/hot-cache.ts")])];
  const fmt = (x: number, d = 0) => x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
  console.log(`hot cache: ${PARTITIONS} partitions, pool ${POOL / MiB} MiB, ${APPENDS.toLocaleString("en-US")} appends of 1-3 x ~1 KiB after ${WARMUP.toLocaleString("en-US")} to fill the pool`);
  console.log("module                         scenario      ns/append  ns/read  faults/MiB  heap +MiB  RSS +MiB  RSS MiB  pool MiB  fresh slab MiB");
  for (const scenario of ["produce", "reads"]) {
    for (const m of modules) {
      const child = Bun.spawnSync([process.execPath, import.meta.path, "--child", m === "baseline" ? m : resolve(m), scenario], { stdout: "pipe", stderr: "inherit" });
      const f = JSON.parse(child.stdout.toString().trim().split("\n").pop() as string) as Figures;
      console.log(
        `${m.slice(-30).padEnd(30)} ${scenario.padEnd(12)} ${fmt(f.nsPerAppend).padStart(10)} ${fmt(f.nsPerRead).padStart(8)} ${fmt(f.faultsPerMiB, 1).padStart(11)} ${fmt(f.heapGrowthMiB, 1).padStart(10)} ${fmt(f.rssGrowthMiB, 1).padStart(9)} ${fmt(f.rssMiB).padStart(8)} ${fmt(f.poolMiB, 1).padStart(9)} ${(f.freshMiB === null ? "-" : fmt(f.freshMiB, 1)).padStart(15)}`,
      );
    }
  }
}
