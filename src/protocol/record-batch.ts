/**
 * Kafka record batch v2 ("magic 2") header handling. Records are never decoded here: a produce
 * payload is validated by its 61-byte headers, lengths and CRC-32C, then stored as-is.
 *
 * Header layout (big-endian), offsets from the batch start:
 *   @0  baseOffset           int64
 *   @8  batchLength          int32  bytes after this field (so the batch is batchLength + 12 bytes)
 *   @12 partitionLeaderEpoch int32
 *   @16 magic                int8   (2)
 *   @17 crc                  uint32 CRC-32C of bytes [21, end)
 *   @21 attributes           int16  bits 0-2 compression, 3 timestampType (1 = LogAppendTime),
 *                                   4 transactional, 5 control, 6 delete horizon
 *   @23 lastOffsetDelta      int32
 *   @27 baseTimestamp        int64
 *   @35 maxTimestamp         int64
 *   @43 producerId           int64
 *   @51 producerEpoch        int16
 *   @53 baseSequence         int32
 *   @57 recordCount          int32
 *   @61 records
 * baseOffset, batchLength, partitionLeaderEpoch and magic lie outside the CRC, so the broker can
 * patch baseOffset in place without recomputing it.
 */
import { crc32cRange } from "../native/index.ts";

export const BASE_OFFSET_OFFSET = 0;
export const BATCH_LENGTH_OFFSET = 8;
export const PARTITION_LEADER_EPOCH_OFFSET = 12;
export const MAGIC_OFFSET = 16;
export const CRC_OFFSET = 17;
export const ATTRIBUTES_OFFSET = 21;
export const LAST_OFFSET_DELTA_OFFSET = 23;
export const BASE_TIMESTAMP_OFFSET = 27;
export const MAX_TIMESTAMP_OFFSET = 35;
export const PRODUCER_ID_OFFSET = 43;
export const PRODUCER_EPOCH_OFFSET = 51;
export const BASE_SEQUENCE_OFFSET = 53;
export const RECORD_COUNT_OFFSET = 57;
export const RECORDS_OFFSET = 61;
/** Size of the v2 header, also the smallest possible batch. */
export const RECORD_BATCH_HEADER_SIZE = 61;
/** baseOffset + batchLength: the part of a batch not counted by batchLength. */
export const LOG_OVERHEAD = 12;

export const ATTR_COMPRESSION_MASK = 0x07;
export const ATTR_TIMESTAMP_TYPE_BIT = 0x08;
export const ATTR_TRANSACTIONAL_BIT = 0x10;
export const ATTR_CONTROL_BIT = 0x20;

export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;

/**
 * Kafka error codes used by the storage layer (numeric values from Kafka's `Errors` enum).
 * A local map on purpose: the storage layer must not depend on the protocol codecs.
 */
export const ErrorCode = {
  NONE: 0,
  OFFSET_OUT_OF_RANGE: 1,
  CORRUPT_MESSAGE: 2,
  MESSAGE_TOO_LARGE: 10,
  INVALID_TIMESTAMP: 32,
  UNSUPPORTED_VERSION: 35,
  UNSUPPORTED_FOR_MESSAGE_FORMAT: 43,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  DUPLICATE_SEQUENCE_NUMBER: 46,
  INVALID_PRODUCER_EPOCH: 47,
  INVALID_PRODUCER_ID_MAPPING: 49,
  KAFKA_STORAGE_ERROR: 56,
  UNKNOWN_PRODUCER_ID: 59,
  INVALID_RECORD: 87,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The fields of a v2 header the broker needs; read without touching the records. */
export interface BatchHeader {
  baseOffset: number;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

function view(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** int64 as a JS number. Offsets and timestamps stay far below 2^53. */
function readInt64(dv: DataView, at: number): number {
  return dv.getInt32(at) * 4294967296 + dv.getUint32(at + 4);
}

/** int64 big-endian from a JS number (|value| < 2^53), without a BigInt or a DataView per call. */
function writeInt64(buf: Uint8Array, at: number, value: number): void {
  const hi = Math.floor(value / 4294967296);
  const lo = value - hi * 4294967296; // 0 <= lo < 2^32, also for negative values
  buf[at] = hi >>> 24;
  buf[at + 1] = hi >>> 16;
  buf[at + 2] = hi >>> 8;
  buf[at + 3] = hi;
  buf[at + 4] = lo >>> 24;
  buf[at + 5] = lo >>> 16;
  buf[at + 6] = lo >>> 8;
  buf[at + 7] = lo;
}

/** Reads the header of the batch starting at `pos`. The caller ensures 61 bytes are there. */
export function readBatchHeader(buf: Uint8Array, pos = 0): BatchHeader {
  return readBatchHeaderIn(view(buf), pos);
}

/** readBatchHeader through a DataView the caller keeps (no view per batch when walking a buffer). */
export function readBatchHeaderIn(dv: DataView, pos: number): BatchHeader {
  return {
    baseOffset: readInt64(dv, pos + BASE_OFFSET_OFFSET),
    batchLength: dv.getInt32(pos + BATCH_LENGTH_OFFSET),
    partitionLeaderEpoch: dv.getInt32(pos + PARTITION_LEADER_EPOCH_OFFSET),
    magic: dv.getInt8(pos + MAGIC_OFFSET),
    crc: dv.getUint32(pos + CRC_OFFSET),
    attributes: dv.getInt16(pos + ATTRIBUTES_OFFSET),
    lastOffsetDelta: dv.getInt32(pos + LAST_OFFSET_DELTA_OFFSET),
    baseTimestamp: readInt64(dv, pos + BASE_TIMESTAMP_OFFSET),
    maxTimestamp: readInt64(dv, pos + MAX_TIMESTAMP_OFFSET),
    producerId: readInt64(dv, pos + PRODUCER_ID_OFFSET),
    producerEpoch: dv.getInt16(pos + PRODUCER_EPOCH_OFFSET),
    baseSequence: dv.getInt32(pos + BASE_SEQUENCE_OFFSET),
    recordCount: dv.getInt32(pos + RECORD_COUNT_OFFSET),
  };
}

/** What the log needs to know about one validated batch of a produce payload. */
export interface BatchInfo {
  /** Start of the batch within the validated buffer. */
  position: number;
  /** Whole batch size in bytes (batchLength + 12). */
  length: number;
  lastOffsetDelta: number;
  recordCount: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  isTransactional: boolean;
  isControl: boolean;
  compression: number;
  /** Timestamp type bit as sent by the producer (true = LogAppendTime). */
  logAppendTime: boolean;
}

export type ValidationResult =
  | { ok: true; batches: BatchInfo[] }
  | { ok: false; errorCode: ErrorCode; message: string; batchIndex: number };

function fail(errorCode: ErrorCode, message: string, batchIndex: number): ValidationResult {
  return { ok: false, errorCode, message, batchIndex };
}

/**
 * Walks the concatenated batches of a produce payload and validates each by header, length and
 * CRC, in the order Kafka applies its checks:
 *  - magic != 2 → INVALID_RECORD (87). Kafka 4 (KIP-724/KIP-896) refuses v0/v1 message formats in
 *    `ProduceRequest.validateRecords`, which throws InvalidRecordException ("Produce requests with
 *    version N are only allowed to contain record batches with magic version 2") → INVALID_RECORD.
 *  - batch size > maxBatchBytes → MESSAGE_TOO_LARGE (10) (Kafka: RecordTooLargeException).
 *  - batchLength too small, batch running past the buffer, or a CRC mismatch → CORRUPT_MESSAGE (2).
 *    (Kafka silently trims a trailing partial batch; refusing it is stricter and safer.)
 *  - recordCount <= 0, or lastOffsetDelta != recordCount - 1 → INVALID_RECORD (87): Kafka's
 *    LogValidator.validateBatch throws InvalidRecordException for "Invalid reported count for
 *    record batch" / "Inconsistent batch offset range and record count", not CorruptRecordException.
 *  - producerId >= 0 with baseSequence < 0 in a non-control batch → INVALID_RECORD (Kafka:
 *    "Invalid sequence number"). Whether control batches are allowed at all depends on who appends
 *    (clients may not write them): PartitionLog.append decides.
 *  - unknown compression codec (5-7) → CORRUPT_MESSAGE.
 * Kafka additionally requires produce v3+ to carry exactly one batch per partition; that is a
 * request-level rule for the Produce handler. Here any number of batches (≥ 1) is accepted.
 */
export function validateBatches(buf: Uint8Array, maxBatchBytes: number): ValidationResult {
  const dv = view(buf);
  const batches: BatchInfo[] = [];
  let pos = 0;
  let index = 0;
  if (buf.length === 0) return fail(ErrorCode.CORRUPT_MESSAGE, "empty record set", 0);
  while (pos < buf.length) {
    const remaining = buf.length - pos;
    if (remaining < MAGIC_OFFSET + 1) {
      return fail(ErrorCode.CORRUPT_MESSAGE, `truncated batch header (${remaining} bytes)`, index);
    }
    const magic = dv.getInt8(pos + MAGIC_OFFSET);
    if (magic !== 2) {
      return fail(
        ErrorCode.INVALID_RECORD,
        `only record batches with magic version 2 are accepted (got magic ${magic})`,
        index,
      );
    }
    const batchLength = dv.getInt32(pos + BATCH_LENGTH_OFFSET);
    const size = batchLength + LOG_OVERHEAD;
    if (batchLength < RECORD_BATCH_HEADER_SIZE - LOG_OVERHEAD) {
      return fail(ErrorCode.CORRUPT_MESSAGE, `batch length ${batchLength} below the v2 header size`, index);
    }
    if (size > maxBatchBytes) {
      return fail(
        ErrorCode.MESSAGE_TOO_LARGE,
        `batch of ${size} bytes exceeds max.message.bytes ${maxBatchBytes}`,
        index,
      );
    }
    if (size > remaining) {
      return fail(ErrorCode.CORRUPT_MESSAGE, `batch of ${size} bytes truncated to ${remaining}`, index);
    }
    const storedCrc = dv.getUint32(pos + CRC_OFFSET);
    const crc = crc32cRange(buf, pos + ATTRIBUTES_OFFSET, pos + size);
    if (crc !== storedCrc) {
      return fail(ErrorCode.CORRUPT_MESSAGE, `batch CRC mismatch (stored ${storedCrc}, computed ${crc})`, index);
    }
    const attributes = dv.getInt16(pos + ATTRIBUTES_OFFSET);
    const compression = attributes & ATTR_COMPRESSION_MASK;
    if (compression > 4) {
      return fail(ErrorCode.CORRUPT_MESSAGE, `unknown compression codec ${compression}`, index);
    }
    const lastOffsetDelta = dv.getInt32(pos + LAST_OFFSET_DELTA_OFFSET);
    const recordCount = dv.getInt32(pos + RECORD_COUNT_OFFSET);
    if (recordCount <= 0) {
      return fail(ErrorCode.INVALID_RECORD, `invalid reported record count ${recordCount}`, index);
    }
    if (lastOffsetDelta !== recordCount - 1) {
      return fail(
        ErrorCode.INVALID_RECORD,
        `inconsistent batch offset range (lastOffsetDelta ${lastOffsetDelta}) and record count ${recordCount}`,
        index,
      );
    }
    const producerId = readInt64(dv, pos + PRODUCER_ID_OFFSET);
    const baseSequence = dv.getInt32(pos + BASE_SEQUENCE_OFFSET);
    // Transaction markers (control batches, written by the coordinator) carry no sequence.
    if (producerId >= 0 && baseSequence < 0 && (attributes & ATTR_CONTROL_BIT) === 0) {
      return fail(ErrorCode.INVALID_RECORD, `invalid sequence number ${baseSequence} for producer ${producerId}`, index);
    }
    batches.push({
      position: pos,
      length: size,
      lastOffsetDelta,
      recordCount,
      maxTimestamp: readInt64(dv, pos + MAX_TIMESTAMP_OFFSET),
      producerId,
      producerEpoch: dv.getInt16(pos + PRODUCER_EPOCH_OFFSET),
      baseSequence,
      isTransactional: (attributes & ATTR_TRANSACTIONAL_BIT) !== 0,
      isControl: (attributes & ATTR_CONTROL_BIT) !== 0,
      compression,
      logAppendTime: (attributes & ATTR_TIMESTAMP_TYPE_BIT) !== 0,
    });
    pos += size;
    index++;
  }
  return { ok: true, batches };
}

/** Writes baseOffset (int64 @0) of the batch at `pos`. Outside the CRC: no re-CRC needed. */
export function setBaseOffset(buf: Uint8Array, pos: number, baseOffset: number): void {
  writeInt64(buf, pos + BASE_OFFSET_OFFSET, baseOffset);
}

/**
 * For LogAppendTime topics: sets the timestamp-type bit and maxTimestamp of the batch at `pos`
 * (`size` bytes long) to the broker's time, then recomputes the CRC. This is the only place the
 * broker re-CRCs a batch; consumers use maxTimestamp for every record when the bit is set.
 */
export function setLogAppendTime(buf: Uint8Array, pos: number, size: number, now: number): void {
  const dv = view(buf);
  const attributes = dv.getInt16(pos + ATTRIBUTES_OFFSET);
  dv.setInt16(pos + ATTRIBUTES_OFFSET, attributes | ATTR_TIMESTAMP_TYPE_BIT);
  writeInt64(buf, pos + MAX_TIMESTAMP_OFFSET, now);
  dv.setUint32(pos + CRC_OFFSET, crc32cRange(buf, pos + ATTRIBUTES_OFFSET, pos + size));
}

/** Recomputes and checks the CRC of the batch at `pos` of `size` bytes (used by recovery). */
export function batchCrcMatches(buf: Uint8Array, pos: number, size: number): boolean {
  const dv = view(buf);
  return dv.getUint32(pos + CRC_OFFSET) === crc32cRange(buf, pos + ATTRIBUTES_OFFSET, pos + size);
}
