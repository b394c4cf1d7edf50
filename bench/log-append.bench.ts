/**
 * Durable append latency of the partition log (group-commit fsync).
 *
 *   bun bench/log-append.bench.ts [dir]
 *
 * Appends ~1 KiB v2 batches in durable mode (every append waits for the fdatasync covering it)
 * with 1 appender and with 16 concurrent appenders (each iteration: 16 appends issued together,
 * each awaiting its own `durable`). Prints per-append p50/p95/p99 latency and appends per fsync.
 * The data directory defaults to a temp dir (set it to the disk you care about).
 */
import { Bench } from "tinybench";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PartitionLog } from "../src/log/partition-log.ts";
import { DEFAULT_LOG_CONFIG } from "../src/log/log-config.ts";
import { buildBatch } from "../test/unit/log/batch-builder.ts";

const root = process.argv[2] ?? mkdtempSync(join(tmpdir(), "bunka-bench-"));
const batch = buildBatch([{ key: "k", value: "x".repeat(1024 - 61 - 12), timestamp: Date.now() }]);

async function openLog(name: string): Promise<PartitionLog> {
  return PartitionLog.open(join(root, name), name, 0, { ...DEFAULT_LOG_CONFIG, fileDeleteDelayMs: 0 });
}

interface Scenario {
  name: string;
  concurrency: number;
  log: PartitionLog;
  latencies: number[];
  appends: number;
  syncsAtStart: number;
}

const scenarios: Scenario[] = [];
for (const concurrency of [1, 16]) {
  const log = await openLog(`c${concurrency}`);
  scenarios.push({ name: `durable 1 KiB, ${concurrency} appender(s)`, concurrency, log, latencies: [], appends: 0, syncsAtStart: 0 });
}

const bench = new Bench({ name: "log-append", time: 3000, warmupTime: 300 });
for (const s of scenarios) {
  bench.add(
    s.name,
    async () => {
      const waits: Promise<void>[] = [];
      for (let i = 0; i < s.concurrency; i++) {
        const t0 = performance.now();
        const r = s.log.append(batch, Date.now());
        if (r.errorCode !== 0) throw new Error(`append failed: ${r.errorCode} ${r.errorMessage}`);
        waits.push(r.durable.then(() => void s.latencies.push(performance.now() - t0)));
      }
      await Promise.all(waits);
      s.appends += s.concurrency;
    },
    {
      beforeAll() {
        // Only measured runs count (warmup included otherwise).
        s.latencies = [];
        s.appends = 0;
        s.syncsAtStart = s.log.syncCount;
      },
    },
  );
}

await bench.run();

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

const rows = scenarios.map((s) => {
  const sorted = s.latencies.slice().sort((a, b) => a - b);
  const syncs = s.log.syncCount - s.syncsAtStart;
  const task = bench.tasks.find((t) => t.name === s.name);
  const r = task?.result;
  const seconds = r && "totalTime" in r ? r.totalTime / 1000 : Number.NaN;
  return {
    scenario: s.name,
    "appends/s": Math.round(s.appends / seconds),
    "p50 ms": pct(sorted, 50).toFixed(3),
    "p95 ms": pct(sorted, 95).toFixed(3),
    "p99 ms": pct(sorted, 99).toFixed(3),
    "appends/fsync": (s.appends / Math.max(1, syncs)).toFixed(2),
    appends: s.appends,
    fsyncs: syncs,
  };
});
console.log(`data dir: ${root}`);
console.table(rows);

for (const s of scenarios) await s.log.close();
if (process.argv[2] === undefined) rmSync(root, { recursive: true, force: true });
