// The memory tier answers tail reads with views into its slabs and reuses a slab once no view of it
// is out (src/util/lent-views.ts). Over real TCP connections:
//  1. a consumer that does not read its socket: 64 pipelined Fetch responses of 256 KiB records
//     (sent as chunks of their own, without copying) pile up in the broker's send queue while a
//     producer pushes 15 MiB through a 4 MiB cache. When the consumer reads at last, every record
//     must carry the bytes it was produced with — a slab reused under a queued view would show as
//     another record's bytes.
//  2. a consumer at the tail (small and large records): the cache reuses its slabs, so the slab
//     memory it allocates fresh (logged at shutdown) stays far below what went through it.
import { afterAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { WireClient, encodeRequest, decodeResponse } from "../../src/client/wire-client.ts";
import * as C from "../../src/client/codecs.ts";
import { buildRecordBatch } from "../../src/client/record-batch-builder.ts";
import { FrameReader } from "../../src/net/frame-reader.ts";
import type { FetchRequest } from "../../src/protocol/generated/fetch-request.ts";
import type { FetchResponse } from "../../src/protocol/generated/fetch-response.ts";
import { readRecordValues } from "../../bench/lib/records.ts";
import { startBunka, type BrokerHandle } from "../support/broker.ts";

let broker: BrokerHandle | null = null;
afterAll(async () => {
  await broker?.stop();
}, 30_000);

const MiB = 1048576;
// two partitions share it: slabs (and so cached appends) up to 512 KiB, BIG batches fit
const CACHE_BYTES = 4 * MiB;
const BIG = 256 * 1024;

/** Record value for offset `offset`: its bytes tell which offset they belong to. */
function value(offset: number, size: number): Uint8Array {
  const v = new Uint8Array(size);
  for (let i = 0; i < size; i++) v[i] = (offset * 37 + i * 11 + (i >> 8)) & 0xff;
  return v;
}

async function produce(c: WireClient, topic: string, values: Uint8Array[]): Promise<number> {
  const res = await c.send(C.Produce, 9, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 10_000,
    topicData: [{ name: topic, partitionData: [{ index: 0, records: buildRecordBatch(values.map((v) => ({ value: v }))) }] }],
  });
  const p = res.responses[0]!.partitionResponses[0]!;
  expect(p.errorCode).toBe(0);
  return Number(p.baseOffset);
}

function fetchRequest(topic: string, offset: number, maxBytes: number): FetchRequest {
  return {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: maxBytes }] }],
    forgottenTopicsData: [],
    rackId: "",
  };
}

function expectRecords(res: FetchResponse, from: number, size: number): number {
  const p = res.responses[0]!.partitions[0]!;
  expect(p.errorCode).toBe(0);
  const records = readRecordValues(p.records);
  records.forEach((r, k) => {
    expect(r.offset).toBe(from + k); // a reused slab would hold another offset's batch
    expect(Buffer.compare(Buffer.from(r.value!), Buffer.from(value(r.offset, size)))).toBe(0);
  });
  return records.length;
}

test("views queued behind a slow socket keep their bytes while the cache turns over; a tail consumer lets slabs be reused", async () => {
  broker = await startBunka({ name: "hot-cache-loans", overrides: { "bunka.hot.cache.bytes": String(CACHE_BYTES), "log.flush.interval.ms": "60000" } });
  const producer = await WireClient.connect(broker.host, broker.port);
  for (const name of ["queued", "tail"]) {
    const created = await producer.send(C.CreateTopics, 7, {
      topics: [{ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 1000,
      validateOnly: false,
    });
    expect(created.topics[0]!.errorCode).toBe(0);
  }

  // 1. a consumer that stops reading its socket
  for (let o = 0; o < 4; o++) expect(await produce(producer, "queued", [value(o, BIG)])).toBe(o);
  const frames = new FrameReader(1 << 30);
  const received: Uint8Array[] = [];
  const stalled = await Bun.connect({
    hostname: broker.host,
    port: broker.port,
    socket: {
      data(_s, data) {
        received.push(...frames.push(data).frames);
      },
    },
  });
  stalled.pause();
  const REQUESTS = 64;
  const asked: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const offset = 2 + (i % 2); // the newest two batches: in the cache
    asked.push(offset);
    stalled.write(encodeRequest(C.Fetch, 12, i + 1, "stalled", fetchRequest("queued", offset, BIG)).toBytes());
  }
  await Bun.sleep(500); // the broker answers them all; most of the 16 MiB waits in its send queue
  for (let o = 4; o < 64; o++) await produce(producer, "queued", [value(o, BIG)]); // 15 MiB through a 4 MiB cache
  stalled.resume();
  const deadline = Date.now() + 30_000;
  while (received.length < REQUESTS && Date.now() < deadline) await Bun.sleep(20);
  expect(received.length).toBe(REQUESTS);
  for (let i = 0; i < REQUESTS; i++) {
    const res = decodeResponse(1, 12, i + 1, received[i]!, (r) => C.Fetch.readResponse(r, 12));
    expect(expectRecords(res, asked[i]!, BIG)).toBe(1);
  }
  stalled.end();

  // 2. a consumer at the tail: small records (copied into responses) and large ones (sent as chunks)
  const consumer = await WireClient.connect(broker.host, broker.port);
  let produced = 0;
  let next = 0;
  for (let round = 0; round < 200; round++) {
    const size = round % 2 === 0 ? 4000 : 100_000;
    const values = Array.from({ length: 4 }, (_, k) => value(next + k, size));
    const base = await produce(producer, "tail", values);
    expect(base).toBe(next);
    produced += 4 * size;
    const res = await consumer.send(C.Fetch, 12, fetchRequest("tail", next, 4 * MiB));
    expect(expectRecords(res, next, size)).toBe(4);
    next += 4;
  }
  producer.close();
  consumer.close();
  await broker.stop();
  const summary = readFileSync(broker.logFile, "utf8").match(/hot cache: .*, ([\d.]+) MiB of slabs allocated fresh/);
  expect(summary).not.toBeNull();
  const fresh = Number(summary![1]) * MiB;
  // ~57 MiB went through the 4 MiB cache; without reuse, fresh slabs would be about as much
  expect(produced + 64 * BIG).toBeGreaterThan(50 * MiB);
  expect(fresh).toBeLessThan(8 * MiB);
  broker = null;
}, 120_000);
