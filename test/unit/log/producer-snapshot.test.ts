import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import { PartitionLog } from "../../../src/log/partition-log.ts";
import {
  decodeProducerSnapshot,
  encodeProducerSnapshot,
  parseSnapshotFileName,
  snapshotFilePath,
  SnapshotFormatError,
} from "../../../src/log/producer-snapshot.ts";
import type { ProducerEntry } from "../../../src/log/producer-state.ts";
import { ErrorCode } from "../../../src/protocol/record-batch.ts";
import { buildBatch, sampleRecords, splitBatches } from "./batch-builder.ts";
import { config, tempDir } from "./helpers.ts";

const T0 = 1_700_000_000_000;

function batch(pid: number, seq: number, epoch = 0, n = 2): Uint8Array {
  return buildBatch(sampleRecords(n, T0, 100), { producerId: pid, producerEpoch: epoch, baseSequence: seq });
}

function snapshotOffsets(dir: string): number[] {
  return fs
    .readdirSync(dir)
    .map(parseSnapshotFileName)
    .filter((o): o is number => o !== null)
    .sort((a, b) => a - b);
}

/** Small segments (about 3 batches each) so that many rolls happen. */
const small = () => config({ segmentBytes: 700 });

/** Three producers writing `rounds` batches each, round robin; returns the next sequence of each. */
async function produce(log: PartitionLog, pids: number[], rounds: number, startSeq = 0): Promise<void> {
  for (let r = 0; r < rounds; r++) {
    for (const pid of pids) {
      const res = log.append(batch(pid, startSeq + r * 2), T0 + r);
      expect(res.errorCode).toBe(ErrorCode.NONE);
      await res.durable;
    }
  }
}

describe("snapshot format", () => {
  const entries: ProducerEntry[] = [
    {
      producerId: 7,
      producerEpoch: 3,
      coordinatorEpoch: -1,
      currentTxnStartOffset: -1,
      lastTimestamp: T0,
      batches: [
        { firstSeq: 0, lastSeq: 4, firstOffset: 10, lastOffset: 14, timestamp: T0 - 5 },
        { firstSeq: 0x7ffffffe, lastSeq: 1, firstOffset: 2 ** 40, lastOffset: 2 ** 40 + 3, timestamp: -1 },
      ],
    },
    { producerId: 2 ** 50, producerEpoch: 32767, coordinatorEpoch: 12, currentTxnStartOffset: 99, lastTimestamp: -1, batches: [] },
  ];

  test("round trip keeps every field, including negatives and values above 2^32", () => {
    const bytes = encodeProducerSnapshot(123_456_789_012, entries);
    const snap = decodeProducerSnapshot(bytes);
    expect(snap.offset).toBe(123_456_789_012);
    expect(snap.producers).toEqual(entries);
    expect(decodeProducerSnapshot(encodeProducerSnapshot(0, [])).producers).toEqual([]);
  });

  test("any flipped bit, truncation, trailing byte or wrong version is refused", () => {
    const bytes = encodeProducerSnapshot(5, entries);
    for (let i = 0; i < bytes.length; i++) {
      const bad = bytes.slice();
      bad[i] = (bad[i] as number) ^ 0x10;
      expect(() => decodeProducerSnapshot(bad)).toThrow(SnapshotFormatError);
    }
    expect(() => decodeProducerSnapshot(bytes.subarray(0, bytes.length - 1))).toThrow(SnapshotFormatError);
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(() => decodeProducerSnapshot(longer)).toThrow(SnapshotFormatError);
    expect(() => decodeProducerSnapshot(new Uint8Array(3))).toThrow(SnapshotFormatError);
  });

  test("file names are the 20-digit offset", () => {
    expect(snapshotFilePath("/d", 42)).toBe("/d/00000000000000000042.snapshot");
    expect(parseSnapshotFileName("00000000000000000042.snapshot")).toBe(42);
    expect(parseSnapshotFileName("00000000000000000042.snapshot.tmp")).toBeNull();
    expect(parseSnapshotFileName("00000000000000000042.log")).toBeNull();
  });
});

describe("snapshots of a partition log", () => {
  test("written at every roll (state as of the new segment's base) and on close; reopen replays nothing", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir, "t", 0, small());
    await produce(log, [1, 2, 3], 10);
    expect(log.segmentCount).toBeGreaterThan(5);
    const end = log.logEndOffset;
    const before = log.activeProducers();
    await log.close();
    const offsets = snapshotOffsets(dir);
    // One per segment boundary, plus the log end.
    const bases = fs.readdirSync(dir).filter((n) => n.endsWith(".log")).map((n) => Number(n.slice(0, 20))).sort((a, b) => a - b);
    expect(offsets).toEqual([...bases.filter((b) => b > 0), end]);

    const reopened = await PartitionLog.open(dir, "t", 0, small());
    expect(reopened.producerStateLoad).toEqual({ snapshotOffset: end, replayedBatches: 0 });
    expect(reopened.activeProducers()).toEqual(before);
    // Dedupe and sequence checks work from the loaded state alone.
    const retry = reopened.append(batch(3, 18), T0);
    expect(retry.errorCode).toBe(ErrorCode.NONE);
    expect(retry.baseOffset).toBe(end - 2);
    expect(reopened.logEndOffset).toBe(end);
    expect(reopened.append(batch(2, 24), T0).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    const next = reopened.append(batch(2, 20), T0);
    expect(next.errorCode).toBe(ErrorCode.NONE);
    expect(next.baseOffset).toBe(end);
    await reopened.close();
  });

  test("open replays only the batches after the snapshot; without snapshots every batch", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir, "t", 0, small());
    await produce(log, [1, 2], 40);
    const end = log.logEndOffset;
    const before = log.activeProducers();
    await log.close();
    // Drop the close snapshot as a crash would leave it: the roll snapshot at the active base remains.
    fs.rmSync(snapshotFilePath(dir, end));
    const activeBase = Math.max(...snapshotOffsets(dir));
    const a = await PartitionLog.open(dir, "t", 0, small());
    expect(a.producerStateLoad.snapshotOffset).toBe(activeBase);
    expect(a.producerStateLoad.replayedBatches).toBe((end - activeBase) / 2);
    expect(a.activeProducers()).toEqual(before);
    await a.close();

    for (const o of snapshotOffsets(dir)) fs.rmSync(snapshotFilePath(dir, o));
    const b = await PartitionLog.open(dir, "t", 0, small());
    expect(b.producerStateLoad).toEqual({ snapshotOffset: null, replayedBatches: end / 2 });
    expect(b.activeProducers()).toEqual(before);
    await b.close();
  });

  test("a corrupt newest snapshot falls back to an older one (then the batches after it); the bad file is removed", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir, "t", 0, small());
    await produce(log, [1, 2, 3], 8);
    const end = log.logEndOffset;
    const before = log.activeProducers();
    await log.close();
    const offsets = snapshotOffsets(dir);
    const newest = offsets[offsets.length - 1] as number;
    const older = offsets[offsets.length - 2] as number;
    const path = snapshotFilePath(dir, newest);
    const bytes = fs.readFileSync(path);
    bytes[bytes.length - 3] = (bytes[bytes.length - 3] as number) ^ 0xff;
    fs.writeFileSync(path, bytes);

    const reopened = await PartitionLog.open(dir, "t", 0, small());
    expect(reopened.producerStateLoad.snapshotOffset).toBe(older);
    expect(reopened.producerStateLoad.replayedBatches).toBe((end - older) / 2);
    expect(reopened.activeProducers()).toEqual(before);
    expect(fs.existsSync(path)).toBe(false);
    expect(reopened.append(batch(1, 14), T0).baseOffset).toBe(end - 6);
    expect(reopened.logEndOffset).toBe(end);
    await reopened.close();
  });

  test("a snapshot past the log end (its batches were lost) is ignored and removed", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir, "t", 0, small());
    await produce(log, [1], 5);
    const end = log.logEndOffset;
    await log.close();
    // A state that claims sequence 98 was written: if it were trusted, seq 10 would be refused.
    const ghost: ProducerEntry = {
      producerId: 1, producerEpoch: 0, coordinatorEpoch: -1, currentTxnStartOffset: -1, lastTimestamp: T0,
      batches: [{ firstSeq: 98, lastSeq: 99, firstOffset: end + 50, lastOffset: end + 51, timestamp: T0 }],
    };
    fs.writeFileSync(snapshotFilePath(dir, end + 52), encodeProducerSnapshot(end + 52, [ghost]));
    const reopened = await PartitionLog.open(dir, "t", 0, small());
    expect(reopened.producerStateLoad.snapshotOffset).toBe(end);
    expect(fs.existsSync(snapshotFilePath(dir, end + 52))).toBe(false);
    expect(reopened.append(batch(1, 10), T0)).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: end });
    await reopened.close();
  });

  test("state through a snapshot equals the full scan with epoch bumps and many producers", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir, "t", 0, small());
    await produce(log, [1, 2, 3, 4, 5], 6);
    expect(log.append(batch(2, 0, 1), T0).errorCode).toBe(ErrorCode.NONE); // epoch bump restarts at 0
    await produce(log, [1, 3], 3, 12);
    await log.close();
    const viaSnapshot = await PartitionLog.open(dir, "t", 0, small());
    const a = viaSnapshot.activeProducers();
    await viaSnapshot.close();
    for (const o of snapshotOffsets(dir)) fs.rmSync(snapshotFilePath(dir, o));
    const viaScan = await PartitionLog.open(dir, "t", 0, small());
    expect(viaScan.producerStateLoad.snapshotOffset).toBeNull();
    expect(viaScan.activeProducers()).toEqual(a);
    expect(a.find((p) => p.producerId === 2)).toMatchObject({ producerEpoch: 1, lastSequence: 1 });
    await viaScan.close();
  });

  test("deleting segments deletes the snapshots below the first kept segment", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir, "t", 0, config({ segmentBytes: 700, retentionBytes: 1500 }));
    await produce(log, [1], 30);
    await log.flush();
    await log.applyRetention(Date.now());
    const firstBase = Math.min(...fs.readdirSync(dir).filter((n) => n.endsWith(".log")).map((n) => Number(n.slice(0, 20))));
    expect(firstBase).toBeGreaterThan(0);
    await log.close();
    const offsets = snapshotOffsets(dir);
    expect(offsets.length).toBeGreaterThan(0);
    expect(offsets.every((o) => o >= firstBase)).toBe(true);
    expect(offsets).toContain(firstBase);
    // The reopened state is complete: the producer's history before firstBase is kept.
    const reopened = await PartitionLog.open(dir, "t", 0, config({ segmentBytes: 700, retentionBytes: 1500 }));
    expect(reopened.producerStateGap).toBeNull();
    expect(reopened.append(batch(1, 60), T0).errorCode).toBe(ErrorCode.NONE);
    await reopened.close();
  });

  test("restoreProducerState: a snapshot from elsewhere at the first local offset restores producers whose batches are gone", async () => {
    const dir = tempDir();
    const cfg = config({ segmentBytes: 700, retentionBytes: 1500 });
    const log = await PartitionLog.open(dir, "t", 0, cfg);
    await produce(log, [9], 3); // offsets 0..5, seqs 0..5: soon deleted by retention
    await produce(log, [1], 12);
    await log.flush();
    await log.applyRetention(Date.now());
    await log.close();
    const firstBase = Math.min(...snapshotOffsets(dir));
    expect(firstBase).toBeGreaterThan(6);
    const saved = fs.readFileSync(snapshotFilePath(dir, firstBase));
    for (const o of snapshotOffsets(dir)) fs.rmSync(snapshotFilePath(dir, o));

    const reopened = await PartitionLog.open(dir, "t", 0, cfg);
    expect(reopened.producerStateGap).toBe(firstBase);
    expect(reopened.activeProducers().map((p) => p.producerId)).toEqual([1]);
    const end = reopened.logEndOffset;
    expect(reopened.restoreProducerState(encodeProducerSnapshot(end + 1, []))).toBe(false);
    expect(reopened.restoreProducerState(saved)).toBe(true);
    expect(reopened.producerStateGap).toBeNull();
    expect(reopened.producerStateLoad.snapshotOffset).toBe(firstBase);
    expect(reopened.activeProducers().map((p) => [p.producerId, p.lastSequence])).toEqual([[9, 5], [1, 23]]);
    // Producer 9's retry is a duplicate answered with its original offset; its next batch goes on.
    expect(reopened.append(batch(9, 4), T0)).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 4 });
    expect(reopened.logEndOffset).toBe(end);
    expect(reopened.append(batch(9, 8), T0).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect(reopened.append(batch(9, 6), T0)).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: end });
    expect(splitBatches(reopened.read(end, 1 << 20, end + 2).records!).length).toBe(1);
    await reopened.close();
    expect(fs.existsSync(snapshotFilePath(dir, firstBase))).toBe(true);
  });
});

describe("snapshots after a crash", () => {
  test("a torn sealed segment drops the roll snapshots past the cut; state comes from an older one plus the surviving batches", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir, "t", 0, small());
    await produce(log, [1, 2], 12);
    await log.close();
    const bases = fs.readdirSync(dir).filter((n) => n.endsWith(".log")).map((n) => Number(n.slice(0, 20))).sort((a, b) => a - b);
    expect(bases.length).toBeGreaterThan(4);
    // The third-to-last segment loses its last bytes (torn write): it and everything after is cut.
    const victim = bases[bases.length - 3] as number;
    const path = `${dir}/${String(victim).padStart(20, "0")}.log`;
    fs.truncateSync(path, fs.statSync(path).size - 10);
    fs.writeFileSync(`${snapshotFilePath(dir, 999)}.tmp`, "leftover of an interrupted write");

    const reopened = await PartitionLog.open(dir, "t", 0, small());
    const end = reopened.logEndOffset;
    expect(end).toBeLessThan(bases[bases.length - 2] as number);
    expect(reopened.producerStateLoad.snapshotOffset).toBe(victim);
    expect(reopened.producerStateLoad.replayedBatches).toBe((end - victim) / 2);
    expect(snapshotOffsets(dir).every((o) => o <= end)).toBe(true);
    expect(fs.existsSync(`${snapshotFilePath(dir, 999)}.tmp`)).toBe(false);
    // The state matches the surviving log exactly: the same as a full scan of it.
    const viaSnapshot = reopened.activeProducers();
    await reopened.close();
    for (const o of snapshotOffsets(dir)) fs.rmSync(snapshotFilePath(dir, o));
    const scanned = await PartitionLog.open(dir, "t", 0, small());
    expect(scanned.producerStateLoad.snapshotOffset).toBeNull();
    expect(scanned.activeProducers()).toEqual(viaSnapshot);
    // The producer whose last batch was cut off may resend it: it is accepted at the new end.
    const last = viaSnapshot.find((p) => p.producerId === 2)!;
    expect(scanned.append(batch(2, last.lastSequence + 1), T0)).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: end });
    await scanned.close();
  });
});
