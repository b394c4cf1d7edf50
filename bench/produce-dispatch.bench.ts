/**
 * Broker CPU per record on the produce path at many partitions, without sockets: an in-process
 * broker (flush-interval mode, as Bunka's `none` benchmark rows run) handles Produce request frames
 * the way the open-loop client sends them at 1000 partitions: each request carries one 1 KiB
 * record for each of `perRequest` consecutive partitions. Everything the broker does for such a
 * request runs: frame parse, authorisation, validation, offsets, segment write, hot cache, index,
 * response encoding. Prints wall and CPU time (this process, all threads) per record for five
 * rounds, and the median user CPU.
 *
 *   bun bench/produce-dispatch.bench.ts [requests] [perRequest]
 *   bun --cpu-prof-md bench/produce-dispatch.bench.ts   # where the time goes
 *   MMAP=false bun bench/produce-dispatch.bench.ts        # appends with pwrite (bunka.log.mmap=false)
 */
import { encodeRequest } from "../src/client/wire-client.ts";
import { Produce } from "../src/client/codecs.ts";
import { buildRecordBatch } from "../src/client/record-batch-builder.ts";
import { brokerWithTopic } from "./lib/in-process-topic.ts";

const requests = Number(process.argv[2] ?? 4000);
const perRequest = Number(process.argv[3] ?? 200);
const PARTITIONS = 1000;
const TOPIC = "dispatch";

const b = await brokerWithTopic("produce-dispatch", TOPIC, PARTITIONS, {
  "log.flush.interval.ms": "60000",
  "bunka.log.mmap": process.env.MMAP ?? "true",
});

const value = new Uint8Array(1024 - 70).fill(7);
const batch = buildRecordBatch([{ value }]);
/** Request frames (without the size prefix) for partitions [first, first + perRequest). */
function frame(first: number, id: number): Uint8Array {
  const partitionData = Array.from({ length: perRequest }, (_, i) => ({ index: (first + i) % PARTITIONS, records: batch }));
  const req = { transactionalId: null, acks: -1, timeoutMs: 30_000, topicData: [{ name: TOPIC, partitionData }] };
  return encodeRequest(Produce, 9, id, "bench", req).toBytes().subarray(4);
}
const templates = Array.from({ length: Math.ceil(PARTITIONS / perRequest) }, (_, i) => frame(i * perRequest, i + 1));

const users: number[] = [];
for (let round = 1; round <= 5; round++) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < requests; i++) {
    // a fresh copy: the log patches offsets into the frame, as it does into a request's buffer
    const result = await b.dispatchRaw((templates[i % templates.length] as Uint8Array).slice());
    if (result === null || result === "close") throw new Error("no response");
  }
  const records = requests * perRequest;
  const wallUs = ((performance.now() - t0) * 1000) / records;
  const cpu = process.cpuUsage(c0);
  users.push(cpu.user / records);
  console.log(
    `round ${round}: ${records} records in ${requests} requests of ${perRequest}: ${wallUs.toFixed(2)} µs wall, ` +
      `CPU per record ${(cpu.user / records).toFixed(2)} µs user + ${(cpu.system / records).toFixed(2)} µs system`,
  );
}
// User time is what the broker's own code costs; system time (mostly the ext4 write path) swings
// with the VM from run to run.
users.sort((a, b) => a - b);
console.log(`median user CPU per record: ${(users[2] as number).toFixed(2)} µs`);
await b.close(true);
