// The whole broker path with the embedded fs store (no MinIO): Produce, tiering passes, then Fetch
// (the handler's async remote path), ListOffsets -2/-4/-5 and by timestamp, DeleteRecords, topic
// deletion removing the remote prefix.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import * as C from "../../../src/client/codecs.ts";
import { openInProcessBroker, type InProcessBroker } from "../../support/in-process.ts";
import { buildBatch, sampleRecords } from "../log/batch-builder.ts";

let b: InProcessBroker;
const TOPIC = "tiered";
const produced: Uint8Array[] = [];

beforeAll(async () => {
  b = await openInProcessBroker({ "bunka.hot.cache.bytes": "0", "remote.fetch.max.wait.ms": "300" });
  const configs = [
    ["remote.storage.enable", "true"], ["segment.bytes", "8192"], ["local.retention.bytes", "0"], ["retention.ms", "-1"],
    ["file.delete.delay.ms", "0"], ["index.interval.bytes", "1024"],
  ].map(([name, value]) => ({ name: name!, value: value! }));
  const res = await b.call(C.CreateTopics, 7, { topics: [{ name: TOPIC, numPartitions: 1, replicationFactor: 1, assignments: [], configs }], timeoutMs: 1000, validateOnly: false });
  expect(res.topics[0]?.errorCode).toBe(0);
  for (let i = 0; i < 80; i++) {
    const batch = buildBatch(sampleRecords(10, 1_700_000_000_000 + i * 10, 120));
    const r = await b.call(C.Produce, 9, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: TOPIC, partitionData: [{ index: 0, records: batch }] }] });
    expect(r.responses[0]?.partitionResponses[0]?.errorCode).toBe(0);
    produced.push(batch.subarray(12)); // everything after baseOffset + batchLength is as sent
  }
  const tier = b.broker.tier!;
  for (let i = 0; i < 100; i++) {
    const more = await tier.runOnce();
    if (!more && tier.lag().segments === 0) break;
  }
});

afterAll(async () => {
  await b.close();
});

function fetchReq(offset: number, maxBytes = 1 << 20) {
  return {
    maxWaitMs: 0, minBytes: 0, maxBytes, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
    topics: [{ topic: TOPIC, partitions: [{ partition: 0, fetchOffset: offset, partitionMaxBytes: maxBytes, currentLeaderEpoch: -1, lastFetchedEpoch: -1, logStartOffset: -1 }] }],
    forgottenTopicsData: [], rackId: "",
  };
}

async function listOffset(timestamp: number): Promise<{ offset: number; errorCode: number }> {
  const r = await b.call(C.ListOffsets, 9, {
    replicaId: -1, isolationLevel: 0, timeoutMs: 0,
    topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 }] }],
  });
  const p = r.topics[0]!.partitions[0]!;
  return { offset: p.offset ?? -1, errorCode: p.errorCode };
}

function splitBatches(buf: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 0;
  while (pos + 12 <= buf.length) {
    const size = dv.getInt32(pos + 8) + 12;
    out.push(buf.subarray(pos, pos + size));
    pos += size;
  }
  return out;
}

describe("broker with the embedded fs tier store", () => {
  test("segments went to <data>/__bunka_internal/tier; a Fetch from 0 returns every batch as produced", async () => {
    const partDir = join(b.dataDir, `${TOPIC}-0`);
    expect(readdirSync(partDir).filter((n) => n.endsWith(".log")).length).toBe(1);
    expect(existsSync(join(b.dataDir, "__bunka_internal", "tier"))).toBe(true);
    const got: Uint8Array[] = [];
    let offset = 0;
    while (offset < 800) {
      const res = await b.call(C.Fetch, 12, fetchReq(offset, 3000));
      const p = res.responses[0]!.partitions[0]!;
      expect(p.errorCode).toBe(0);
      expect(p.logStartOffset).toBe(0);
      const batches = splitBatches(p.records ?? new Uint8Array(0));
      expect(batches.length).toBeGreaterThan(0);
      for (const batch of batches) {
        got.push(batch);
        offset = Number(new DataView(batch.buffer, batch.byteOffset).getBigInt64(0)) + 10;
      }
    }
    expect(got.length).toBe(80);
    for (let i = 0; i < 80; i++) {
      expect(Number(new DataView(got[i]!.buffer, got[i]!.byteOffset).getBigInt64(0))).toBe(i * 10);
      expect(Buffer.compare(Buffer.from(got[i]!.subarray(12)), Buffer.from(produced[i]!))).toBe(0);
    }
  });

  test("ListOffsets: -2 whole log, -4 first local, -5 nothing pending, timestamps inside tiered segments", async () => {
    expect(await listOffset(-2)).toEqual({ offset: 0, errorCode: 0 });
    const local = await listOffset(-4);
    expect(local.offset).toBeGreaterThan(700);
    expect((await listOffset(-5)).offset).toBe(local.offset);
    expect(await listOffset(1_700_000_000_123)).toEqual({ offset: 123, errorCode: 0 });
    expect((await listOffset(-3)).offset).toBe(799);
  });

  test("a slow remote read is given up after remote.fetch.max.wait.ms: empty records, no error, other partitions unaffected", async () => {
    const tier = b.broker.tier!;
    const original = tier.read.bind(tier);
    tier.read = async (...args: Parameters<typeof original>) => {
      await Bun.sleep(1500);
      return original(...args);
    };
    try {
      const started = Date.now();
      const res = await b.call(C.Fetch, 12, fetchReq(0));
      expect(Date.now() - started).toBeLessThan(1200);
      const p = res.responses[0]!.partitions[0]!;
      expect(p.errorCode).toBe(0);
      expect(p.records?.length ?? 0).toBe(0);
      expect(p.highWatermark).toBe(800);
    } finally {
      tier.read = original;
    }
  });

  test("DeleteRecords into the remote part, then deleting the topic removes its objects", async () => {
    const r = await b.call(C.DeleteRecords, 2, { topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, offset: 305 }] }], timeoutMs: 1000 });
    expect(r.topics[0]!.partitions[0]).toMatchObject({ lowWatermark: 305, errorCode: 0 });
    await b.broker.tier!.runOnce();
    expect((await listOffset(-2)).offset).toBe(305);
    const objects = await b.broker.tier!.store.list("");
    const bases = objects.filter((o) => o.key.endsWith(".log")).map((o) => Number(o.key.slice(-24, -4)));
    expect(Math.min(...bases)).toBeLessThanOrEqual(305);
    expect(bases.every((base) => base > 200)).toBe(true);
    const fetched = await b.call(C.Fetch, 12, fetchReq(100));
    expect(fetched.responses[0]!.partitions[0]!.errorCode).toBe(1); // OFFSET_OUT_OF_RANGE

    expect(await b.broker.topics.delete(TOPIC)).toBeNull();
    await b.broker.tier!.runOnce();
    expect((await b.broker.tier!.store.list("")).filter((o) => o.key.includes(`/${TOPIC}-`))).toEqual([]);
  });
});
