/**
 * In-process produce latency by acks setting (dispatch → response, no TCP), durable mode on the
 * default segment I/O engine: acks=1 and acks=-1 alternate, 1,500 sequential 1 KiB produces each
 * (the first 100 dropped as warm-up). Shows what acks=1 costs now that it waits for the bytes to be
 * in the kernel (it shares the group-commit fsync).
 *
 *   bun bench/acks-latency.bench.ts
 */
import * as C from "../src/client/codecs.ts";
import { buildRecordBatch } from "../src/client/record-batch-builder.ts";
import { openInProcessBroker } from "../test/support/in-process.ts";

const b = await openInProcessBroker({});
await b.call(C.CreateTopics, 7, { topics: [{ name: "lat", numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
const value = new Uint8Array(1024).fill(7);
for (const acks of [1, -1, 1, -1]) {
  const times: number[] = [];
  for (let i = 0; i < 1500; i++) {
    const batch = buildRecordBatch([{ key: null, value }]);
    const t = performance.now();
    await b.call(C.Produce, 9, { transactionalId: null, acks, timeoutMs: 5000, topicData: [{ name: "lat", partitionData: [{ index: 0, records: batch }] }] });
    if (i >= 100) times.push(performance.now() - t);
  }
  times.sort((x, y) => x - y);
  const q = (p: number) => (times[Math.floor(p * (times.length - 1))] as number).toFixed(3);
  console.log(`acks=${acks}: p50 ${q(0.5)} ms  p99 ${q(0.99)} ms  (n=${times.length})`);
}
await b.close();
