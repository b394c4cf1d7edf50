// Large Produce frames are assembled in reused pooled buffers (src/net/frame-pool.ts) and the
// native I/O engine writes appended bytes from the caller's buffer in place. Pipelined 200 KiB
// requests with acks=1 and acks=-1 mixed (acks=1 is answered before the write is done), over three partitions of a durable log: every
// record must come back with the bytes it was sent with (a block reused while a write still read
// it would show up as another request's bytes). An end-to-end integrity check: it does not
// reliably catch a premature release, since the worker usually writes before a block is reused (the
// hold rules themselves are unit-tested in test/unit/broker/frame-reader.test.ts).
import { afterAll, expect, test } from "bun:test";
import { WireClient } from "../../src/client/wire-client.ts";
import * as C from "../../src/client/codecs.ts";
import { buildRecordBatch } from "../../src/client/record-batch-builder.ts";
import { readRecordValues } from "../../bench/lib/records.ts";
import { startBunka, type BrokerHandle } from "../support/broker.ts";

let broker: BrokerHandle | null = null;
afterAll(async () => {
  await broker?.stop();
}, 30_000);

const PARTITIONS = 3;
const REQUESTS = 60;
const RECORDS = 4;
const VALUE_BYTES = 50_000;

function value(request: number, record: number): Uint8Array {
  const v = new Uint8Array(VALUE_BYTES);
  for (let i = 0; i < v.length; i++) v[i] = (request * 31 + record * 7 + i) & 0xff;
  return v;
}

test("pipelined large produce requests (acks 1/-1) keep their bytes through pooled frames and in-place writes", async () => {
  broker = await startBunka({ name: "pooled-frames" });
  const c = await WireClient.connect(broker.host, broker.port);
  const created = await c.send(C.CreateTopics, 7, {
    topics: [{ name: "frames", numPartitions: PARTITIONS, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 1000,
    validateOnly: false,
  });
  expect(created.topics[0]!.errorCode).toBe(0);

  const sent: Uint8Array[][] = Array.from({ length: PARTITIONS }, () => []);
  const inFlight: Promise<unknown>[] = [];
  for (let r = 0; r < REQUESTS; r++) {
    const partition = r % PARTITIONS;
    const values = Array.from({ length: RECORDS }, (_, i) => value(r, i));
    sent[partition]!.push(...values);
    const acks = r % 3 === 0 ? 1 : -1;
    inFlight.push(
      c.send(C.Produce, 9, {
        transactionalId: null,
        acks,
        timeoutMs: 5000,
        topicData: [{ name: "frames", partitionData: [{ index: partition, records: buildRecordBatch(values.map((v) => ({ value: v }))) }] }],
      }),
    );
    if (inFlight.length >= 8) await inFlight.shift();
  }
  await Promise.all(inFlight);

  for (let p = 0; p < PARTITIONS; p++) {
    const got: Uint8Array[] = [];
    let offset = 0;
    while (got.length < sent[p]!.length) {
      const res = await c.send(C.Fetch, 12, {
        replicaId: -1, maxWaitMs: 100, minBytes: 1, maxBytes: 8 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
        topics: [{ topic: "frames", partitions: [{ partition: p, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 8 << 20 }] }],
        forgottenTopicsData: [], rackId: "",
      });
      const pd = res.responses[0]!.partitions[0]!;
      expect(pd.errorCode).toBe(0);
      const records = readRecordValues((pd.records as Uint8Array | null) ?? null).filter((r) => r.offset >= offset);
      if (records.length === 0) break;
      for (const r of records) got.push(r.value!);
      offset = records[records.length - 1]!.offset + 1;
    }
    expect(got.length).toBe(sent[p]!.length);
    for (let i = 0; i < got.length; i++) {
      if (!Buffer.from(got[i]!).equals(Buffer.from(sent[p]![i]!))) throw new Error(`partition ${p} record ${i}: bytes differ from what was sent`);
    }
  }
  c.close();
}, 90_000);
