import { describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { RECOVERY_POINT_FILE } from "../../../src/log/file-names.ts";
import { ErrorCode } from "../../../src/protocol/record-batch.ts";
import { PartitionLog } from "../../../src/log/partition-log.ts";
import { fdSegmentFileFactory } from "../../../src/log/segment-file.ts";
import type { SegmentFile, SegmentFileFactory } from "../../../src/log/segment-file.ts";
import { buildBatch, sampleRecords, splitBatches } from "./batch-builder.ts";
import { config, tempDir } from "./helpers.ts";

const T0 = 1_700_000_000_000;

/** Wraps the real files, counting fsyncs and injecting faults on `.log` files. */
class FaultyFiles implements SegmentFileFactory {
  /** It wraps the js backend's synchronous writes. */
  readonly writesReachKernelOnReturn = true;
  datasyncs = 0;
  failWrites = false;
  /** Bytes a failing write manages to write before erroring (a torn write). */
  partialBytes = 0;
  failSync = false;
  syncDelayMs = 0;
  readonly events: string[] = [];

  open(path: string): SegmentFile {
    const real = fdSegmentFileFactory.open(path);
    const isLog = path.endsWith(".log");
    const self = this;
    return {
      path,
      get size() {
        return real.size;
      },
      write(buf: Uint8Array) {
        if (isLog && self.failWrites) {
          if (self.partialBytes > 0) real.write(buf.subarray(0, Math.min(self.partialBytes, buf.length)));
          throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
        }
        real.write(buf);
      },
      read: (p, n) => real.read(p, n),
      truncate: (n) => real.truncate(n),
      async datasync() {
        if (isLog) {
          self.datasyncs++;
          self.events.push(`sync-start ${path.slice(-24)}`);
        }
        if (self.syncDelayMs > 0) await Bun.sleep(self.syncDelayMs);
        if (isLog && self.failSync) throw Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" });
        await real.datasync();
        if (isLog) self.events.push(`sync-end ${path.slice(-24)}`);
      },
      close: () => real.close(),
    };
  }
}

describe("group commit", () => {
  test("100 concurrent appends share a handful of fsyncs", async () => {
    const files = new FaultyFiles();
    const log = await PartitionLog.open(tempDir(), "t", 0, config(), { files });
    const syncsBefore = files.datasyncs;
    const results = Array.from({ length: 100 }, () => log.append(buildBatch(sampleRecords(2)), T0));
    expect(results.map((r) => r.baseOffset)).toEqual(Array.from({ length: 100 }, (_, i) => i * 2));
    await Promise.all(results.map((r) => r.durable));
    const syncs = files.datasyncs - syncsBefore;
    expect(syncs).toBeGreaterThanOrEqual(1);
    expect(syncs).toBeLessThanOrEqual(3);
    expect(log.highWatermark).toBe(200);
    await log.close();
  });

  test("appends arriving during an fsync wait for the next one, and resolve in order", async () => {
    const files = new FaultyFiles();
    files.syncDelayMs = 20;
    const log = await PartitionLog.open(tempDir(), "t", 0, config(), { files });
    const advances: number[] = [];
    log.onHighWatermarkAdvance = (l) => advances.push(l.highWatermark);
    const order: number[] = [];
    const first = log.append(buildBatch(sampleRecords(1)), T0);
    void first.durable.then(() => order.push(0));
    await Bun.sleep(5); // first fsync is running now
    const later = Array.from({ length: 10 }, (_, i) => {
      const r = log.append(buildBatch(sampleRecords(1)), T0);
      void r.durable.then(() => order.push(i + 1));
      return r;
    });
    // not durable yet: consumers must not see it
    expect(log.highWatermark).toBeLessThan(11);
    expect(log.read(1, 1000).records!.length).toBe(0);
    expect(log.read(1, 1000, log.logEndOffset).records!.length).toBeGreaterThan(0);
    await first.durable;
    expect(log.highWatermark).toBe(1);
    await Promise.all(later.map((r) => r.durable));
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(advances).toEqual([1, 11]);
    await log.close();
  });

  test("a rolled segment is fsynced before the new segment's data", async () => {
    const files = new FaultyFiles();
    const log = await PartitionLog.open(tempDir(), "t", 0, config({ segmentBytes: 600 }), { files });
    files.events.length = 0;
    const rs = Array.from({ length: 6 }, () => log.append(buildBatch(sampleRecords(3)), T0));
    expect(log.segmentCount).toBeGreaterThan(1);
    await Promise.all(rs.map((r) => r.durable));
    // each segment's sync ends before a later segment's sync starts
    const ends = files.events.filter((e) => e.startsWith("sync-end")).map((e) => e.slice(9));
    const sortedUnique = [...new Set(ends)];
    expect(sortedUnique).toEqual([...sortedUnique].sort());
    await log.close();
  });

  test("flush-interval mode: high watermark = log end at once, fsync every N messages", async () => {
    const files = new FaultyFiles();
    const log = await PartitionLog.open(tempDir(), "t", 0, config({ flushIntervalMessages: 10 }), { files });
    let woken = 0;
    log.onHighWatermarkAdvance = () => woken++;
    const before = files.datasyncs;
    for (let i = 0; i < 20; i++) {
      const r = log.append(buildBatch(sampleRecords(1)), T0);
      expect(log.highWatermark).toBe(i + 1);
      await r.durable;
    }
    expect(woken).toBe(20);
    await log.flush();
    expect(files.datasyncs - before).toBeLessThanOrEqual(3);
    expect(files.datasyncs - before).toBeGreaterThanOrEqual(2);
    await log.close();
  });

  test("switching flush-interval → durable never moves the high watermark back", async () => {
    const log = await PartitionLog.open(tempDir(), "t", 0, config({ flushIntervalMs: 60_000 }));
    for (let i = 0; i < 5; i++) log.append(buildBatch(sampleRecords(1)), T0);
    expect(log.highWatermark).toBe(5);
    log.updateConfig(config());
    expect(log.highWatermark).toBe(5);
    const r = log.append(buildBatch(sampleRecords(1)), T0);
    expect(log.highWatermark).toBe(5);
    await r.durable;
    expect(log.highWatermark).toBe(6);
    await log.close();
  });
});

describe("storage errors", () => {
  test("a failed write leaves no partial batch and consumes no offsets", async () => {
    const files = new FaultyFiles();
    const dir = tempDir();
    const log = await PartitionLog.open(dir, "t", 0, config(), { files });
    await log.append(buildBatch(sampleRecords(2)), T0).durable;
    const size = log.sizeInBytes();
    files.failWrites = true;
    files.partialBytes = 30;
    const r = log.append(buildBatch(sampleRecords(3)), T0);
    expect(r.errorCode).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    expect(log.sizeInBytes()).toBe(size);
    expect(log.logEndOffset).toBe(2);
    files.failWrites = false;
    const ok = log.append(buildBatch(sampleRecords(1)), T0);
    expect(ok).toMatchObject({ errorCode: 0, baseOffset: 2 });
    await ok.durable;
    await log.close();
    const reopened = await PartitionLog.open(dir, "t", 0, config());
    expect(reopened.logEndOffset).toBe(3);
    expect(splitBatches(reopened.read(0, 1 << 20).records!).map((b) => b.baseOffset)).toEqual([0, 2]);
    await reopened.close();
  });

  test("a failed fsync rejects the covered appends and fails the log until reopened", async () => {
    const files = new FaultyFiles();
    const dir = tempDir();
    const log = await PartitionLog.open(dir, "t", 0, config(), { files });
    await log.append(buildBatch(sampleRecords(1)), T0).durable;
    files.failSync = true;
    const rs = Array.from({ length: 5 }, () => log.append(buildBatch(sampleRecords(1)), T0));
    for (const r of rs) await expect(r.durable).rejects.toThrow(/fsync failed/);
    expect(log.failed).toBe(true);
    expect(log.highWatermark).toBe(1);
    expect(log.append(buildBatch(sampleRecords(1)), T0).errorCode).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    expect(log.read(0, 100).errorCode).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    expect((await log.deleteRecordsBefore(1)).errorCode).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    await log.close();
    const reopened = await PartitionLog.open(dir, "t", 0, config());
    expect(reopened.failed).toBe(false);
    expect(reopened.logEndOffset).toBeGreaterThanOrEqual(1);
    await reopened.close();
  });
});

describe("reopening after a crash", () => {
  /** Appends `n` one-record batches in `segmentBytes`-sized segments and leaves without closing (a crash). */
  async function crashedLog(dir: string, files: FaultyFiles, n: number, overrides: Parameters<typeof config>[0]): Promise<number> {
    const log = await PartitionLog.open(dir, "t", 0, config({ segmentBytes: 600, ...overrides }), { files });
    for (let i = 0; i < n; i++) log.append(buildBatch(sampleRecords(2)), T0);
    expect(log.segmentCount).toBeGreaterThan(2);
    // let the crashed log's own background syncs finish, so the counts below are the reopen's alone
    await log.flush();
    // these tests are about the walk without a recovery point (a log of an older Bunka);
    // recovery-point.test.ts covers the crash that finds one
    expect(await log.writtenRecoveryPoint()).toBeGreaterThan(0);
    rmSync(join(dir, RECOVERY_POINT_FILE));
    return log.logEndOffset;
  }

  test("a durable log fsyncs the recovered tail before it opens, and counts what it walked", async () => {
    const dir = tempDir();
    const files = new FaultyFiles();
    const end = await crashedLog(dir, files, 12, {});
    files.datasyncs = 0;
    const log = await PartitionLog.open(dir, "t", 0, config({ segmentBytes: 600 }), { files });
    expect(files.datasyncs).toBeGreaterThanOrEqual(2); // the last two segments' log files
    expect(log.highWatermark).toBe(end);
    expect(log.recoveryStats?.batches).toBe(12);
    expect(log.recoveryStats?.bytes).toBeGreaterThan(0);
    expect(log.recoveryStats?.crcBytes).toBeGreaterThan(0);
    expect(log.recoveryStats!.crcBytes).toBeLessThan(log.recoveryStats!.bytes); // older segments: headers only
    expect(log.recoveryStats!.syncedSegments).toBe(2);
    await log.close();
  });

  test("a flush-interval log opens without fsyncing and leaves its tail to flush.ms", async () => {
    const dir = tempDir();
    const files = new FaultyFiles();
    const end = await crashedLog(dir, files, 12, { flushIntervalMs: 60_000 });
    files.datasyncs = 0;
    const log = await PartitionLog.open(dir, "t", 0, config({ segmentBytes: 600, flushIntervalMs: 150 }), { files });
    expect(files.datasyncs).toBe(0);
    expect(log.highWatermark).toBe(end);
    expect(log.recoveryStats?.batches).toBe(12);
    expect(log.recoveryStats?.syncedSegments).toBe(0);
    // the sealed segment recovery did not sync is not offered for tiering until a flush syncs it
    const sealedBefore = log.sealedSegments().length;
    expect(sealedBefore).toBe(log.segmentCount - 2);
    await Bun.sleep(400);
    expect(files.datasyncs).toBeGreaterThanOrEqual(2); // the unsynced sealed segment, then the active one
    expect(log.sealedSegments().length).toBe(log.segmentCount - 1);
    await log.close();
  });

  test("a flush-interval log without flush.ms flushes its recovered tail at once", async () => {
    const dir = tempDir();
    const files = new FaultyFiles();
    await crashedLog(dir, files, 12, { flushIntervalMessages: 1000 });
    files.datasyncs = 0;
    const log = await PartitionLog.open(dir, "t", 0, config({ segmentBytes: 600, flushIntervalMessages: 1000 }), { files });
    await Bun.sleep(50);
    expect(files.datasyncs).toBeGreaterThanOrEqual(2);
    expect(log.sealedSegments().length).toBe(log.segmentCount - 1);
    await log.close();
  });

  test("a recovered flush-interval log switched to durable keeps its high watermark", async () => {
    const dir = tempDir();
    const files = new FaultyFiles();
    const end = await crashedLog(dir, files, 12, { flushIntervalMs: 60_000 });
    const log = await PartitionLog.open(dir, "t", 0, config({ segmentBytes: 600, flushIntervalMs: 60_000 }), { files });
    expect(log.highWatermark).toBe(end);
    log.updateConfig(config({ segmentBytes: 600 }));
    expect(log.highWatermark).toBe(end);
    const r = log.append(buildBatch(sampleRecords(1)), T0);
    await r.durable;
    expect(log.highWatermark).toBe(end + 1);
    await log.close();
  });
});
