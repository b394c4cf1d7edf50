/**
 * Does the memory tier recycle its slabs under load? An in-process broker (flush-interval mode, a
 * small hot cache so it fills early) takes Produce requests of one 1 KiB record for each of
 * `perRequest` consecutive partitions of a 100-partition topic, round-robin, with or without a
 * consumer that fetches at the tail after each request (an incremental fetch session, as the
 * benchmark's open-loop consumer). Prints the bytes produced and the slab memory the cache had to
 * allocate fresh (HotCache.allocatedBytes): once the cache is full, recycled slabs cost nothing,
 * fresh ones are garbage for the collector and new pages for the kernel.
 *
 *   bun bench/hot-cache-churn.bench.ts [rounds] [perRequest]
 */
import * as C from "../src/client/codecs.ts";
import { buildRecordBatch } from "../src/client/record-batch-builder.ts";
import { brokerWithTopic } from "./lib/in-process-topic.ts";
import { FetchSessionClient } from "./vs-kafka/fetch-session.ts";

const rounds = Number(process.argv[2] ?? 6000);
const perRequest = Number(process.argv[3] ?? 13);
const PARTITIONS = 100;
const CACHE_BYTES = 16 << 20;
const MiB = 1048576;

async function run(withConsumer: boolean): Promise<void> {
  const b = await brokerWithTopic("hot-cache-churn", "churn", PARTITIONS, { "log.flush.interval.ms": "60000", "bunka.hot.cache.bytes": String(CACHE_BYTES) });
  try {
    const batch = buildRecordBatch([{ value: new Uint8Array(1024 - 70).fill(1) }]);
    const session = new FetchSessionClient("churn", PARTITIONS, 4 * MiB);
    const offsets = new Array<number>(PARTITIONS).fill(0);
    let next = 0;
    let produced = 0;
    for (let round = 1; round <= rounds; round++) {
      const partitionData = Array.from({ length: perRequest }, (_, i) => ({ index: (next + i) % PARTITIONS, records: batch.slice() }));
      next = (next + perRequest) % PARTITIONS;
      const res = await b.call(C.Produce, 9, { transactionalId: null, acks: -1, timeoutMs: 30_000, topicData: [{ name: "churn", partitionData }] });
      if (res.responses[0]?.partitionResponses.some((p) => p.errorCode !== 0)) throw new Error("produce failed");
      produced += perRequest * batch.length;
      if (withConsumer) {
        const f = await b.call(C.Fetch, 12, session.request(offsets, 0, 64 * MiB));
        if (!session.answered(f.errorCode ?? 0, f.sessionId ?? 0) || f.errorCode) throw new Error(`fetch error ${f.errorCode}`);
        for (const t of f.responses) for (const p of t.partitions) if ((p.records?.length ?? 0) > 0) offsets[p.partitionIndex] = p.highWatermark;
      }
    }
    const fresh = b.broker.hotCache.allocatedBytes;
    console.log(
      `${withConsumer ? "with a tail consumer" : "no consumer         "}: produced ${(produced / MiB).toFixed(1)} MiB, ` +
        `slab memory allocated fresh ${(fresh / MiB).toFixed(1)} MiB (cache ${CACHE_BYTES / MiB} MiB)`,
    );
  } finally {
    await b.close(true);
  }
}

await run(false);
await run(true);
process.exit(0);
