import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pack } from "msgpackr";
import { PartitionLog } from "../../../src/log/partition-log.ts";
import { buildBatch, sampleRecords, splitBatches } from "./batch-builder.ts";
import { config, tempDir } from "./helpers.ts";

const T0 = 1_700_000_000_000;

async function fill(dir: string, n: number, segmentBytes = 1024): Promise<PartitionLog> {
  const log = await PartitionLog.open(dir, "t", 0, config({ segmentBytes }));
  for (let i = 0; i < n; i++) await log.append(buildBatch(sampleRecords(2, T0 + i)), T0 + i).durable;
  return log;
}

describe("recovery edge cases", () => {
  test("a torn sealed segment ends the log: later segments (after the hole) are dropped", async () => {
    const dir = tempDir();
    const log = await fill(dir, 30);
    const n = log.segmentCount;
    expect(n).toBeGreaterThanOrEqual(4);
    await log.close();
    const logs = readdirSync(dir).filter((f) => f.endsWith(".log")).sort();
    const second = join(dir, logs[1]!);
    truncateSync(second, statSync(second).size - 10); // torn tail of a sealed segment
    const reopened = await PartitionLog.open(dir, "t", 0, config({ segmentBytes: 1024 }));
    expect(reopened.segmentCount).toBe(2);
    const firstBase = Number(logs[1]!.slice(0, 20));
    expect(reopened.logEndOffset).toBeGreaterThan(firstBase);
    expect(readdirSync(dir).filter((f) => f.endsWith(".log")).length).toBe(2);
    const r = reopened.append(buildBatch(sampleRecords(1)), T0);
    expect(r.baseOffset).toBe(reopened.logEndOffset - 1);
    await r.durable;
    // everything readable is contiguous
    let next = 0;
    while (next < reopened.highWatermark) {
      const b = splitBatches(reopened.read(next, 1).records!)[0]!;
      expect(b.baseOffset).toBe(next);
      next += new DataView(b.bytes.buffer, b.bytes.byteOffset).getInt32(23) + 1;
    }
    await reopened.close();
  });

  test("leftover temp and .deleted files are cleaned up", async () => {
    const dir = tempDir();
    const log = await fill(dir, 3);
    await log.close();
    writeFileSync(join(dir, "partition.meta.tmp"), "junk");
    writeFileSync(join(dir, "00000000000000000099.log.deleted"), "junk");
    const reopened = await PartitionLog.open(dir, "t", 0, config());
    expect(readdirSync(dir).some((f) => f.endsWith(".tmp") || f.endsWith(".deleted"))).toBe(false);
    expect(reopened.logEndOffset).toBe(6);
    await reopened.close();
  });

  test("a persisted log start beyond the surviving data starts an empty log there", async () => {
    const dir = tempDir();
    const log = await fill(dir, 3);
    await log.close();
    writeFileSync(join(dir, "partition.meta"), pack({ v: 1, logStartOffset: 50 }));
    const reopened = await PartitionLog.open(dir, "t", 0, config());
    expect(reopened.logStartOffset).toBe(50);
    expect(reopened.logEndOffset).toBe(50);
    expect(reopened.append(buildBatch(sampleRecords(1)), T0).baseOffset).toBe(50);
    await reopened.close();
  });

  test("file.delete.delay.ms renames deleted segments to *.deleted first", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir, "t", 0, config({ segmentBytes: 1024, fileDeleteDelayMs: 60_000 }));
    for (let i = 0; i < 30; i++) await log.append(buildBatch(sampleRecords(2)), T0).durable;
    await log.deleteRecordsBefore(30);
    expect(existsSync(join(dir, "00000000000000000000.log"))).toBe(false);
    expect(existsSync(join(dir, "00000000000000000000.log.deleted"))).toBe(true);
    await log.close();
  });

  test("segment.ms rolls on append; flush.ms flushes in the background", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir, "t", 0, config({ segmentMs: 1000, flushIntervalMs: 20 }));
    log.append(buildBatch(sampleRecords(1)), T0);
    log.append(buildBatch(sampleRecords(1)), T0 + 500);
    expect(log.segmentCount).toBe(1);
    log.append(buildBatch(sampleRecords(1)), T0 + 1001);
    expect(log.segmentCount).toBe(2);
    const before = log.syncCount;
    await Bun.sleep(60);
    expect(log.syncCount).toBeGreaterThan(before);
    await log.close();
  });

  test("segment.jitter.ms shortens segment.ms by a random part", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir, "t", 0, config({ segmentMs: 1000, segmentJitterMs: 500 }), { random: () => 0.99 });
    log.append(buildBatch(sampleRecords(1)), T0);
    log.append(buildBatch(sampleRecords(1)), T0 + 600);
    expect(log.segmentCount).toBe(2);
    await log.close();
  });
});
