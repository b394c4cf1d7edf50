// The wire client must queue what Bun's socket.write does not take at once: 8 pipelined 4 MB
// produce requests (32 MB, far more than the kernel buffer) all arrive whole and are acknowledged.
// Its reused buffers (request assembly, pooled answer frames of sendAndConsume) never corrupt bytes.
import { afterAll, expect, test } from "bun:test";
import { WireClient } from "../../src/client/wire-client.ts";
import * as C from "../../src/client/codecs.ts";
import { buildRecordBatch } from "../../src/client/record-batch-builder.ts";
import { startBunka, type BrokerHandle } from "../support/broker.ts";
import { readRecordValues } from "../../bench/lib/records.ts";

let broker: BrokerHandle | null = null;
afterAll(async () => {
  await broker?.stop();
}, 30_000);

test("pipelined large requests are written whole (partial socket writes are queued)", async () => {
  broker = await startBunka({ name: "wire-client" });
  const c = await WireClient.connect(broker.host, broker.port);
  const created = await c.send(C.CreateTopics, 7, {
    topics: [{ name: "big", numPartitions: 1, replicationFactor: 1, assignments: [], configs: [{ name: "max.message.bytes", value: "10000000" }] }],
    timeoutMs: 1000,
    validateOnly: false,
  });
  expect(created.topics[0]!.errorCode).toBe(0);
  const batch = buildRecordBatch([{ value: new Uint8Array(4_000_000).fill(7) }]);
  const produce = () => c.send(C.Produce, 9, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: "big", partitionData: [{ index: 0, records: batch }] }] });
  const results = await Promise.all(Array.from({ length: 8 }, produce));
  expect(results.map((r) => r.responses[0]!.partitionResponses[0]!.baseOffset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  expect(c.isClosed).toBe(false);
  c.close();
}, 60_000);

test("a reused request buffer and fetch answers consumed in place (pooled frames) keep every byte right", async () => {
  broker ??= await startBunka({ name: "wire-client" });
  const c = await WireClient.connect(broker.host, broker.port);
  const created = await c.send(C.CreateTopics, 7, {
    topics: [{ name: "reuse", numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 1000,
    validateOnly: false,
  });
  expect(created.topics[0]!.errorCode).toBe(0);
  // 40 batches of 16 records x 4 KiB, each built into the same scratch buffer, overwritten as soon
  // as send() returned: the client must have taken its copy by then.
  const valueOf = (b: number, r: number) => new Uint8Array(4096).map((_, i) => (b * 131 + r * 17 + i) & 0xff);
  const scratch = new Uint8Array(1 << 20);
  const acks: Promise<unknown>[] = [];
  for (let b = 0; b < 40; b++) {
    const batch = buildRecordBatch(Array.from({ length: 16 }, (_, r) => ({ value: valueOf(b, r) })));
    scratch.set(batch);
    acks.push(c.send(C.Produce, 9, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: "reuse", partitionData: [{ index: 0, records: scratch.subarray(0, batch.length) }] }] }));
    scratch.fill(0xee, 0, batch.length);
  }
  await Promise.all(acks);
  const fetch = (offset: number, maxBytes: number) => ({
    replicaId: -1, maxWaitMs: 100, minBytes: 1, maxBytes, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
    topics: [{ topic: "reuse", partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: maxBytes }] }],
    forgottenTopicsData: [], rackId: "",
  });
  const check = (records: Uint8Array | null, from: number): number => {
    let next = from;
    for (const { offset, value } of readRecordValues(records)) {
      if (offset < from) continue;
      expect(offset).toBe(next);
      expect(value).toEqual(valueOf(Math.floor(offset / 16), offset % 16));
      next++;
    }
    return next;
  };
  // An answer taken with send() keeps its frame: later consumed answers must not overwrite it.
  const kept = await c.send(C.Fetch, 12, fetch(0, 200_000));
  let offset = 0;
  let answers = 0;
  while (offset < 640) {
    // ~200 KiB answers span socket reads, so they are assembled in pooled blocks reused each time.
    offset = await c.sendAndConsume(C.Fetch, 12, fetch(offset, 200_000), (res) => check((res.responses[0]!.partitions[0]!.records as Uint8Array | null) ?? null, offset));
    answers++;
  }
  expect(answers).toBeGreaterThan(5);
  expect(check((kept.responses[0]!.partitions[0]!.records as Uint8Array | null) ?? null, 0)).toBeGreaterThan(40);
  c.close();
}, 60_000);
