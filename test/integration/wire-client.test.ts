// The wire client must queue what Bun's socket.write does not take at once: 8 pipelined 4 MB
// produce requests (32 MB, far more than the kernel buffer) all arrive whole and are acknowledged.
import { afterAll, expect, test } from "bun:test";
import { WireClient } from "../../src/client/wire-client.ts";
import * as C from "../../src/client/codecs.ts";
import { buildRecordBatch } from "../../src/client/record-batch-builder.ts";
import { startBunka, type BrokerHandle } from "../support/broker.ts";

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
