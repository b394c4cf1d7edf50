/**
 * Broker-side record work on append, the part of Kafka's LogValidator that needs the records:
 *
 *  - Recompression: a topic whose `compression.type` names a codec (or `uncompressed`) stores every
 *    batch in that codec. A batch arriving in another codec has its records section decompressed,
 *    checked, and compressed again with the topic's codec; the header is rebuilt (codec bits,
 *    batchLength, maxTimestamp from the records, CRC-32C). Offsets, timestamps, producer fields and
 *    the record bytes themselves are unchanged, so consumers see the same records. `producer`
 *    keeps what came. Control batches (transaction markers) are never touched.
 *  - Deep validation (broker `log.message.deep.validation.enable`): every batch's records are
 *    decompressed and walked, and must match the header's record count.
 *
 * Kafka's rules followed here:
 *  - a compressed batch whose inner offset deltas are not 0, 1, 2... is rebuilt with contiguous
 *    deltas (LogValidator's `inPlaceAssignment = false`); an uncompressed one is stored as is;
 *  - a record count or record structure that disagrees with the header → INVALID_RECORD
 *    (Kafka's InvalidRecordException: "Incorrect declared batch size", "Invalid record size"...);
 *  - the stored (recompressed) batch must still fit max.message.bytes → MESSAGE_TOO_LARGE.
 * Bunka's own rules for hostile input (Kafka answers these with whatever exception its stream
 * decoder throws):
 *  - compressed bytes that do not decode (garbage, truncated frame, bad checksum) → CORRUPT_MESSAGE;
 *  - decompression is bounded (see `decompressionLimit`); passing the bound → CORRUPT_MESSAGE,
 *    except when the target is `uncompressed`, where the bound is max.message.bytes itself and
 *    passing it is MESSAGE_TOO_LARGE (what Kafka answers for the too-big rebuilt batch; the Java
 *    producer reacts by splitting the batch).
 *
 * Everything here runs synchronously on the JS thread (see bench/RESULTS.md "Codecs" for costs).
 * The common case — no recompression needed and deep validation off — never reaches this module:
 * `rewriteSettings` returns null and PartitionLog appends the received bytes.
 */
import { Codec, CodecError, codecName, compress, crc32cRange, decompress } from "../native/index.ts";
import type { CompressionCodecId } from "../native/index.ts";
import {
  ATTR_COMPRESSION_MASK,
  ATTR_TIMESTAMP_TYPE_BIT,
  ATTRIBUTES_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  CRC_OFFSET,
  ErrorCode,
  LOG_OVERHEAD,
  MAX_TIMESTAMP_OFFSET,
  RECORD_BATCH_HEADER_SIZE,
} from "../protocol/record-batch.ts";
import type { BatchInfo } from "../protocol/record-batch.ts";
import { decodeRecords, encodeRecords, scanRecords } from "../protocol/records.ts";
import type { LogConfig, TopicCompressionType } from "./log-config.ts";

/** Decompression bound for compressed targets and deep validation: at least this many bytes... */
export const DECOMPRESSION_FLOOR_BYTES = 64 * 1024 * 1024;
/** ...or this many times max.message.bytes when that is larger... */
export const DECOMPRESSION_RATIO = 64;
/** ...but never more than this (1 GiB). */
export const DECOMPRESSION_CAP_BYTES = 1024 * 1024 * 1024;

export interface RewriteSettings {
  /** Codec id every stored batch must carry (0 = uncompressed); null = keep the producer's. */
  target: number | null;
  deepValidation: boolean;
  maxMessageBytes: number;
}

export type RewriteResult =
  | { ok: true; records: Uint8Array; batches: BatchInfo[]; rewritten: number }
  | { ok: false; errorCode: ErrorCode; message: string; batchIndex: number };

const TARGETS: { readonly [K in TopicCompressionType]: number | null } = {
  producer: null,
  uncompressed: Codec.none,
  gzip: Codec.gzip,
  snappy: Codec.snappy,
  lz4: Codec.lz4,
  zstd: Codec.zstd,
};

/** The codec id a topic's compression.type demands; null for `producer` (or unset). */
export function targetCodec(type: TopicCompressionType | undefined): number | null {
  return type === undefined ? null : TARGETS[type];
}

/**
 * How many decompressed bytes one batch may produce before the broker gives up:
 *  - target `uncompressed`: max.message.bytes minus the header, since a larger result could not be
 *    stored anyway;
 *  - otherwise: max(64 MiB, 64 × max.message.bytes), capped at 1 GiB. 64× covers any real
 *    producer (text compresses 5-20×; the Java producer's batches are bounded by their *compressed*
 *    size estimate, librdkafka's by message.max.bytes uncompressed) while a bomb costs at most
 *    64 MiB and ~50 ms at default settings.
 */
export function decompressionLimit(maxMessageBytes: number, target: number | null): number {
  if (target === Codec.none) return Math.max(0, maxMessageBytes - RECORD_BATCH_HEADER_SIZE);
  return Math.min(DECOMPRESSION_CAP_BYTES, Math.max(DECOMPRESSION_FLOOR_BYTES, maxMessageBytes * DECOMPRESSION_RATIO));
}

/** Null when appends can store the received bytes untouched whatever the codec (the fast path). */
export function rewriteSettings(config: LogConfig): RewriteSettings | null {
  const target = targetCodec(config.compressionType);
  const deepValidation = config.deepValidation === true;
  if (target === null && !deepValidation) return null;
  return { target, deepValidation, maxMessageBytes: config.maxMessageBytes };
}

/** True when at least one batch must be decompressed (deep validation) or recompressed. */
export function needsRewrite(batches: readonly BatchInfo[], s: RewriteSettings): boolean {
  for (const b of batches) {
    if (b.isControl) continue;
    if (s.deepValidation || (s.target !== null && b.compression !== s.target)) return true;
  }
  return false;
}

type BatchOutcome =
  | { kind: "keep" }
  | { kind: "replace"; bytes: Uint8Array; compression: number; maxTimestamp: number }
  | { kind: "error"; errorCode: ErrorCode; message: string };

function view(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

function readInt64(dv: DataView, at: number): number {
  return dv.getInt32(at) * 4294967296 + dv.getUint32(at + 4);
}

/** Builds a batch from `header` (61 bytes, copied) and a new records payload in codec `codec`. */
function rebuildBatch(header: Uint8Array, payload: Uint8Array, codec: number, maxTimestamp: number): Uint8Array {
  const size = RECORD_BATCH_HEADER_SIZE + payload.length;
  const out = new Uint8Array(size);
  out.set(header.subarray(0, RECORD_BATCH_HEADER_SIZE), 0);
  out.set(payload, RECORD_BATCH_HEADER_SIZE);
  const dv = view(out);
  dv.setInt32(BATCH_LENGTH_OFFSET, size - LOG_OVERHEAD);
  dv.setInt16(ATTRIBUTES_OFFSET, (dv.getInt16(ATTRIBUTES_OFFSET) & ~ATTR_COMPRESSION_MASK) | codec);
  dv.setBigInt64(MAX_TIMESTAMP_OFFSET, BigInt(maxTimestamp));
  dv.setUint32(CRC_OFFSET, crc32cRange(out, ATTRIBUTES_OFFSET, size));
  return out;
}

function processBatch(batch: Uint8Array, b: BatchInfo, s: RewriteSettings): BatchOutcome {
  const recompress = s.target !== null && b.compression !== s.target;
  if (b.isControl || (!recompress && !s.deepValidation)) return { kind: "keep" };
  const section = batch.subarray(RECORD_BATCH_HEADER_SIZE);

  let raw: Uint8Array;
  if (b.compression === Codec.none) {
    raw = section;
  } else {
    const limit = decompressionLimit(s.maxMessageBytes, recompress ? s.target : null);
    try {
      raw = decompress(b.compression as CompressionCodecId, section, limit);
    } catch (e) {
      if (!(e instanceof CodecError)) throw e;
      if (e.kind === "limit" && recompress && s.target === Codec.none) {
        return {
          kind: "error",
          errorCode: ErrorCode.MESSAGE_TOO_LARGE,
          message: `batch decompresses to more than max.message.bytes ${s.maxMessageBytes} (topic compression.type=uncompressed)`,
        };
      }
      const why = e.kind === "limit" ? `decompresses past the broker's bound of ${limit} bytes` : e.message;
      return { kind: "error", errorCode: ErrorCode.CORRUPT_MESSAGE, message: `corrupt ${codecName(b.compression)} batch: ${why}` };
    }
  }

  const scan = scanRecords(raw, b.recordCount);
  if (!scan.ok) return { kind: "error", errorCode: ErrorCode.INVALID_RECORD, message: scan.message };

  // Kafka rebuilds compressed batches whose inner offsets are not contiguous.
  const fixOffsets = scan.value.firstBadOffsetDelta >= 0 && (b.compression !== Codec.none || recompress);
  if (!recompress && !fixOffsets) return { kind: "keep" };
  if (fixOffsets) {
    const decoded = decodeRecords(raw, b.recordCount);
    if (!decoded.ok) return { kind: "error", errorCode: ErrorCode.INVALID_RECORD, message: decoded.message };
    raw = encodeRecords(decoded.value.map((r, i) => ({ ...r, offsetDelta: i })));
  }

  const codec = recompress ? (s.target as number) : b.compression;
  let payload: Uint8Array;
  try {
    payload = codec === Codec.none ? raw : compress(codec as CompressionCodecId, raw);
  } catch (e) {
    if (!(e instanceof CodecError)) throw e;
    return { kind: "error", errorCode: ErrorCode.CORRUPT_MESSAGE, message: e.message };
  }
  const dv = view(batch);
  const logAppendTime = (dv.getInt16(ATTRIBUTES_OFFSET) & ATTR_TIMESTAMP_TYPE_BIT) !== 0;
  // As Kafka's MemoryRecordsBuilder: a rebuilt CreateTime batch carries its records' max timestamp.
  const maxTimestamp = logAppendTime ? b.maxTimestamp : readInt64(dv, BASE_TIMESTAMP_OFFSET) + scan.value.maxTimestampDelta;
  const bytes = rebuildBatch(batch, payload, codec, maxTimestamp);
  if (bytes.length > s.maxMessageBytes) {
    return {
      kind: "error",
      errorCode: ErrorCode.MESSAGE_TOO_LARGE,
      message: `batch of ${bytes.length} bytes after recompression to ${codecName(codec)} exceeds max.message.bytes ${s.maxMessageBytes}`,
    };
  }
  return { kind: "replace", bytes, compression: codec, maxTimestamp };
}

/**
 * Applies recompression and deep validation to validated batches (`batches` from validateBatches
 * over `buf`). Returns the bytes to store — `buf` itself when no batch changed — and their
 * BatchInfo, or the first batch's error.
 */
export function rewriteBatches(buf: Uint8Array, batches: readonly BatchInfo[], s: RewriteSettings): RewriteResult {
  const outcomes: BatchOutcome[] = [];
  let replaced = 0;
  for (let i = 0; i < batches.length; i++) {
    const b = batches[i] as BatchInfo;
    const o = processBatch(buf.subarray(b.position, b.position + b.length), b, s);
    if (o.kind === "error") return { ok: false, errorCode: o.errorCode, message: o.message, batchIndex: i };
    if (o.kind === "replace") replaced++;
    outcomes.push(o);
  }
  if (replaced === 0) return { ok: true, records: buf, batches: [...batches], rewritten: 0 };

  let total = 0;
  for (let i = 0; i < batches.length; i++) {
    const o = outcomes[i] as BatchOutcome;
    total += o.kind === "replace" ? o.bytes.length : (batches[i] as BatchInfo).length;
  }
  const out = new Uint8Array(total);
  const infos: BatchInfo[] = [];
  let pos = 0;
  for (let i = 0; i < batches.length; i++) {
    const b = batches[i] as BatchInfo;
    const o = outcomes[i] as BatchOutcome;
    if (o.kind === "replace") {
      out.set(o.bytes, pos);
      infos.push({ ...b, position: pos, length: o.bytes.length, compression: o.compression, maxTimestamp: o.maxTimestamp });
      pos += o.bytes.length;
    } else {
      out.set(buf.subarray(b.position, b.position + b.length), pos);
      infos.push({ ...b, position: pos });
      pos += b.length;
    }
  }
  return { ok: true, records: out, batches: infos, rewritten: replaced };
}
