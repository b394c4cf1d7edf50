/**
 * Open time of a partition log with many segments, with and without producer-state snapshots.
 *
 * Builds a log of SEGMENTS segments written by PRODUCERS idempotent producers (round robin, one
 * batch of 5 records each time), closes it, then opens it repeatedly:
 *   - "snapshot at end":   clean close left a snapshot at the log end (nothing replayed);
 *   - "roll snapshot only": the close snapshot removed, as after a crash (the active segment replayed);
 *   - "no snapshot":      every snapshot removed (every batch replayed: the behaviour before snapshots).
 * Each open still walks every batch header to check the segments and their indexes (recovery), so
 * the figures separate that walk from the producer-state replay. Warm page cache (files just
 * written), data under .cache/bench-data. The result must be identical producer state in all three cases; the bench checks it.
 *
 *   bun bench/producer-state-open.bench.ts [--segments 200] [--runs 5]
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildRecordBatch } from "../src/client/record-batch-builder.ts";
import { PartitionLog } from "../src/log/partition-log.ts";
import type { LogConfig } from "../src/log/log-config.ts";
import { parseLogFileName } from "../src/log/file-names.ts";
import { Segment } from "../src/log/segment.ts";
import { fdSegmentFileFactory } from "../src/log/segment-file.ts";
import { REPO_ROOT } from "../test/support/broker.ts";
import { describeEnvironment } from "./lib/env.ts";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const SEGMENTS = arg("segments", 200);
const RUNS = arg("runs", 5);
const PRODUCERS = 100;
const SEGMENT_BYTES = 256 * 1024;

const config: LogConfig = {
  segmentBytes: SEGMENT_BYTES,
  segmentMs: 7 * 24 * 3600 * 1000,
  segmentJitterMs: 0,
  retentionMs: -1,
  retentionBytes: -1,
  indexIntervalBytes: 4096,
  maxMessageBytes: 1 << 20,
  messageTimestampType: "CreateTime",
  flushIntervalMessages: 1_000_000, // the build needs no fsync per append
  flushIntervalMs: null,
  fileDeleteDelayMs: 0,
};

function snapshotFiles(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.endsWith(".snapshot")).sort();
}

async function build(dir: string): Promise<{ batches: number; end: number }> {
  const log = await PartitionLog.open(dir, "bench", 0, config);
  const seq = new Array<number>(PRODUCERS).fill(0);
  const value = new Uint8Array(60).fill(120);
  let batches = 0;
  while (log.segmentCount < SEGMENTS) {
    const p = batches % PRODUCERS;
    const records = Array.from({ length: 5 }, () => ({ key: null, value, timestamp: Date.now() }));
    const batch = buildRecordBatch(records, { producerId: 1000 + p, producerEpoch: 0, baseSequence: seq[p]! });
    const r = log.append(batch, Date.now());
    if (r.errorCode !== 0) throw new Error(`append: ${r.errorCode} ${r.errorMessage}`);
    seq[p]! += 5;
    batches++;
  }
  await log.flush();
  const end = log.logEndOffset;
  await log.close();
  return { batches, end };
}

async function openOnce(dir: string): Promise<{ ms: number; replayed: number; state: string }> {
  const t = performance.now();
  const log = await PartitionLog.open(dir, "bench", 0, config);
  const ms = performance.now() - t;
  const state = JSON.stringify(log.activeProducers().sort((a, b) => a.producerId - b.producerId));
  const replayed = log.producerStateLoad.replayedBatches;
  await log.close();
  return { ms, replayed, state };
}

/** For comparison: every batch header read in 64 KiB chunks (Segment.scanHeaders), no checks. */
function chunkedWalk(dir: string): { ms: number; batches: number } {
  const bases = readdirSync(dir).map(parseLogFileName).filter((b): b is number => b !== null).sort((a, b) => a - b);
  const t = performance.now();
  let batches = 0;
  for (const base of bases) {
    const seg = Segment.open(dir, base, fdSegmentFileFactory, config.indexIntervalBytes);
    seg.scanHeaders(() => batches++);
    seg.close();
  }
  return { ms: performance.now() - t, batches };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const benchDir = join(REPO_ROOT, ".cache", "bench-data");
mkdirSync(benchDir, { recursive: true });
const root = mkdtempSync(join(benchDir, "producer-state-open-"));
const dir = join(root, "bench-0");
try {
  const env = describeEnvironment(root);
  console.log(`${env.date} ${env.cores} cores ${env.cpuModel}, kernel ${env.kernel}, bun ${env.bun}, ${env.fsType} on ${env.device}`);
  const t = performance.now();
  const { batches, end } = await build(dir);
  console.log(`built ${SEGMENTS} segments of ${SEGMENT_BYTES / 1024} KiB, ${batches} batches (${end} records) from ${PRODUCERS} idempotent producers in ${(performance.now() - t).toFixed(0)} ms`);
  // The snapshot files as the build left them; restored before every case, which are interleaved
  // round by round so that load from other processes hits all of them alike.
  const saved = new Map(snapshotFiles(dir).map((f) => [f, readFileSync(join(dir, f))]));
  const closeSnap = [...saved.keys()].pop()!;
  const restore = (keep: (f: string) => boolean) => {
    for (const f of snapshotFiles(dir)) rmSync(join(dir, f));
    for (const [f, bytes] of saved) if (keep(f)) writeFileSync(join(dir, f), bytes);
  };
  const cases = [
    { name: "snapshot at end (clean close)", keep: () => true },
    { name: "roll snapshots only (after a crash)", keep: (f: string) => f !== closeSnap },
    { name: "no snapshot (full replay, as before)", keep: () => false },
  ];
  const rows = cases.map((c) => ({ name: c.name, ms: [] as number[], replayed: -1, state: "" }));
  for (let run = 0; run < RUNS; run++) {
    for (let i = 0; i < cases.length; i++) {
      restore(cases[i]!.keep);
      const r = await openOnce(dir);
      const row = rows[i]!;
      row.ms.push(r.ms);
      row.replayed = r.replayed;
      row.state = r.state;
    }
  }

  console.log(`\nopen of one partition, ${SEGMENTS} segments, ${batches} batches, median of ${RUNS} (min-max):`);
  for (const r of rows) {
    console.log(`  ${r.name.padEnd(38)} ${median(r.ms).toFixed(1).padStart(8)} ms  (${Math.min(...r.ms).toFixed(1)}-${Math.max(...r.ms).toFixed(1)})  replayed ${r.replayed} batches`);
  }
  const walks = Array.from({ length: RUNS }, () => chunkedWalk(dir));
  console.log(
    `  ${"(header walk in 64 KiB reads, no checks)".padEnd(38)} ${median(walks.map((w) => w.ms)).toFixed(1).padStart(8)} ms  ` +
      `(${walks[0]!.batches} headers; the floor of any header walk; recovery reads 1 MiB chunks)`,
  );
  const same = rows.every((r) => r.state === rows[0]!.state);
  console.log(`producer state identical in all cases: ${same}`);
  if (!same) process.exitCode = 1;
} finally {
  if (!process.argv.includes("--keep")) rmSync(root, { recursive: true, force: true });
  else console.log(`kept ${dir}`);
}
