/**
 * Producer-state snapshot files: `<20-digit offset>.snapshot` in the partition directory, holding
 * the idempotent-producer state (producer-state.ts) as it stood just before `offset`, i.e. after
 * every batch whose last offset is below it. Written at each segment roll (offset = the new
 * segment's base) and on clean close (offset = log end), like Kafka's `.snapshot` files.
 *
 * Layout (big-endian), version 1:
 *   0  magic "BKPS"
 *   4  version       u16  (1)
 *   6  reserved      u16  (0)
 *   8  crc32c        u32  of every byte from 12 to the end
 *  12  offset        i64
 *  20  producerCount u32
 *  24  producers, each:
 *        producerId i64, epoch i16, coordinatorEpoch i32, currentTxnStartOffset i64,
 *        lastTimestamp i64, batchCount u8, then batchCount × 32-byte batches:
 *        firstSeq i32, lastSeq i32, firstOffset i64, lastOffset i64, timestamp i64
 * A decoder refuses anything that does not add up exactly (magic, version, checksum, length).
 */
import { join } from "node:path";
import { crc32cRange } from "../native/index.ts";
import { offsetFileStem } from "./file-names.ts";
import { MAX_BATCHES_PER_PRODUCER, type BatchMetadata, type ProducerEntry } from "./producer-state.ts";

export const SNAPSHOT_SUFFIX = ".snapshot";
export const SNAPSHOT_VERSION = 1;

const MAGIC = [0x42, 0x4b, 0x50, 0x53]; // "BKPS"
const HEADER_BYTES = 24;
const CRC_START = 12;
const PRODUCER_BYTES = 8 + 2 + 4 + 8 + 8 + 1;
const BATCH_BYTES = 4 + 4 + 8 + 8 + 8;
const TWO_32 = 4294967296;

export interface ProducerSnapshot {
  /** The state covers every batch below this offset. */
  offset: number;
  producers: ProducerEntry[];
}

export class SnapshotFormatError extends Error {}

export function snapshotFilePath(dir: string, offset: number): string {
  return join(dir, offsetFileStem(offset) + SNAPSHOT_SUFFIX);
}

/** Offset of a `.snapshot` file name, or null when the name is not one. */
export function parseSnapshotFileName(name: string): number | null {
  const m = /^(\d{20})\.snapshot$/.exec(name);
  return m?.[1] === undefined ? null : Number(m[1]);
}

function setInt64(dv: DataView, pos: number, v: number): void {
  const hi = Math.floor(v / TWO_32);
  dv.setInt32(pos, hi);
  dv.setUint32(pos + 4, v - hi * TWO_32);
}

function getInt64(dv: DataView, pos: number): number {
  return dv.getInt32(pos) * TWO_32 + dv.getUint32(pos + 4);
}

export function encodeProducerSnapshot(offset: number, producers: readonly Readonly<ProducerEntry>[]): Uint8Array {
  let size = HEADER_BYTES;
  for (const p of producers) size += PRODUCER_BYTES + BATCH_BYTES * Math.min(p.batches.length, MAX_BATCHES_PER_PRODUCER);
  const buf = new Uint8Array(size);
  const dv = new DataView(buf.buffer);
  buf.set(MAGIC, 0);
  dv.setUint16(4, SNAPSHOT_VERSION);
  setInt64(dv, 12, offset);
  dv.setUint32(20, producers.length);
  let pos = HEADER_BYTES;
  for (const p of producers) {
    const batches = p.batches.slice(-MAX_BATCHES_PER_PRODUCER);
    setInt64(dv, pos, p.producerId);
    dv.setInt16(pos + 8, p.producerEpoch);
    dv.setInt32(pos + 10, p.coordinatorEpoch);
    setInt64(dv, pos + 14, p.currentTxnStartOffset);
    setInt64(dv, pos + 22, p.lastTimestamp);
    dv.setUint8(pos + 30, batches.length);
    pos += PRODUCER_BYTES;
    for (const b of batches) {
      dv.setInt32(pos, b.firstSeq);
      dv.setInt32(pos + 4, b.lastSeq);
      setInt64(dv, pos + 8, b.firstOffset);
      setInt64(dv, pos + 16, b.lastOffset);
      setInt64(dv, pos + 24, b.timestamp);
      pos += BATCH_BYTES;
    }
  }
  dv.setUint32(8, crc32cRange(buf, CRC_START, size));
  return buf;
}

/** Decodes and verifies a snapshot; throws SnapshotFormatError on anything malformed. */
export function decodeProducerSnapshot(buf: Uint8Array): ProducerSnapshot {
  if (buf.length < HEADER_BYTES) throw new SnapshotFormatError(`snapshot too short (${buf.length} bytes)`);
  for (let i = 0; i < MAGIC.length; i++) if (buf[i] !== MAGIC[i]) throw new SnapshotFormatError("not a producer snapshot (magic)");
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const version = dv.getUint16(4);
  if (version !== SNAPSHOT_VERSION) throw new SnapshotFormatError(`unknown snapshot version ${version}`);
  if (dv.getUint16(6) !== 0) throw new SnapshotFormatError("snapshot reserved field is not zero");
  if (dv.getUint32(8) !== crc32cRange(buf, CRC_START, buf.length)) throw new SnapshotFormatError("snapshot checksum mismatch");
  const offset = getInt64(dv, 12);
  if (!Number.isSafeInteger(offset) || offset < 0) throw new SnapshotFormatError(`bad snapshot offset ${offset}`);
  const count = dv.getUint32(20);
  const producers: ProducerEntry[] = [];
  let pos = HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    if (pos + PRODUCER_BYTES > buf.length) throw new SnapshotFormatError("snapshot truncated");
    const batchCount = dv.getUint8(pos + 30);
    const entry: ProducerEntry = {
      producerId: getInt64(dv, pos),
      producerEpoch: dv.getInt16(pos + 8),
      coordinatorEpoch: dv.getInt32(pos + 10),
      currentTxnStartOffset: getInt64(dv, pos + 14),
      lastTimestamp: getInt64(dv, pos + 22),
      batches: [],
    };
    pos += PRODUCER_BYTES;
    if (batchCount > MAX_BATCHES_PER_PRODUCER || pos + batchCount * BATCH_BYTES > buf.length) {
      throw new SnapshotFormatError("snapshot truncated");
    }
    for (let j = 0; j < batchCount; j++) {
      const b: BatchMetadata = {
        firstSeq: dv.getInt32(pos),
        lastSeq: dv.getInt32(pos + 4),
        firstOffset: getInt64(dv, pos + 8),
        lastOffset: getInt64(dv, pos + 16),
        timestamp: getInt64(dv, pos + 24),
      };
      entry.batches.push(b);
      pos += BATCH_BYTES;
    }
    producers.push(entry);
  }
  if (pos !== buf.length) throw new SnapshotFormatError(`snapshot has ${buf.length - pos} trailing bytes`);
  return { offset, producers };
}
