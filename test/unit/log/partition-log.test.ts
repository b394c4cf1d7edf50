import { describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, readdirSync, rmSync, statSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { ErrorCode } from "../../../src/protocol/record-batch.ts";
import { PartitionLog } from "../../../src/log/partition-log.ts";
import { baseOffsetOf, buildBatch, concat, legacyMessage, sampleRecords, splitBatches } from "./batch-builder.ts";
import { config, tempDir } from "./helpers.ts";

const T0 = 1_700_000_000_000;

async function appendAll(log: PartitionLog, batches: Uint8Array[], now = T0): Promise<number[]> {
  const offsets: number[] = [];
  for (const b of batches) {
    const r = log.append(b, now);
    expect(r.errorCode).toBe(0);
    offsets.push(r.baseOffset);
    await r.durable;
  }
  return offsets;
}

/** Reads everything from `from` to the high watermark, batch by batch. */
function readAll(log: PartitionLog, from: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let next = from;
  while (next < log.highWatermark) {
    const r = log.read(next, 1);
    expect(r.errorCode).toBe(0);
    const batches = splitBatches(r.records as Uint8Array);
    expect(batches.length).toBe(1);
    const b = batches[0]!;
    out.push(b.bytes.slice());
    next = b.baseOffset + new DataView(b.bytes.buffer, b.bytes.byteOffset).getInt32(23) + 1;
  }
  return out;
}

describe("append and read", () => {
  test("round trip is byte-identical and offsets are contiguous", async () => {
    const log = await PartitionLog.open(tempDir(), "t", 0, config());
    const sent = [3, 1, 7, 2].map((n, i) => buildBatch(sampleRecords(n, T0 + i * 100)));
    const copies = sent.map((b) => b.slice());
    const offsets = await appendAll(log, sent);
    expect(offsets).toEqual([0, 3, 4, 11]);
    expect(log.logEndOffset).toBe(13);
    expect(log.highWatermark).toBe(13);
    const got = readAll(log, 0);
    expect(got.length).toBe(4);
    for (let i = 0; i < 4; i++) {
      const expected = copies[i]!.slice();
      new DataView(expected.buffer).setBigInt64(0, BigInt(offsets[i]!));
      expect(got[i]).toEqual(expected);
    }
    await log.close();
  });

  test("a payload of several batches gets contiguous offsets", async () => {
    const log = await PartitionLog.open(tempDir(), "t", 0, config());
    const r = log.append(concat(buildBatch(sampleRecords(2)), buildBatch(sampleRecords(3))), T0);
    expect(r).toMatchObject({ errorCode: 0, baseOffset: 0 });
    await r.durable;
    const stored = splitBatches(log.read(0, 1 << 20).records!);
    expect(stored.map((b) => b.baseOffset)).toEqual([0, 2]);
    await log.close();
  });

  test("read at an offset inside a batch returns that batch; maxBytes returns at least one batch", async () => {
    const log = await PartitionLog.open(tempDir(), "t", 0, config());
    await appendAll(log, [buildBatch(sampleRecords(5)), buildBatch(sampleRecords(5)), buildBatch(sampleRecords(5))]);
    const inside = log.read(7, 1 << 20);
    expect(splitBatches(inside.records!).map((b) => b.baseOffset)).toEqual([5, 10]);
    const one = log.read(0, 1);
    expect(splitBatches(one.records!).map((b) => b.baseOffset)).toEqual([0]);
    const size0 = splitBatches(log.read(0, 1 << 20).records!)[0]!.bytes.length;
    expect(splitBatches(log.read(0, size0 * 2).records!).length).toBe(2);
    expect(splitBatches(log.read(0, size0 * 2 - 1).records!).length).toBe(1);
    expect(splitBatches(log.read(0, 1 << 20, 10).records!).length).toBe(2);
    expect(log.read(15, 100)).toEqual({ errorCode: 0, records: new Uint8Array(0) });
    expect(log.read(16, 100).errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
    expect(log.read(-1, 100).errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
    await log.close();
  });

  test("offsets stay contiguous across segment rolls; index lookups on many segments", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir, "t", 0, config({ segmentBytes: 4096, indexIntervalBytes: 256 }));
    const batches = Array.from({ length: 200 }, (_, i) => buildBatch(sampleRecords(1 + (i % 4), T0 + i * 10)));
    const copies = batches.map((b) => b.slice());
    const offsets = await appendAll(log, batches);
    expect(log.segmentCount).toBeGreaterThan(5);
    let expected = 0;
    for (let i = 0; i < offsets.length; i++) {
      expect(offsets[i]).toBe(expected);
      expected += 1 + (i % 4);
    }
    // every offset resolves to its batch
    for (let i = 0; i < offsets.length; i++) {
      const last = offsets[i]! + (i % 4);
      const r = log.read(last, 1);
      const b = splitBatches(r.records!)[0]!;
      expect(b.baseOffset).toBe(offsets[i]!);
      const want = copies[i]!.slice();
      new DataView(want.buffer).setBigInt64(0, BigInt(offsets[i]!));
      expect(b.bytes).toEqual(want);
    }
    const logs = readdirSync(dir).filter((n) => n.endsWith(".log")).sort();
    expect(logs[0]).toBe("00000000000000000000.log");
    expect(logs.length).toBe(log.segmentCount);
    expect(readdirSync(dir).filter((n) => n.endsWith(".index")).length).toBe(log.segmentCount);
    await log.close();
  });

  test("LogAppendTime topics stamp the broker time and keep a valid CRC", async () => {
    const log = await PartitionLog.open(tempDir(), "t", 0, config({ messageTimestampType: "LogAppendTime" }));
    const r = log.append(buildBatch(sampleRecords(3)), T0 + 5000);
    expect(r.logAppendTime).toBe(T0 + 5000);
    await r.durable;
    const stored = log.read(0, 1 << 20).records!;
    const dv = new DataView(stored.buffer, stored.byteOffset);
    expect(dv.getInt16(21) & 0x08).toBe(0x08);
    expect(Number(dv.getBigInt64(35))).toBe(T0 + 5000);
    expect(log.offsetForTimestamp(T0 + 5000)).toEqual({ offset: 0, timestamp: T0 + 5000 });
    await log.close();
  });
});

describe("refused appends leave the log unchanged", () => {
  test("corrupt CRC, oversized, magic 1, LogAppendTime set by the producer", async () => {
    const log = await PartitionLog.open(tempDir(), "t", 0, config({ maxMessageBytes: 2000 }));
    await appendAll(log, [buildBatch(sampleRecords(2))]);
    const bad = buildBatch(sampleRecords(2));
    bad[70] = (bad[70] as number) ^ 1;
    expect(log.append(bad, T0)).toMatchObject({ errorCode: ErrorCode.CORRUPT_MESSAGE, baseOffset: -1 });
    // a good batch followed by a bad one: nothing of the payload is appended
    expect(log.append(concat(buildBatch(sampleRecords(1)), bad), T0).errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
    expect(log.append(buildBatch(sampleRecords(30, T0, 100)), T0).errorCode).toBe(ErrorCode.MESSAGE_TOO_LARGE);
    expect(log.append(legacyMessage(1), T0).errorCode).toBe(ErrorCode.INVALID_RECORD);
    expect(log.append(buildBatch(sampleRecords(1), { timestampType: 1 }), T0).errorCode).toBe(ErrorCode.INVALID_TIMESTAMP);
    expect(log.logEndOffset).toBe(2);
    expect(log.sizeInBytes()).toBe(buildBatch(sampleRecords(2)).length);
    expect((await appendAll(log, [buildBatch(sampleRecords(1))]))[0]).toBe(2);
    await log.close();
  });
});

describe("timestamps", () => {
  test("offsetForTimestamp finds the first batch with maxTimestamp >= ts across segments", async () => {
    const log = await PartitionLog.open(tempDir(), "t", 0, config({ segmentBytes: 2048, indexIntervalBytes: 128 }));
    // batch i has records at T0 + i*1000 .. +2
    const batches = Array.from({ length: 60 }, (_, i) => buildBatch(sampleRecords(3, T0 + i * 1000)));
    await appendAll(log, batches);
    expect(log.segmentCount).toBeGreaterThan(3);
    // uncompressed batches: the exact record, like Kafka
    expect(log.offsetForTimestamp(0)).toEqual({ offset: 0, timestamp: T0 });
    expect(log.offsetForTimestamp(T0 + 2)).toEqual({ offset: 2, timestamp: T0 + 2 });
    expect(log.offsetForTimestamp(T0 + 3)).toEqual({ offset: 3, timestamp: T0 + 1000 });
    expect(log.offsetForTimestamp(T0 + 7001)).toEqual({ offset: 22, timestamp: T0 + 7001 });
    for (const i of [7, 23, 41, 59]) {
      expect(log.offsetForTimestamp(T0 + i * 1000 - 500)).toEqual({ offset: i * 3, timestamp: T0 + i * 1000 });
    }
    expect(log.offsetForTimestamp(T0 + 60_000)).toBeNull();
    expect(log.maxTimestamp()).toEqual({ offset: 179, timestamp: T0 + 59_002 });
    await log.close();
  });
});

describe("timestamps of compressed batches", () => {
  test("batch grain: base offset and maxTimestamp (records are not decompressed)", async () => {
    const log = await PartitionLog.open(tempDir(), "t", 0, config());
    await appendAll(log, [buildBatch(sampleRecords(3, T0), { compression: 1 }), buildBatch(sampleRecords(3, T0 + 10), { compression: 1 })]);
    expect(log.offsetForTimestamp(T0 + 1)).toEqual({ offset: 0, timestamp: T0 + 2 });
    expect(log.offsetForTimestamp(T0 + 11)).toEqual({ offset: 3, timestamp: T0 + 12 });
    await log.close();
  });
});

describe("control batches", () => {
  test("refused from clients (INVALID_RECORD), accepted from the coordinator", async () => {
    const log = await PartitionLog.open(tempDir(), "t", 0, config());
    const marker = () => buildBatch(sampleRecords(1), { control: true, transactional: true, producerId: 5, producerEpoch: 0, baseSequence: -1 });
    const bad = log.append(marker(), T0);
    expect(bad.errorCode).toBe(ErrorCode.INVALID_RECORD);
    await appendAll(log, [buildBatch(sampleRecords(2), { transactional: true, producerId: 5, producerEpoch: 0, baseSequence: 0 })]);
    expect(log.activeProducers()[0]?.currentTxnStartOffset).toBe(0);
    const ok = log.append(marker(), T0, "coordinator");
    expect(ok).toMatchObject({ errorCode: 0, baseOffset: 2 });
    await ok.durable;
    expect(log.activeProducers()[0]?.currentTxnStartOffset).toBe(-1);
    await log.close();
  });
});

describe("recovery", () => {
  test("garbage and a torn batch at the tail are truncated; appends continue at the right offset", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir, "t", 0, config());
    const batches = Array.from({ length: 10 }, (_, i) => buildBatch(sampleRecords(2, T0 + i)));
    const copies = batches.map((b) => b.slice());
    await appendAll(log, batches);
    const goodSize = log.sizeInBytes();
    await log.close();

    const logFile = join(dir, "00000000000000000000.log");
    const half = buildBatch(sampleRecords(4));
    new DataView(half.buffer).setBigInt64(0, 20n);
    appendFileSync(logFile, half.subarray(0, half.length - 7));
    const reopened = await PartitionLog.open(dir, "t", 0, config());
    expect(statSync(logFile).size).toBe(goodSize);
    expect(reopened.logEndOffset).toBe(20);
    expect(reopened.highWatermark).toBe(20);
    const got = readAll(reopened, 0);
    for (let i = 0; i < 10; i++) {
      const want = copies[i]!.slice();
      new DataView(want.buffer).setBigInt64(0, BigInt(i * 2));
      expect(got[i]).toEqual(want);
    }
    await reopened.close();

    appendFileSync(logFile, new Uint8Array(1000).fill(0xab));
    const again = await PartitionLog.open(dir, "t", 0, config());
    expect(statSync(logFile).size).toBe(goodSize);
    const r = again.append(buildBatch(sampleRecords(1)), T0);
    expect(r.baseOffset).toBe(20);
    await r.durable;
    expect(splitBatches(again.read(20, 1000).records!)[0]!.baseOffset).toBe(20);
    await again.close();
  });

  test("a batch with a bad CRC in the active segment is cut off with everything after it", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir, "t", 0, config());
    await appendAll(log, Array.from({ length: 5 }, () => buildBatch(sampleRecords(1))));
    await log.close();
    const logFile = join(dir, "00000000000000000000.log");
    const size = statSync(logFile).size;
    const batchSize = size / 5;
    const bytes = new Uint8Array(await Bun.file(logFile).arrayBuffer());
    bytes[batchSize * 3 + 70] = (bytes[batchSize * 3 + 70] as number) ^ 0x55; // inside batch 3
    await Bun.write(logFile, bytes);
    const reopened = await PartitionLog.open(dir, "t", 0, config());
    expect(reopened.logEndOffset).toBe(3);
    expect(statSync(logFile).size).toBe(batchSize * 3);
    await reopened.close();
  });

  test("deleted and damaged indexes are rebuilt", async () => {
    const dir = tempDir();
    const cfg = config({ segmentBytes: 4096, indexIntervalBytes: 200 });
    const log = await PartitionLog.open(dir, "t", 0, cfg);
    await appendAll(log, Array.from({ length: 100 }, (_, i) => buildBatch(sampleRecords(2, T0 + i * 10))));
    await log.close();
    const indexes = readdirSync(dir).filter((n) => n.endsWith(".index")).sort();
    const before = indexes.map((n) => statSync(join(dir, n)).size);
    expect(before.every((s) => s > 0)).toBe(true);
    rmSync(join(dir, indexes[0]!));
    truncateSync(join(dir, indexes[1]!), 5); // not a multiple of 8
    await Bun.write(join(dir, indexes[2]!), new Uint8Array(16).fill(0x7f)); // nonsense entries
    rmSync(join(dir, indexes[3]!.replace(".index", ".timeindex")));
    const reopened = await PartitionLog.open(dir, "t", 0, cfg);
    const after = indexes.map((n) => statSync(join(dir, n)).size);
    expect(after).toEqual(before);
    for (let o = 0; o < 200; o += 7) {
      expect(splitBatches(reopened.read(o, 1).records!)[0]!.baseOffset).toBe(o - (o % 2));
    }
    expect(reopened.offsetForTimestamp(T0 + 555)).toEqual({ offset: 112, timestamp: T0 + 560 });
    await reopened.close();
  });

  test("a new segment file with nothing in it (crash right after a roll) is fine", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir, "t", 0, config({ segmentBytes: 1024 }));
    await appendAll(log, Array.from({ length: 20 }, () => buildBatch(sampleRecords(3))));
    const end = log.logEndOffset;
    const n = log.segmentCount;
    await log.close();
    await Bun.write(join(dir, String(end).padStart(20, "0") + ".log"), new Uint8Array(0));
    const reopened = await PartitionLog.open(dir, "t", 0, config({ segmentBytes: 1024 }));
    expect(reopened.segmentCount).toBe(n + 1);
    expect(reopened.logEndOffset).toBe(end);
    await reopened.close();
  });
});

describe("deleteRecordsBefore", () => {
  test("moves the log start, deletes whole segments, persists across reopen", async () => {
    const dir = tempDir();
    const cfg = config({ segmentBytes: 1024 });
    const log = await PartitionLog.open(dir, "t", 0, cfg);
    await appendAll(log, Array.from({ length: 40 }, () => buildBatch(sampleRecords(2))));
    const segments = log.segmentCount;
    expect(await log.deleteRecordsBefore(81)).toEqual({ errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, lowWatermark: 0 });
    expect(await log.deleteRecordsBefore(31)).toEqual({ errorCode: 0, lowWatermark: 31 });
    expect(log.logStartOffset).toBe(31);
    expect(log.segmentCount).toBeLessThan(segments);
    expect(log.read(30, 100).errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
    expect(splitBatches(log.read(31, 1).records!)[0]!.baseOffset).toBe(30);
    expect(readdirSync(dir).includes("00000000000000000000.log")).toBe(false);
    await log.close();
    const reopened = await PartitionLog.open(dir, "t", 0, cfg);
    expect(reopened.logStartOffset).toBe(31);
    expect(reopened.logEndOffset).toBe(80);
    expect(await reopened.deleteRecordsBefore(-1)).toEqual({ errorCode: 0, lowWatermark: 80 });
    await reopened.close();
    const third = await PartitionLog.open(dir, "t", 0, cfg);
    expect(third.logStartOffset).toBe(80);
    expect(third.read(80, 100)).toEqual({ errorCode: 0, records: new Uint8Array(0) });
    const r = third.append(buildBatch(sampleRecords(1)), T0);
    expect(r).toMatchObject({ baseOffset: 80, logStartOffset: 80 });
    await r.durable;
    await third.close();
  });
});

describe("retention", () => {
  test("by bytes: oldest sealed segments go, the active one stays", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir, "t", 0, config({ segmentBytes: 1024, retentionBytes: 3000 }));
    await appendAll(log, Array.from({ length: 60 }, () => buildBatch(sampleRecords(2))));
    const before = log.sizeInBytes();
    expect(before).toBeGreaterThan(3000);
    await log.applyRetention(T0);
    expect(log.sizeInBytes()).toBeLessThan(3000 + 1024);
    expect(log.sizeInBytes()).toBeGreaterThanOrEqual(3000 - 1024);
    expect(log.logStartOffset).toBeGreaterThan(0);
    expect(log.read(log.logStartOffset, 10).errorCode).toBe(0);
    expect(log.logEndOffset).toBe(120);
    await log.close();
  });

  test("by time uses segment max timestamps; segment.ms rolls the active segment", async () => {
    const dir = tempDir();
    const cfg = config({ segmentBytes: 1 << 20, segmentMs: 60_000, retentionMs: 3_600_000 });
    const log = await PartitionLog.open(dir, "t", 0, cfg);
    // 3 segments rolled by time: batches at T0, T0+2h, T0+4h (CreateTime = producer time)
    for (let i = 0; i < 3; i++) {
      const now = T0 + i * 7_200_000;
      await appendAll(log, [buildBatch(sampleRecords(2, now)), buildBatch(sampleRecords(2, now + 1))], now);
    }
    expect(log.segmentCount).toBe(3);
    const now = T0 + 5 * 3_600_000;
    await log.applyRetention(now); // rolls the active segment (older than segment.ms) first
    expect(log.segmentCount).toBe(2);
    await log.flush();
    await log.applyRetention(now);
    // segments with max timestamp < now - 1h are gone: those at T0 and T0+2h
    expect(log.logStartOffset).toBe(8);
    expect(log.segmentCount).toBe(2);
    await log.close();
  });
});

describe("misc", () => {
  test("delete removes the directory; close rejects later appends", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir, "t", 0, config());
    await appendAll(log, [buildBatch(sampleRecords(1))]);
    await log.delete();
    expect(existsSync(dir)).toBe(false);
    expect(log.append(buildBatch(sampleRecords(1)), T0).errorCode).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
  });

  test("baseOffset of stored batches is patched", async () => {
    const log = await PartitionLog.open(tempDir(), "t", 0, config());
    await appendAll(log, [buildBatch(sampleRecords(4), { baseOffset: 999 })]);
    const r = log.append(buildBatch(sampleRecords(1), { baseOffset: 999 }), T0);
    await r.durable;
    expect(baseOffsetOf(log.read(4, 100).records!)).toBe(4);
    await log.close();
  });
});
