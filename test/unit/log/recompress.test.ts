// Recompression to a topic's compression.type and deep validation, through PartitionLog.append.
// Compressed input batches are made with independent encoders where they exist (node:zlib for
// gzip, Bun's zstd), checksummed with the reference CRC-32C from the `crc-32` package.
import { describe, expect, test } from "bun:test";
import * as zlib from "node:zlib";
import { Codec, compress, decompress } from "../../../src/native/index.ts";
import type { CompressionCodecId } from "../../../src/native/index.ts";
import { PartitionLog } from "../../../src/log/partition-log.ts";
import type { TopicCompressionType } from "../../../src/log/log-config.ts";
import { decompressionLimit, needsRewrite, rewriteSettings } from "../../../src/log/recompress.ts";
import { ErrorCode, validateBatches } from "../../../src/protocol/record-batch.ts";
import { encodeRecords, decodeRecords } from "../../../src/protocol/records.ts";
import { buildBatch, crc32cRef, encodeRecord, sampleRecords, splitBatches } from "./batch-builder.ts";
import type { TestRecord } from "./batch-builder.ts";
import { config, tempDir } from "./helpers.ts";

const T0 = 1_700_000_000_000;
const MiB = 1024 * 1024;

/** Compresses with an implementation other than the addon where one exists. */
function independentCompress(codec: number, data: Uint8Array): Uint8Array {
  if (codec === Codec.gzip) return zlib.gzipSync(data);
  if (codec === Codec.zstd) return Bun.zstdCompressSync(data);
  return compress(codec as CompressionCodecId, data);
}

/** Replaces a batch's records section with `payload` in codec `codec`, fixing length and CRC. */
function withPayload(batch: Uint8Array, payload: Uint8Array, codec: number, opts: { recordCount?: number } = {}): Uint8Array {
  const out = new Uint8Array(61 + payload.length);
  out.set(batch.subarray(0, 61));
  out.set(payload, 61);
  const dv = new DataView(out.buffer);
  dv.setInt32(8, out.length - 12);
  dv.setInt16(21, (dv.getInt16(21) & ~7) | codec);
  if (opts.recordCount !== undefined) {
    dv.setInt32(57, opts.recordCount);
    dv.setInt32(23, opts.recordCount - 1);
  }
  dv.setUint32(17, crc32cRef(out.subarray(21)));
  return out;
}

function compressedBatch(records: TestRecord[], codec: number): { batch: Uint8Array; section: Uint8Array } {
  const plain = buildBatch(records);
  const section = plain.slice(61);
  if (codec === Codec.none) return { batch: plain, section };
  return { batch: withPayload(plain, independentCompress(codec, section), codec), section };
}

async function openLog(compressionType: TopicCompressionType, extra: Parameters<typeof config>[0] = {}): Promise<PartitionLog> {
  // Flush-interval mode: the high watermark is the log end, so reads see appends at once.
  return PartitionLog.open(tempDir(), "t", 0, config({ compressionType, flushIntervalMs: 60_000, ...extra }));
}

function stored(log: PartitionLog, offset = 0): Uint8Array {
  const r = log.read(offset, 64 * MiB);
  expect(r.errorCode).toBe(0);
  const b = splitBatches(r.records as Uint8Array);
  expect(b.length).toBeGreaterThan(0);
  return b[0]!.bytes;
}

function attr(batch: Uint8Array): number {
  return new DataView(batch.buffer, batch.byteOffset, batch.byteLength).getInt16(21);
}

/** The stored batch's records section, decompressed with the independent decoder where there is one. */
function storedSection(batch: Uint8Array): Uint8Array {
  const codec = attr(batch) & 7;
  const payload = batch.subarray(61);
  if (codec === Codec.none) return payload;
  if (codec === Codec.gzip) return zlib.gunzipSync(payload);
  if (codec === Codec.zstd) return Bun.zstdDecompressSync(payload);
  return decompress(codec as CompressionCodecId, payload, 64 * MiB);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

const ALL: [string, number][] = [
  ["uncompressed", Codec.none],
  ["gzip", Codec.gzip],
  ["snappy", Codec.snappy],
  ["lz4", Codec.lz4],
  ["zstd", Codec.zstd],
];

describe("recompression to the topic's codec", () => {
  for (const [fromName, from] of ALL) {
    for (const [toName, to] of ALL) {
      if (from === to) continue;
      test(`${fromName} → ${toName}`, async () => {
        const log = await openLog(toName as TopicCompressionType);
        const records = sampleRecords(40, T0, 200);
        const { batch, section } = compressedBatch(records, from);
        // A second append proves offsets continue across rebuilt batches.
        const first = log.append(batch, T0);
        expect(first.errorCode).toBe(0);
        const second = log.append(compressedBatch(sampleRecords(3, T0 + 1000), from).batch, T0);
        expect(second.errorCode).toBe(0);
        expect(second.baseOffset).toBe(40);
        await second.durable;

        const got = stored(log, 0);
        expect(attr(got) & 7).toBe(to);
        expect(sameBytes(storedSection(got), section)).toBe(true);
        const dv = new DataView(got.buffer, got.byteOffset, got.byteLength);
        expect(dv.getUint32(17)).toBe(crc32cRef(got.subarray(21))); // reference CRC agrees
        expect(Number(dv.getBigInt64(0))).toBe(0);
        expect(dv.getInt32(57)).toBe(40);
        expect(Number(dv.getBigInt64(27))).toBe(T0);
        expect(Number(dv.getBigInt64(35))).toBe(T0 + 39);
        expect(Number(new DataView(stored(log, 40).buffer, stored(log, 40).byteOffset).getBigInt64(0))).toBe(40);
        await log.close();
      });
    }
  }

  test("producer keeps the producer's codec and bytes (zero-decode fast path: the input buffer is what gets stored)", async () => {
    const log = await openLog("producer");
    const { batch } = compressedBatch(sampleRecords(10), Codec.lz4);
    const r = log.append(batch, T0);
    expect(r.errorCode).toBe(0);
    expect(sameBytes(stored(log), batch)).toBe(true); // baseOffset patched in place in `batch`
    expect(rewriteSettings(config({ compressionType: "producer" }))).toBeNull();
    expect(rewriteSettings(config())).toBeNull();
    await log.close();
  });

  test("a batch already in the topic's codec is not touched", async () => {
    const settings = rewriteSettings(config({ compressionType: "zstd" }))!;
    const { batch } = compressedBatch(sampleRecords(10), Codec.zstd);
    const v = validateBatches(batch, MiB);
    expect(v.ok).toBe(true);
    if (v.ok) expect(needsRewrite(v.batches, settings)).toBe(false);
    const log = await openLog("zstd");
    log.append(batch, T0);
    expect(sameBytes(stored(log), batch)).toBe(true);
    await log.close();
  });

  test("transactional/producer fields survive the rebuild", async () => {
    const log = await openLog("gzip");
    const plain = buildBatch(sampleRecords(5), { producerId: 77, producerEpoch: 3, baseSequence: 0, partitionLeaderEpoch: 9 });
    const batch = withPayload(plain, compress(Codec.snappy, plain.subarray(61)), Codec.snappy);
    expect(log.append(batch, T0).errorCode).toBe(0);
    const got = stored(log);
    const dv = new DataView(got.buffer, got.byteOffset, got.byteLength);
    expect(Number(dv.getBigInt64(43))).toBe(77);
    expect(dv.getInt16(51)).toBe(3);
    expect(dv.getInt32(53)).toBe(0);
    expect(attr(got) & 7).toBe(Codec.gzip);
    // A retry of the same (snappy) batch is recognised as a duplicate after recompression.
    const again = log.append(batch.slice(), T0);
    expect(again.errorCode).toBe(0);
    expect(again.baseOffset).toBe(0);
    expect(log.logEndOffset).toBe(5);
    await log.close();
  });

  test("max.message.bytes applies to the stored batch: zstd → uncompressed that grows too big is MESSAGE_TOO_LARGE", async () => {
    const records = sampleRecords(200, T0, 400); // ~90 KB uncompressed, a few KB in zstd
    const { batch } = compressedBatch(records, Codec.zstd);
    expect(batch.length).toBeLessThan(20_000);
    const log = await openLog("uncompressed", { maxMessageBytes: 50_000 });
    const r = log.append(batch, T0);
    expect(r.errorCode).toBe(ErrorCode.MESSAGE_TOO_LARGE);
    expect(log.logEndOffset).toBe(0);
    // The same data in snappy to a gzip topic: compressed result must also fit.
    const small = compressedBatch([{ key: "k", value: "v" }], Codec.none).batch;
    const log2 = await openLog("gzip", { maxMessageBytes: small.length + 5 });
    expect(log2.append(small, T0).errorCode).toBe(ErrorCode.MESSAGE_TOO_LARGE); // gzip adds ~20 bytes of framing
    await log.close();
    await log2.close();
  });

  test("compressed batch with non-contiguous inner offsets is rebuilt with contiguous ones (as Kafka)", async () => {
    const parts = [0, 3, 4].map((d, i) => encodeRecord({ key: `k${i}`, value: `v${i}` }, d, T0));
    const section = Buffer.concat(parts);
    const batch = withPayload(buildBatch(sampleRecords(3)), independentCompress(Codec.gzip, section), Codec.gzip);
    const log = await openLog("lz4");
    expect(log.append(batch, T0).errorCode).toBe(0);
    const recs = decodeRecords(storedSection(stored(log)), 3);
    expect(recs.ok && recs.value.map((r) => r.offsetDelta)).toEqual([0, 1, 2]);
    await log.close();
  });
});

describe("hostile compressed batches", () => {
  const zeros = new Uint8Array(16 * MiB);
  function gzipBomb(): Uint8Array {
    const one = zlib.gzipSync(zeros, { level: 9 });
    return Buffer.concat(Array.from({ length: 64 }, () => one)); // 1 GiB of zeros claimed
  }
  function zstdBomb(): Uint8Array {
    const one = Bun.zstdCompressSync(zeros, { level: 19 });
    return Buffer.concat(Array.from({ length: 64 }, () => one));
  }

  const cases: [string, () => Uint8Array][] = [
    ["gzip bomb (1 GiB of zeros)", () => withPayload(buildBatch(sampleRecords(1)), gzipBomb(), Codec.gzip)],
    ["zstd bomb (1 GiB of zeros)", () => withPayload(buildBatch(sampleRecords(1)), zstdBomb(), Codec.zstd)],
    [
      "truncated lz4 frame",
      () => {
        const p = compress(Codec.lz4, buildBatch(sampleRecords(50)).subarray(61));
        return withPayload(buildBatch(sampleRecords(50)), p.subarray(0, p.length - 9), Codec.lz4);
      },
    ],
    [
      "truncated zstd frame",
      () => {
        const p = Bun.zstdCompressSync(buildBatch(sampleRecords(50)).subarray(61));
        return withPayload(buildBatch(sampleRecords(50)), p.subarray(0, p.length - 5), Codec.zstd);
      },
    ],
    ["garbage snappy with a valid CRC", () => withPayload(buildBatch(sampleRecords(3)), crypto.getRandomValues(new Uint8Array(500)), Codec.snappy)],
    ["garbage gzip with a valid CRC", () => withPayload(buildBatch(sampleRecords(3)), crypto.getRandomValues(new Uint8Array(500)), Codec.gzip)],
  ];

  for (const [mode, settings] of [
    ["recompressing topic (zstd/gzip)", { deep: false }],
    ["deep validation on a producer topic", { deep: true }],
  ] as const) {
    describe(mode, () => {
      for (const [name, make] of cases) {
        test(`${name} → CORRUPT_MESSAGE, the log keeps serving`, async () => {
          const batch = make();
          const codec = attr(batch) & 7;
          const target: TopicCompressionType = settings.deep ? "producer" : codec === Codec.zstd ? "gzip" : "zstd";
          const log = await openLog(target, { deepValidation: settings.deep });
          const t0 = performance.now();
          const r = log.append(batch, T0);
          const ms = performance.now() - t0;
          expect(r.errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
          expect(r.recordErrors?.[0]?.batchIndex).toBe(0);
          expect(ms).toBeLessThan(3000);
          expect(log.logEndOffset).toBe(0);
          const ok = log.append(compressedBatch(sampleRecords(4), Codec.gzip).batch, T0);
          expect(ok.errorCode).toBe(0);
          expect(log.logEndOffset).toBe(4);
          await log.close();
        }, 20_000);
      }
    });
  }

  test("a bomb into an uncompressed topic is MESSAGE_TOO_LARGE (bounded by max.message.bytes)", async () => {
    const log = await openLog("uncompressed");
    const r = log.append(withPayload(buildBatch(sampleRecords(1)), zstdBomb(), Codec.zstd), T0);
    expect(r.errorCode).toBe(ErrorCode.MESSAGE_TOO_LARGE);
    await log.close();
  });

  test("decompression bound: max(64 MiB, 64 × max.message.bytes) capped at 1 GiB; uncompressed target: max.message.bytes", () => {
    expect(decompressionLimit(1048588, Codec.zstd)).toBe(64 * 1048588);
    expect(decompressionLimit(1000, Codec.gzip)).toBe(64 * MiB);
    expect(decompressionLimit(1000, null)).toBe(64 * MiB);
    expect(decompressionLimit(100 * MiB, Codec.lz4)).toBe(1024 * MiB);
    expect(decompressionLimit(1048588, Codec.none)).toBe(1048588 - 61);
  });
});

describe("deep validation", () => {
  async function deepLog(): Promise<PartitionLog> {
    return openLog("producer", { deepValidation: true });
  }

  test("valid batches of every codec pass and are stored untouched", async () => {
    const log = await deepLog();
    for (const [, codec] of ALL) {
      const { batch } = compressedBatch(sampleRecords(7), codec);
      const copy = batch.slice();
      const r = log.append(batch, T0);
      expect(r.errorCode).toBe(0);
      const got = stored(log, r.baseOffset);
      expect(sameBytes(got.subarray(8), copy.subarray(8))).toBe(true);
    }
    await log.close();
  });

  test("record count disagreeing with the header → INVALID_RECORD (compressed and not)", async () => {
    const log = await deepLog();
    const plain = buildBatch(sampleRecords(3));
    // Header says 4 records (lastOffsetDelta 3) but the section holds 3.
    const lie = withPayload(plain, plain.slice(61), Codec.none, { recordCount: 4 });
    expect(log.append(lie, T0).errorCode).toBe(ErrorCode.INVALID_RECORD);
    const lieZ = withPayload(plain, Bun.zstdCompressSync(plain.slice(61)), Codec.zstd, { recordCount: 2 });
    const r = log.append(lieZ, T0);
    expect(r.errorCode).toBe(ErrorCode.INVALID_RECORD);
    expect(r.errorMessage).toMatch(/remain after the 2 declared records/);
    // Without deep validation the same lie is stored (header-only fast path).
    const fast = await openLog("producer");
    expect(fast.append(lie.slice(), T0).errorCode).toBe(0);
    await log.close();
    await fast.close();
  });

  test("malformed records inside a well-formed gzip stream → INVALID_RECORD", async () => {
    const log = await deepLog();
    const section = encodeRecords([{ attributes: 0, timestampDelta: 0, offsetDelta: 0, key: null, value: new Uint8Array(10), headers: [] }]);
    const broken = section.slice(0, section.length - 3);
    const batch = withPayload(buildBatch(sampleRecords(1)), zlib.gzipSync(broken), Codec.gzip);
    expect(log.append(batch, T0).errorCode).toBe(ErrorCode.INVALID_RECORD);
    await log.close();
  });
});
