// The benchmark consumer's incremental fetch session (bench/vs-kafka/fetch-session.ts) against a
// real broker in-process: the first request opens a session with every partition, later ones list
// only partitions whose offset moved and get only partitions with news, and a forgotten session
// falls back to a full request.
import { afterAll, beforeAll, expect, test } from "bun:test";
import * as C from "../../../src/client/codecs.ts";
import { buildRecordBatch } from "../../../src/client/record-batch-builder.ts";
import { FETCH_SESSION_ID_NOT_FOUND, FetchSessionClient } from "../../../bench/vs-kafka/fetch-session.ts";
import { openInProcessBroker, type InProcessBroker } from "../../support/in-process.ts";

const TOPIC = "sessions";
const PARTITIONS = 6;
let b: InProcessBroker;

beforeAll(async () => {
  b = await openInProcessBroker();
  const created = await b.call(C.CreateTopics, 7, {
    topics: [{ name: TOPIC, numPartitions: PARTITIONS, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 30_000,
    validateOnly: false,
  });
  expect(created.topics[0]?.errorCode).toBe(0);
});
afterAll(() => b.close(true));

async function produce(partition: number): Promise<void> {
  const res = await b.call(C.Produce, 9, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 10_000,
    topicData: [{ name: TOPIC, partitionData: [{ index: partition, records: buildRecordBatch([{ value: new Uint8Array([partition]) }]) }] }],
  });
  expect(res.responses[0]?.partitionResponses[0]?.errorCode).toBe(0);
}

const listed = (req: ReturnType<FetchSessionClient["request"]>) => req.topics.flatMap((t) => t.partitions.map((p) => p.partition));

test("full request first, then only moved partitions; answers carry only partitions with news", async () => {
  const s = new FetchSessionClient(TOPIC, PARTITIONS, 1 << 20);
  const offsets = new Array<number>(PARTITIONS).fill(0);
  await produce(2);

  const first = s.request(offsets, 0, 1 << 20);
  expect(first.sessionId).toBe(0);
  expect(first.sessionEpoch).toBe(0);
  expect(listed(first)).toEqual([0, 1, 2, 3, 4, 5]);
  const r1 = await b.call(C.Fetch, 12, first);
  expect(r1.errorCode).toBe(0);
  expect(r1.sessionId).toBeGreaterThan(0);
  expect(s.answered(r1.errorCode ?? 0, r1.sessionId ?? 0)).toBe(true);
  offsets[2] = 1;

  await produce(4);
  const second = s.request(offsets, 0, 1 << 20);
  expect(second.sessionId).toBe(r1.sessionId);
  expect(second.sessionEpoch).toBe(1);
  expect(listed(second)).toEqual([2]); // only the partition whose offset moved
  const r2 = await b.call(C.Fetch, 12, second);
  expect(r2.errorCode).toBe(0);
  expect(s.answered(r2.errorCode ?? 0, r2.sessionId ?? 0)).toBe(true);
  // partition 4 has a new record; partition 2's high watermark was already told: only 4 comes back
  const answered = r2.responses.flatMap((t) => t.partitions.filter((p) => (p.records?.length ?? 0) > 0).map((p) => p.partitionIndex));
  expect(answered).toEqual([4]);

  const third = s.request(offsets, 0, 1 << 20);
  expect(third.sessionEpoch).toBe(2);
  expect(listed(third)).toEqual([]);
});

test("a session the broker forgot starts over with a full request", async () => {
  const s = new FetchSessionClient(TOPIC, PARTITIONS, 1 << 20);
  const offsets = new Array<number>(PARTITIONS).fill(0);
  const r1 = await b.call(C.Fetch, 12, s.request(offsets, 0, 1 << 20));
  s.answered(r1.errorCode ?? 0, r1.sessionId ?? 0);
  const stale = s.request(offsets, 0, 1 << 20);
  const wrongEpoch = await b.call(C.Fetch, 12, { ...stale, sessionEpoch: (stale.sessionEpoch ?? 0) + 5 });
  expect(wrongEpoch.errorCode).toBe(71); // INVALID_FETCH_SESSION_EPOCH
  expect(s.answered(wrongEpoch.errorCode ?? 0, wrongEpoch.sessionId ?? 0)).toBe(false);
  const again = s.request(offsets, 0, 1 << 20);
  expect(again.sessionId).toBe(0);
  expect(again.sessionEpoch).toBe(0);
  expect(listed(again)).toEqual([0, 1, 2, 3, 4, 5]);
  const unknown = await b.call(C.Fetch, 12, { ...again, sessionId: 0x7ffffff0, sessionEpoch: 3 });
  expect(unknown.errorCode).toBe(FETCH_SESSION_ID_NOT_FOUND);
});
