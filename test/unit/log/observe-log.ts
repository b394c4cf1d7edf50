import { expect } from "bun:test";
import type { PartitionLog } from "../../../src/log/partition-log.ts";
import { ErrorCode } from "../../../src/protocol/record-batch.ts";

/**
 * What the broker reads from a log: its offsets, segments, every batch (base offset and size) and
 * the offset lookups of `timestamps`. Two logs that must behave alike compare equal.
 */
export function observeLog(log: PartitionLog, timestamps: readonly number[]): unknown {
  const batches: string[] = [];
  for (let at = 0; at < log.highWatermark; ) {
    const r = log.read(at, 1);
    expect(r.errorCode).toBe(ErrorCode.NONE);
    const bytes = r.records!;
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const base = Number(dv.getBigInt64(0));
    batches.push(`${base}:${bytes.length}`);
    at = base + dv.getInt32(23) + 1;
  }
  const lookups = timestamps.map((ts) => log.offsetForTimestamp(ts));
  return { end: log.logEndOffset, hw: log.highWatermark, segments: log.segmentCount, sealed: log.sealedSegments(), batches, lookups, max: log.maxTimestamp() };
}
