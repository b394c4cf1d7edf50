// After a crash, the segments below a partition's recovery point (all files fsynced before it was
// written) are resumed from their indexes and only the rest is walked — and what the broker then
// reads must be what a full walk gives.
import { describe, expect, test } from "bun:test";
import { cpSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RECOVERY_POINT_FILE } from "../../../src/log/file-names.ts";
import { PartitionLog } from "../../../src/log/partition-log.ts";
import { readRecoveryPoint } from "../../../src/log/recovery-point.ts";
import { fdSegmentFileFactory } from "../../../src/log/segment-file.ts";
import type { SegmentFile, SegmentFileFactory } from "../../../src/log/segment-file.ts";
import { buildBatch, sampleRecords } from "./batch-builder.ts";
import { config, tempDir } from "./helpers.ts";
import { observeLog } from "./observe-log.ts";

const T0 = 1_700_000_000_000;
const DURABLE = config({ segmentBytes: 2048, indexIntervalBytes: 150 });
const FLUSH_INTERVAL = config({ segmentBytes: 2048, indexIntervalBytes: 150, flushIntervalMs: 60_000 });
const LOOKUPS = [T0 - 1, T0, T0 + 5_000, T0 + 48_000, T0 + 96_000, T0 + 97_000];

/** Appends `n` batches, timestamps out of order, every third from idempotent producer 42. */
function appendBatches(log: PartitionLog, n: number, seq = { next: 0 }): Promise<void>[] {
  const durable: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const ts = T0 + ((i * 7919) % 97) * 1000;
    const idempotent = i % 3 === 0;
    const batch = idempotent
      ? buildBatch(sampleRecords(2, ts), { producerId: 42, producerEpoch: 0, baseSequence: (seq.next += 2) - 2 })
      : buildBatch(sampleRecords(1 + (i % 4), ts));
    const r = log.append(batch, T0 + i);
    expect(r.errorCode).toBe(0);
    durable.push(r.durable);
  }
  return durable;
}

/** Segment files whose fdatasync waits until the test opens the gate. */
class GatedSyncFiles implements SegmentFileFactory {
  readonly writesReachKernelOnReturn = true;
  waiting = 0;
  private release!: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.release = resolve));

  open(path: string): SegmentFile {
    const real = fdSegmentFileFactory.open(path);
    return new Proxy(real, {
      get: (target, prop) => {
        if (prop !== "datasync") {
          const value: unknown = Reflect.get(target, prop, target);
          return typeof value === "function" ? value.bind(target) : value;
        }
        return async () => {
          this.waiting++;
          await this.gate;
          await target.datasync();
        };
      },
    });
  }

  openGate(): void {
    this.release();
  }
}

/** A copy of the directory as a crash would leave it now (the live log is never closed). */
function crashImage(dir: string, name: string, keepRecoveryPoint = true): string {
  const copy = `${dir}-${name}`;
  cpSync(dir, copy, { recursive: true });
  if (!keepRecoveryPoint) rmSync(join(copy, RECOVERY_POINT_FILE));
  return copy;
}

describe("recovery point", () => {
  test("is written only once the segments below it were fsynced", async () => {
    const dir = tempDir();
    const files = new GatedSyncFiles();
    const log = await PartitionLog.open(dir, "t", 0, FLUSH_INTERVAL, { files });
    appendBatches(log, 60); // each roll starts a background sync of the sealed segment
    expect(log.segmentCount).toBeGreaterThan(3);
    await Bun.sleep(50);
    expect(files.waiting).toBeGreaterThan(0); // the roll's sync is stuck in fdatasync...
    expect(readRecoveryPoint(dir)).toBeNull(); // ...so nothing is claimed durable yet
    files.openGate();
    await log.flush();
    const point = await log.writtenRecoveryPoint();
    expect(point).toBe(log.sealedSegments().at(-1)!.endOffset); // the active segment's base
    expect(readRecoveryPoint(dir)).toBe(point);
    await log.close();
  });

  test("a crash resumes the segments below it, walks only the rest, and reads like a full walk", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir, "t", 0, DURABLE);
    await Promise.all(appendBatches(log, 60));
    const point = await log.writtenRecoveryPoint();
    expect(point).toBeGreaterThan(0);
    const crashed = crashImage(dir, "crashed");
    const walkedDir = crashImage(dir, "walked", false);

    const resumed = await PartitionLog.open(crashed, "t", 0, DURABLE);
    const walked = await PartitionLog.open(walkedDir, "t", 0, DURABLE);
    const segments = resumed.segmentCount;
    expect(segments).toBeGreaterThan(3);
    expect(resumed.recoveryStats!.resumedSegments).toBe(segments - 1); // every sealed one
    expect(walked.recoveryStats!.resumedSegments).toBe(0);
    expect(walked.recoveryStats!.batches).toBe(60);
    // only the active segment was walked, and all of it CRC-checked (it lies past the point)
    expect(resumed.recoveryStats!.batches).toBeGreaterThan(0);
    expect(resumed.recoveryStats!.batches).toBeLessThan(60);
    expect(resumed.recoveryStats!.crcBytes).toBe(resumed.recoveryStats!.bytes);
    expect(resumed.recoveryStats!.bytes).toBe(statSync(join(crashed, `${String(point).padStart(20, "0")}.log`)).size);
    expect(observeLog(resumed, LOOKUPS)).toEqual(observeLog(walked, LOOKUPS));
    // producer 42's last batch is still known: a retry is answered with its original offset
    const retry = buildBatch(sampleRecords(2, T0), { producerId: 42, producerEpoch: 0, baseSequence: 38 });
    const a = resumed.append(retry, T0);
    expect(a.baseOffset).toBe(walked.append(retry, T0).baseOffset);
    expect(a.baseOffset).toBeLessThan(resumed.logEndOffset);
    await Promise.all([resumed.close(), walked.close(), log.close()]);
  });

  test("a flush-interval log's unflushed segments past it are walked with CRCs and not tiered until flushed", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir, "t", 0, FLUSH_INTERVAL);
    const seq = { next: 0 };
    appendBatches(log, 30, seq);
    await log.flush();
    const point = (await log.writtenRecoveryPoint())!;
    const sealedAtFlush = log.sealedSegments().length;
    // three or more rolls; their background syncs start in a later microtask, after the copy
    appendBatches(log, 60, seq);
    expect(log.segmentCount - 1 - sealedAtFlush).toBeGreaterThanOrEqual(3);
    const crashed = crashImage(dir, "crashed");

    const reopened = await PartitionLog.open(crashed, "t", 0, config({ ...FLUSH_INTERVAL, flushIntervalMs: 200 }));
    expect(reopened.logEndOffset).toBe(log.logEndOffset);
    expect(reopened.recoveryStats!.resumedSegments).toBe(sealedAtFlush);
    expect(reopened.recoveryStats!.crcBytes).toBe(reopened.recoveryStats!.bytes);
    // every segment past the point may hold unsynced bytes: none is offered to tiering yet
    expect(reopened.sealedSegments().length).toBe(sealedAtFlush);
    expect(reopened.sealedSegments().at(-1)!.endOffset).toBe(point);
    await Bun.sleep(500); // flush.ms syncs them, and the point moves up to the active segment
    expect(reopened.sealedSegments().length).toBe(reopened.segmentCount - 1);
    expect(await reopened.writtenRecoveryPoint()).toBe(reopened.sealedSegments().at(-1)!.endOffset);
    await Promise.all([reopened.close(), log.close()]);
  });

  test("a segment below it whose indexes do not fit is walked and its indexes rebuilt", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir, "t", 0, DURABLE);
    await Promise.all(appendBatches(log, 60));
    await log.writtenRecoveryPoint();
    const crashed = crashImage(dir, "crashed");
    const walkedDir = crashImage(dir, "walked", false);
    const sealed = log.sealedSegments();
    const stem = (base: number) => join(crashed, String(base).padStart(20, "0"));
    const intact = readFileSync(`${stem(sealed[1]!.baseOffset)}.index`);
    writeFileSync(`${stem(sealed[1]!.baseOffset)}.index`, intact.subarray(0, intact.length - 8)); // last entry lost
    rmSync(`${stem(sealed[2]!.baseOffset)}.timeindex`);

    const reopened = await PartitionLog.open(crashed, "t", 0, DURABLE);
    const walked = await PartitionLog.open(walkedDir, "t", 0, DURABLE);
    expect(reopened.recoveryStats!.resumedSegments).toBe(reopened.segmentCount - 3);
    expect(readFileSync(`${stem(sealed[1]!.baseOffset)}.index`)).toEqual(intact);
    expect(statSync(`${stem(sealed[2]!.baseOffset)}.timeindex`).size).toBeGreaterThan(0);
    expect(observeLog(reopened, LOOKUPS)).toEqual(observeLog(walked, LOOKUPS));
    await Promise.all([reopened.close(), walked.close(), log.close()]);
  });

  test("an unreadable recovery point file means a full walk", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir, "t", 0, DURABLE);
    await Promise.all(appendBatches(log, 60));
    await log.writtenRecoveryPoint();
    const crashed = crashImage(dir, "crashed");
    writeFileSync(join(crashed, RECOVERY_POINT_FILE), "not msgpack \xff\xfe");
    const reopened = await PartitionLog.open(crashed, "t", 0, DURABLE);
    expect(reopened.recoveryStats!.resumedSegments).toBe(0);
    expect(reopened.recoveryStats!.batches).toBe(60);
    expect(reopened.logEndOffset).toBe(log.logEndOffset);
    await Promise.all([reopened.close(), log.close()]);
  });
});
