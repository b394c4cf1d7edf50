// A log closed cleanly is reopened from its indexes (Segment.resume) instead of being walked batch
// by batch; everything the broker asks of it must be what a full walk gives, and anything that
// does not fit the indexes must fall back to the walk.
import { describe, expect, test } from "bun:test";
import { appendFileSync, cpSync, readdirSync, rmSync, statSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { RECOVERY_POINT_FILE } from "../../../src/log/file-names.ts";
import { PartitionLog } from "../../../src/log/partition-log.ts";
import { buildBatch, sampleRecords } from "./batch-builder.ts";
import { config, tempDir } from "./helpers.ts";
import { observeLog } from "./observe-log.ts";

const T0 = 1_700_000_000_000;
const CFG = config({ segmentBytes: 2048, indexIntervalBytes: 150 });

/** 61 batches with timestamps out of order; every third from an idempotent producer. */
async function filledAndClosed(dir: string): Promise<void> {
  const log = await PartitionLog.open(dir, "t", 0, CFG);
  let seq = 0;
  for (let i = 0; i < 60; i++) {
    const ts = T0 + ((i * 7919) % 97) * 1000;
    const batch = i % 3 === 0 ? buildBatch(sampleRecords(2, ts), { producerId: 42, producerEpoch: 0, baseSequence: (seq += 2) - 2 }) : buildBatch(sampleRecords(1 + (i % 4), ts));
    const r = log.append(batch, T0 + i);
    expect(r.errorCode).toBe(0);
    await r.durable;
  }
  // the log's largest timestamp in its very last batch (past the active segment's last index entry)
  await log.append(buildBatch(sampleRecords(1, T0 + 300_000)), T0).durable;
  await log.close();
  expect(log.closedCleanly).toBe(true);
}

/** A copy of the log in `dir` that opening walks whole (no clean-shutdown flag, no recovery point). */
function walkedCopyOf(dir: string): string {
  const copy = `${dir}-copy`;
  cpSync(dir, copy, { recursive: true });
  rmSync(join(copy, RECOVERY_POINT_FILE));
  return copy;
}

/** The partition directory's files ending in `ext`, in offset order. */
function filesOf(dir: string, ext: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith(ext)).sort();
}

/** What the broker reads from a log (see observeLog), timestamp lookups around the test's timestamps. */
function observe(log: PartitionLog): unknown {
  return observeLog(log, [T0 - 1, T0, T0 + 5_000, T0 + 48_000, T0 + 96_000, T0 + 97_000]);
}

describe("resuming a cleanly closed log from its indexes", () => {
  test("gives what walking it gives, without walking a batch", async () => {
    const dir = tempDir();
    await filledAndClosed(dir);
    const copy = walkedCopyOf(dir);
    const resumed = await PartitionLog.open(dir, "t", 0, CFG, { cleanShutdown: true });
    const walked = await PartitionLog.open(copy, "t", 0, CFG);
    expect(resumed.segmentCount).toBeGreaterThan(3);
    expect(resumed.recoveryStats).toMatchObject({ resumedSegments: resumed.segmentCount, batches: 0, bytes: 0 });
    expect(walked.recoveryStats?.resumedSegments).toBe(0);
    expect(walked.recoveryStats?.batches).toBe(61);
    expect(resumed.maxTimestamp()?.timestamp).toBe(T0 + 300_000);
    expect(observe(resumed)).toEqual(observe(walked));
    // producer state: the close's snapshot covers everything, so nothing is replayed, and a
    // retried batch of producer 42 is still recognised as a duplicate
    expect(resumed.producerStateLoad).toEqual(walked.producerStateLoad);
    const retry = buildBatch(sampleRecords(2, T0), { producerId: 42, producerEpoch: 0, baseSequence: 38 });
    const a = resumed.append(retry, T0);
    const b = walked.append(retry, T0);
    expect(a.baseOffset).toBe(b.baseOffset);
    expect(a.baseOffset).toBeLessThan(resumed.logEndOffset); // a duplicate: its original offset
    // and both go on appending at the same offset
    const next = buildBatch(sampleRecords(3, T0 + 200_000));
    expect(resumed.append(next, T0).baseOffset).toBe(walked.append(next, T0).baseOffset);
    await resumed.close();
    await walked.close();
  });

  test("a log file that does not end where its index says is walked (and its torn tail cut)", async () => {
    const dir = tempDir();
    await filledAndClosed(dir);
    const logs = filesOf(dir, ".log");
    const active = join(dir, logs[logs.length - 1]!);
    const goodSize = statSync(active).size;
    appendFileSync(active, new Uint8Array(30).fill(7)); // bytes written behind the log's back
    const log = await PartitionLog.open(dir, "t", 0, CFG, { cleanShutdown: true });
    expect(log.recoveryStats!.resumedSegments).toBe(logs.length - 1);
    expect(log.recoveryStats!.batches).toBeGreaterThan(0);
    expect(log.recoveryStats!.truncatedBytes).toBe(30);
    expect(statSync(active).size).toBe(goodSize);
    await log.close();
  });

  test("an index that does not load (torn) sends its segment to the walk, which rebuilds it", async () => {
    const dir = tempDir();
    await filledAndClosed(dir);
    const copy = walkedCopyOf(dir);
    const indexes = filesOf(dir, ".index");
    const victim = join(dir, indexes[1]!);
    truncateSync(victim, statSync(victim).size - 3);
    const log = await PartitionLog.open(dir, "t", 0, CFG, { cleanShutdown: true });
    expect(log.recoveryStats!.resumedSegments).toBe(indexes.length - 1);
    expect(statSync(victim).size % 8).toBe(0); // rebuilt
    const walked = await PartitionLog.open(copy, "t", 0, CFG);
    expect(observe(log)).toEqual(observe(walked));
    await log.close();
    await walked.close();
  });

  test("a torn sealed segment is walked and ends the log, as a crash recovery would", async () => {
    const dir = tempDir();
    await filledAndClosed(dir);
    const logs = filesOf(dir, ".log");
    const before = await PartitionLog.open(dir, "t", 0, CFG);
    const sealed = before.sealedSegments()[1]!;
    await before.close();
    const second = join(dir, logs[1]!);
    truncateSync(second, statSync(second).size - 1); // its last batch torn
    const log = await PartitionLog.open(dir, "t", 0, CFG, { cleanShutdown: true });
    expect(log.recoveryStats!.resumedSegments).toBe(1); // only the first
    expect(log.segmentCount).toBe(2); // the hole ends the log
    expect(log.logEndOffset).toBeLessThan(sealed.endOffset);
    expect(filesOf(dir, ".log").length).toBe(2);
    await log.close();
  });
});
