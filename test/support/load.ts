// Helpers for the robustness, crash-safety and restart tests: a seeded PRNG, wire-client
// shortcuts (create topics, produce, fetch everything, list offsets), a v2 record-batch
// decoder for uncompressed batches, and a process-RSS probe.
import { readFileSync } from "node:fs";
import { WireClient } from "../../src/client/wire-client.ts";
import { CreateTopics, Fetch, ListOffsets, Metadata, Produce } from "../../src/client/codecs.ts";
import { buildRecordBatch, type ProducedRecord } from "../../src/client/record-batch-builder.ts";

// ------------------------------------------------------------------ PRNG

/** xorshift128+-ish 32-bit generator (sfc32), fully determined by the seed. */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(readonly seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.u32();
  }
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.u32() / 4294967296) * n);
  }
  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

// ------------------------------------------------------------------ hashing

export function hashBytes(b: Uint8Array | null): string {
  if (b === null) return "null";
  return new Bun.CryptoHasher("sha1").update(b).digest("hex");
}

export function bytesEqual(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// ------------------------------------------------------------------ record decoding

export interface DecodedRecord {
  offset: number;
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: { key: string; value: Uint8Array | null }[];
}

export interface DecodedBatch {
  baseOffset: number;
  lastOffset: number;
  compression: number;
  records: DecodedRecord[];
}

class VarReader {
  pos: number;
  constructor(readonly buf: Uint8Array, pos: number) {
    this.pos = pos;
  }
  varint(): number {
    let z = 0;
    let mul = 1;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error("varint past the end");
      const b = this.buf[this.pos++]!;
      z += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) break;
      mul *= 128;
      if (mul > 2 ** 63) throw new Error("varint too long");
    }
    // zigzag decode on a possibly > 2^32 number
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }
  bytes(): Uint8Array | null {
    const n = this.varint();
    if (n < 0) return null;
    if (this.pos + n > this.buf.length) throw new Error("bytes past the end");
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

const dec = new TextDecoder();

/** Decodes the complete v2 batches of a fetch response's records (a trailing partial batch is
 *  ignored, as clients do). Compressed batches are returned with an empty `records` list. */
export function decodeBatches(buf: Uint8Array | null): DecodedBatch[] {
  const out: DecodedBatch[] = [];
  if (!buf) return out;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 0;
  while (pos + 61 <= buf.length) {
    const baseOffset = Number(dv.getBigInt64(pos));
    const batchLength = dv.getInt32(pos + 8);
    const end = pos + 12 + batchLength;
    if (batchLength < 49 || end > buf.length) break;
    const magic = dv.getInt8(pos + 16);
    if (magic !== 2) throw new Error(`magic ${magic} batch at offset ${baseOffset}`);
    const attributes = dv.getInt16(pos + 21);
    const lastOffsetDelta = dv.getInt32(pos + 23);
    const baseTimestamp = Number(dv.getBigInt64(pos + 27));
    const count = dv.getInt32(pos + 57);
    const batch: DecodedBatch = { baseOffset, lastOffset: baseOffset + lastOffsetDelta, compression: attributes & 7, records: [] };
    if ((attributes & 7) === 0) {
      const r = new VarReader(buf.subarray(0, end), pos + 61);
      for (let i = 0; i < count; i++) {
        const len = r.varint();
        const recEnd = r.pos + len;
        r.pos++; // attributes
        const tsDelta = r.varint();
        const offDelta = r.varint();
        const key = r.bytes();
        const value = r.bytes();
        const nh = r.varint();
        const headers: DecodedRecord["headers"] = [];
        for (let h = 0; h < nh; h++) {
          const hk = r.bytes();
          headers.push({ key: hk ? dec.decode(hk) : "", value: r.bytes() });
        }
        if (r.pos !== recEnd) throw new Error(`record length mismatch in batch ${baseOffset}`);
        batch.records.push({ offset: baseOffset + offDelta, timestamp: baseTimestamp + tsDelta, key, value, headers });
      }
    }
    out.push(batch);
    pos = end;
  }
  return out;
}

// ------------------------------------------------------------------ wire shortcuts

export interface TopicSpec {
  name: string;
  partitions: number;
  configs?: Record<string, string>;
}

/** CreateTopics v7; returns per-topic error codes (and topic ids). */
export async function createTopics(client: WireClient, specs: TopicSpec[]): Promise<{ name: string; errorCode: number; errorMessage: string | null; topicId: string }[]> {
  const res: any = await client.send(CreateTopics, 7, {
    topics: specs.map((s) => ({
      name: s.name,
      numPartitions: s.partitions,
      replicationFactor: 1,
      assignments: [],
      configs: Object.entries(s.configs ?? {}).map(([name, value]) => ({ name, value })),
    })),
    timeoutMs: 10_000,
    validateOnly: false,
  });
  return res.topics.map((t: any) => ({ name: t.name, errorCode: t.errorCode, errorMessage: t.errorMessage ?? null, topicId: t.topicId }));
}

export interface ProduceResult {
  errorCode: number;
  baseOffset: number;
  errorMessage: string | null;
}

/** Produce of raw batch bytes to one partition (v9, flexible). */
export async function produceRaw(client: WireClient, topic: string, partition: number, records: Uint8Array | null, acks = -1, version = 9): Promise<ProduceResult> {
  const res = await client.send(Produce, version, {
    transactionalId: null,
    acks,
    timeoutMs: 30_000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
  });
  const p = res.responses[0]!.partitionResponses[0]!;
  return { errorCode: p.errorCode, baseOffset: p.baseOffset, errorMessage: p.errorMessage ?? null };
}

export function produceRecords(client: WireClient, topic: string, partition: number, records: ProducedRecord[], acks = -1): Promise<ProduceResult> {
  return produceRaw(client, topic, partition, buildRecordBatch(records), acks);
}

export interface FetchedPartition {
  errorCode: number;
  highWatermark: number;
  logStartOffset: number;
  batches: DecodedBatch[];
}

/** One Fetch v12 (topic names) of one partition. */
export async function fetchOnce(client: WireClient, topic: string, partition: number, offset: number, maxBytes = 4 << 20): Promise<FetchedPartition> {
  const res = await client.send(Fetch, 12, {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: maxBytes }] }],
    forgottenTopicsData: [],
    rackId: "",
  });
  const p = res.responses[0]!.partitions[0]!;
  return { errorCode: p.errorCode, highWatermark: p.highWatermark, logStartOffset: p.logStartOffset ?? -1, batches: decodeBatches(p.records) };
}

/** Every record from `from` up to the high watermark, in offset order. Throws on a fetch error. */
export async function fetchAll(client: WireClient, topic: string, partition: number, from = 0): Promise<{ records: DecodedRecord[]; batches: DecodedBatch[]; highWatermark: number; logStartOffset: number }> {
  const records: DecodedRecord[] = [];
  const batches: DecodedBatch[] = [];
  let offset = from;
  let hw = -1;
  let lso = -1;
  for (;;) {
    const f = await fetchOnce(client, topic, partition, offset);
    if (f.errorCode !== 0) throw new Error(`fetch ${topic}-${partition} @${offset}: error ${f.errorCode}`);
    hw = f.highWatermark;
    lso = f.logStartOffset;
    if (offset >= hw) break;
    if (f.batches.length === 0) throw new Error(`fetch ${topic}-${partition} @${offset} returned no complete batch below hw ${hw}`);
    for (const b of f.batches) {
      if (b.lastOffset < offset) continue;
      batches.push(b);
      for (const r of b.records) if (r.offset >= offset) records.push(r);
      offset = b.lastOffset + 1;
    }
  }
  return { records, batches, highWatermark: hw, logStartOffset: lso };
}

/** ListOffsets v7 for one partition: -2 earliest, -1 latest. Returns { errorCode, offset }. */
export async function listOffset(client: WireClient, topic: string, partition: number, timestamp: number): Promise<{ errorCode: number; offset: number }> {
  const res: any = await client.send(ListOffsets, 7, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [{ name: topic, partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp }] }],
  });
  const p = res.topics[0].partitions[0];
  return { errorCode: p.errorCode, offset: p.offset };
}

/** Metadata v12 for the given topics (null = all). */
export async function metadata(client: WireClient, topics: string[] | null): Promise<any> {
  return client.send(Metadata, 12, {
    topics: topics === null ? null : topics.map((name) => ({ topicId: "00000000000000000000000000000000", name })),
    allowAutoTopicCreation: false,
    includeTopicAuthorizedOperations: false,
  });
}

// ------------------------------------------------------------------ process

/** VmRSS of a process in KiB (Linux /proc), or -1 if it can't be read. */
export function vmRssKb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : -1;
  } catch {
    return -1;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export { WireClient };
