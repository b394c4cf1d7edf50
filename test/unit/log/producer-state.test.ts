import { describe, expect, test } from "bun:test";
import { ErrorCode } from "../../../src/protocol/record-batch.ts";
import { PartitionLog } from "../../../src/log/partition-log.ts";
import { lastSequenceOf } from "../../../src/log/producer-state.ts";
import { buildBatch, concat, sampleRecords, splitBatches } from "./batch-builder.ts";
import { config, tempDir } from "./helpers.ts";

const T0 = 1_700_000_000_000;
const PID = 4242;

function batch(seq: number, n = 2, epoch = 0, pid = PID, extra: { transactional?: boolean } = {}): Uint8Array {
  return buildBatch(sampleRecords(n), { producerId: pid, producerEpoch: epoch, baseSequence: seq, ...extra });
}

describe("sequence arithmetic", () => {
  test("wraps at int32 max", () => {
    expect(lastSequenceOf(0, 4)).toBe(4);
    expect(lastSequenceOf(0x7fffffff, 0)).toBe(0x7fffffff);
    expect(lastSequenceOf(0x7fffffff, 1)).toBe(0);
    expect(lastSequenceOf(0x7ffffffe, 3)).toBe(1);
  });
});

describe("idempotent producer", () => {
  test("a retried batch returns the original offset and is not appended twice", async () => {
    const log = await PartitionLog.open(tempDir(), "t", 0, config());
    const first = log.append(batch(0), T0);
    await first.durable;
    await log.append(batch(2), T0).durable;
    const retry = log.append(batch(0), T0);
    expect(retry).toMatchObject({ errorCode: 0, baseOffset: 0 });
    await retry.durable;
    const retry2 = log.append(batch(2), T0);
    expect(retry2).toMatchObject({ errorCode: 0, baseOffset: 2 });
    expect(log.logEndOffset).toBe(4);
    expect(splitBatches(log.read(0, 1 << 20).records!).length).toBe(2);
    await log.close();
  });

  test("a duplicate of a not-yet-durable batch resolves only once it is durable", async () => {
    const log = await PartitionLog.open(tempDir(), "t", 0, config());
    const first = log.append(batch(0), T0);
    const dup = log.append(batch(0), T0);
    expect(dup.baseOffset).toBe(0);
    let dupDone = false;
    void dup.durable.then(() => (dupDone = true));
    await first.durable;
    await dup.durable;
    expect(dupDone).toBe(true);
    expect(log.highWatermark).toBe(2);
    await log.close();
  });

  test("only the last 5 batches are remembered; older retries are out of order", async () => {
    const log = await PartitionLog.open(tempDir(), "t", 0, config());
    for (let i = 0; i < 7; i++) await log.append(batch(i * 2), T0).durable;
    expect(log.append(batch(4), T0)).toMatchObject({ errorCode: 0, baseOffset: 4 }); // one of the last 5
    expect(log.append(batch(2), T0).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    await log.close();
  });

  test("sequence gaps are OUT_OF_ORDER_SEQUENCE_NUMBER and append nothing", async () => {
    const log = await PartitionLog.open(tempDir(), "t", 0, config());
    await log.append(batch(0), T0).durable;
    const gap = log.append(batch(5), T0);
    expect(gap.errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect(log.logEndOffset).toBe(2);
    expect(log.append(batch(2), T0).errorCode).toBe(0);
    await log.close();
  });

  test("epochs: lower is INVALID_PRODUCER_EPOCH; higher must restart at 0", async () => {
    const log = await PartitionLog.open(tempDir(), "t", 0, config());
    await log.append(batch(0, 2, 3), T0).durable;
    expect(log.append(batch(2, 2, 2), T0).errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect(log.append(batch(2, 2, 4), T0).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect(log.append(batch(0, 2, 4), T0).errorCode).toBe(0);
    expect(log.append(batch(2, 2, 3), T0).errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    await log.close();
  });

  test("an unknown producer may start at any sequence (KIP-360); producerId -1 is unchecked", async () => {
    const log = await PartitionLog.open(tempDir(), "t", 0, config());
    expect(log.append(batch(17, 2, 0, 99), T0).errorCode).toBe(0);
    expect(log.append(batch(19, 2, 0, 99), T0).errorCode).toBe(0);
    expect(log.append(buildBatch(sampleRecords(1)), T0).errorCode).toBe(0);
    expect(log.append(buildBatch(sampleRecords(1)), T0).errorCode).toBe(0);
    await log.close();
  });

  test("sequence wraps from int32 max to 0", async () => {
    const log = await PartitionLog.open(tempDir(), "t", 0, config());
    expect(log.append(batch(0x7ffffffe, 2), T0).errorCode).toBe(0);
    expect(log.append(batch(0, 2), T0).errorCode).toBe(0);
    expect(log.append(batch(2, 1), T0).errorCode).toBe(0);
    await log.close();
  });

  test("batches of one payload see each other", async () => {
    const log = await PartitionLog.open(tempDir(), "t", 0, config());
    expect(log.append(concat(batch(0), batch(2), batch(4)), T0).errorCode).toBe(0);
    expect(log.append(concat(batch(6), batch(9)), T0).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect(log.logEndOffset).toBe(6);
    expect(log.activeProducers()[0]?.lastSequence).toBe(5);
    await log.close();
  });

  test("state is rebuilt from the log on reopen", async () => {
    const dir = tempDir();
    const cfg = config({ segmentBytes: 1024 });
    const log = await PartitionLog.open(dir, "t", 0, cfg);
    for (let i = 0; i < 20; i++) await log.append(batch(i * 2, 2, 1), T0).durable;
    await log.append(batch(0, 3, 0, 77, { transactional: true }), T0).durable;
    await log.close();
    const reopened = await PartitionLog.open(dir, "t", 0, cfg);
    expect(reopened.append(batch(36, 2, 1), T0)).toMatchObject({ errorCode: 0, baseOffset: 36 });
    expect(reopened.append(batch(37, 2, 1), T0).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect(reopened.append(batch(40, 2, 1), T0)).toMatchObject({ errorCode: 0, baseOffset: 43 });
    expect(reopened.append(batch(2, 2, 0), T0).errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    const producers = reopened.activeProducers().sort((a, b) => a.producerId - b.producerId);
    expect(producers).toEqual([
      { producerId: 77, producerEpoch: 0, lastSequence: 2, lastTimestamp: T0 + 2, coordinatorEpoch: -1, currentTxnStartOffset: 40 },
      { producerId: PID, producerEpoch: 1, lastSequence: 41, lastTimestamp: T0 + 1, coordinatorEpoch: -1, currentTxnStartOffset: -1 },
    ]);
    await reopened.close();
  });

  test("producer-id expiry forgets idle producers, keeps recent ones and open transactions", async () => {
    const log = await PartitionLog.open(tempDir(), "t", 0, config());
    const DAY = 86_400_000;
    await log.append(batch(0, 2, 0, 1), T0).durable; // last timestamp T0 + 1
    await log.append(batch(0, 2, 0, 2, { transactional: true }), T0).durable; // open transaction
    const late = buildBatch(sampleRecords(2, T0 + DAY), { producerId: 3, producerEpoch: 0, baseSequence: 0 });
    await log.append(late, T0).durable;
    expect(log.expireProducers(T0 + DAY, DAY)).toBe(0); // producer 1 is idle for DAY - 1 ms only
    expect(log.expireProducers(T0 + 1 + DAY, DAY)).toBe(1);
    expect(log.activeProducers().map((p) => p.producerId).sort()).toEqual([2, 3]);
    // The forgotten producer is unknown now: any sequence is accepted (KIP-360), not OUT_OF_ORDER.
    expect(log.append(batch(40, 2, 0, 1), T0).errorCode).toBe(0);
    // Producer 3 is still checked.
    expect(log.append(batch(5, 2, 0, 3), T0).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    await log.close();
  });
});
