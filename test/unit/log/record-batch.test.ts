import { describe, expect, test } from "bun:test";
import {
  ErrorCode,
  readBatchHeader,
  setBaseOffset,
  setLogAppendTime,
  validateBatches,
} from "../../../src/protocol/record-batch.ts";
import { buildBatch, concat, crc32cRef, legacyMessage, sampleRecords } from "./batch-builder.ts";

describe("validateBatches", () => {
  test("accepts concatenated batches and reports their headers", () => {
    const a = buildBatch(sampleRecords(3), { producerId: 7, producerEpoch: 1, baseSequence: 10 });
    const b = buildBatch(sampleRecords(5, 1_700_000_001_000), { transactional: true, producerId: 7, producerEpoch: 1, baseSequence: 13 });
    const v = validateBatches(concat(a, b), 1 << 20);
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    expect(v.batches.length).toBe(2);
    const [x, y] = v.batches;
    expect(x).toMatchObject({ position: 0, length: a.length, lastOffsetDelta: 2, recordCount: 3, producerId: 7, producerEpoch: 1, baseSequence: 10, isTransactional: false, isControl: false, compression: 0 });
    expect(x?.maxTimestamp).toBe(1_700_000_000_002);
    expect(y).toMatchObject({ position: a.length, length: b.length, recordCount: 5, isTransactional: true });
  });

  test("CRC mismatch is CORRUPT_MESSAGE", () => {
    const a = buildBatch(sampleRecords(3));
    a[a.length - 1] = (a[a.length - 1] as number) ^ 0xff;
    const v = validateBatches(a, 1 << 20);
    expect(v).toMatchObject({ ok: false, errorCode: ErrorCode.CORRUPT_MESSAGE, batchIndex: 0 });
  });

  test("truncated batch and bad length are CORRUPT_MESSAGE", () => {
    const a = buildBatch(sampleRecords(3));
    expect(validateBatches(concat(a, a.subarray(0, 40)), 1 << 20)).toMatchObject({ ok: false, errorCode: 2, batchIndex: 1 });
    expect(validateBatches(a.subarray(0, a.length - 1), 1 << 20)).toMatchObject({ ok: false, errorCode: 2 });
    const bad = a.slice();
    new DataView(bad.buffer).setInt32(8, 10);
    expect(validateBatches(bad, 1 << 20)).toMatchObject({ ok: false, errorCode: 2 });
    expect(validateBatches(new Uint8Array(0), 1 << 20)).toMatchObject({ ok: false, errorCode: 2 });
  });

  test("oversized batch is MESSAGE_TOO_LARGE", () => {
    const a = buildBatch(sampleRecords(10, 1, 200));
    expect(validateBatches(a, a.length - 1)).toMatchObject({ ok: false, errorCode: ErrorCode.MESSAGE_TOO_LARGE });
    expect(validateBatches(a, a.length).ok).toBe(true);
  });

  test("magic 0/1 is INVALID_RECORD (Kafka 4 ProduceRequest.validateRecords)", () => {
    expect(validateBatches(legacyMessage(1), 1 << 20)).toMatchObject({ ok: false, errorCode: ErrorCode.INVALID_RECORD });
    expect(validateBatches(legacyMessage(0), 1 << 20)).toMatchObject({ ok: false, errorCode: 87 });
  });

  test("recordCount / lastOffsetDelta inconsistencies are INVALID_RECORD", () => {
    const a = buildBatch(sampleRecords(3));
    const dv = new DataView(a.buffer);
    dv.setInt32(23, 5); // lastOffsetDelta != recordCount - 1
    dv.setUint32(17, crc32cRef(a.subarray(21)));
    expect(validateBatches(a, 1 << 20)).toMatchObject({ ok: false, errorCode: ErrorCode.INVALID_RECORD });
    dv.setInt32(23, -1);
    dv.setInt32(57, 0);
    dv.setUint32(17, crc32cRef(a.subarray(21)));
    expect(validateBatches(a, 1 << 20)).toMatchObject({ ok: false, errorCode: ErrorCode.INVALID_RECORD });
  });

  test("producer id without a sequence is INVALID_RECORD", () => {
    const a = buildBatch(sampleRecords(1), { producerId: 3, producerEpoch: 0, baseSequence: -1 });
    expect(validateBatches(a, 1 << 20)).toMatchObject({ ok: false, errorCode: ErrorCode.INVALID_RECORD });
  });
});

describe("header patching", () => {
  test("setBaseOffset keeps the CRC valid", () => {
    const a = buildBatch(sampleRecords(2));
    setBaseOffset(a, 0, 123_456_789_012);
    expect(readBatchHeader(a).baseOffset).toBe(123_456_789_012);
    expect(validateBatches(a, 1 << 20).ok).toBe(true);
  });

  test("setLogAppendTime sets the bit and maxTimestamp and re-CRCs", () => {
    const a = buildBatch(sampleRecords(2));
    setLogAppendTime(a, 0, a.length, 1_800_000_000_000);
    const h = readBatchHeader(a);
    expect(h.attributes & 0x08).toBe(0x08);
    expect(h.maxTimestamp).toBe(1_800_000_000_000);
    expect(h.crc).toBe(crc32cRef(a.subarray(21)));
  });
});
