/**
 * Append cost with many partitions in flush-interval mode (what Bunka's `none` benchmark rows do):
 * 1000 partition logs sharing one hot cache, 1 KiB single-record batches appended round-robin, the
 * way the open-loop client's produce requests land at 1000 partitions (about one record per
 * partition per request). Prints wall and CPU time per append (CPU = this process, all threads).
 *
 *   bun bench/many-partitions-append.bench.ts [dir] [appends]
 *
 * `dir` defaults to .cache (the repo's disk); /dev/shm separates the filesystem's share.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { PartitionLog } from "../src/log/partition-log.ts";
import { DEFAULT_LOG_CONFIG } from "../src/log/log-config.ts";
import { HotCache } from "../src/log/hot-cache.ts";
import { buildBatch } from "../test/unit/log/batch-builder.ts";

const base = process.argv[2] ?? join(import.meta.dir, "..", ".cache");
const appends = Number(process.argv[3] ?? 400_000);
const PARTITIONS = 1000;
const root = mkdtempSync(join(base, "many-append-"));
const cache = new HotCache(256 << 20);
const logs: PartitionLog[] = [];
for (let p = 0; p < PARTITIONS; p++) {
  const log = await PartitionLog.open(join(root, `t-${p}`), "t", p, { ...DEFAULT_LOG_CONFIG, flushIntervalMs: 60_000, fileDeleteDelayMs: 0 });
  log.useHotCache(cache.partition());
  logs.push(log);
}
const template = buildBatch([{ key: "k", value: "x".repeat(1024 - 61 - 12), timestamp: Date.now() }]);
for (const round of [1, 2]) {
  // fresh copies: the log patches offsets in place, like it does in request frames
  const batches = Array.from({ length: 4096 }, () => template.slice());
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < appends; i++) {
    const r = (logs[i % PARTITIONS] as PartitionLog).append(batches[i & 4095] as Uint8Array, Date.now());
    if (r.errorCode !== 0) throw new Error(`append failed: ${r.errorCode}`);
  }
  const wallUs = ((performance.now() - t0) * 1000) / appends;
  const cpu = process.cpuUsage(c0);
  console.log(
    `round ${round}${round === 1 ? " (warm-up)" : ""}: ${wallUs.toFixed(2)} µs/append wall, ` +
      `${((cpu.user + cpu.system) / appends).toFixed(2)} µs CPU (user ${(cpu.user / appends).toFixed(2)}), ${PARTITIONS} partitions under ${base}`,
  );
}
for (const log of logs) await log.close();
rmSync(root, { recursive: true, force: true });
