import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as C from "../../../src/client/codecs.ts";
import { codec, encodeRequest } from "../../../src/client/wire-client.ts";
import { buildRecordBatch } from "../../../src/client/record-batch-builder.ts";
import { ErrorCode } from "../../../src/protocol/error-codes.ts";
import { Writer } from "../../../src/protocol/writer.ts";
import { writeAlterConfigsRequest } from "../../../src/protocol/generated/alter-configs-request.ts";
import { readAlterConfigsResponse } from "../../../src/protocol/generated/alter-configs-response.ts";
import { writeIncrementalAlterConfigsRequest } from "../../../src/protocol/generated/incremental-alter-configs-request.ts";
import { readIncrementalAlterConfigsResponse } from "../../../src/protocol/generated/incremental-alter-configs-response.ts";
import { writeCreatePartitionsRequest } from "../../../src/protocol/generated/create-partitions-request.ts";
import { readCreatePartitionsResponse } from "../../../src/protocol/generated/create-partitions-response.ts";
import { writeDeleteTopicsRequest } from "../../../src/protocol/generated/delete-topics-request.ts";
import { readDeleteTopicsResponse } from "../../../src/protocol/generated/delete-topics-response.ts";
import { writeDescribeClusterRequest } from "../../../src/protocol/generated/describe-cluster-request.ts";
import { readDescribeClusterResponse } from "../../../src/protocol/generated/describe-cluster-response.ts";
import { writeDescribeProducersRequest } from "../../../src/protocol/generated/describe-producers-request.ts";
import { readDescribeProducersResponse } from "../../../src/protocol/generated/describe-producers-response.ts";
import { writeDescribeLogDirsRequest } from "../../../src/protocol/generated/describe-log-dirs-request.ts";
import { readDescribeLogDirsResponse } from "../../../src/protocol/generated/describe-log-dirs-response.ts";
import { writeOffsetForLeaderEpochRequest } from "../../../src/protocol/generated/offset-for-leader-epoch-request.ts";
import { readOffsetForLeaderEpochResponse } from "../../../src/protocol/generated/offset-for-leader-epoch-response.ts";
import { openInProcessBroker, type InProcessBroker } from "../../support/in-process.ts";

const AlterConfigs = codec(33, writeAlterConfigsRequest, readAlterConfigsResponse);
const IncrementalAlterConfigs = codec(44, writeIncrementalAlterConfigsRequest, readIncrementalAlterConfigsResponse);
const CreatePartitions = codec(37, writeCreatePartitionsRequest, readCreatePartitionsResponse);
const DeleteTopics = codec(20, writeDeleteTopicsRequest, readDeleteTopicsResponse);
const DescribeCluster = codec(60, writeDescribeClusterRequest, readDescribeClusterResponse);
const DescribeProducers = codec(61, writeDescribeProducersRequest, readDescribeProducersResponse);
const DescribeLogDirs = codec(35, writeDescribeLogDirsRequest, readDescribeLogDirsResponse);
const OffsetForLeaderEpoch = codec(23, writeOffsetForLeaderEpochRequest, readOffsetForLeaderEpochResponse);

const enc = new TextEncoder();
let b: InProcessBroker;

beforeAll(async () => {
  b = await openInProcessBroker({ "num.partitions": "2" });
});
afterAll(async () => {
  await b.close();
});

async function createTopic(name: string, partitions = 1, configs: { name: string; value: string | null }[] = []) {
  const res = await b.call(C.CreateTopics, 7, { topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs }], timeoutMs: 1000, validateOnly: false });
  return res.topics[0]!;
}

async function produce(topic: string, partition: number, values: string[], acks = -1, version = 9, settings = {}) {
  const records = buildRecordBatch(values.map((v) => ({ key: enc.encode(`k-${v}`), value: enc.encode(v) })), settings);
  const res = await b.call(C.Produce, version, { transactionalId: null, acks, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: partition, records }] }] });
  return res.responses[0]!.partitionResponses[0]!;
}

/** One partition of a Fetch request (v12 fields), 1 MiB at most. */
function fetchPartition(partition: number, fetchOffset: number) {
  return { partition, fetchOffset, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1, lastFetchedEpoch: -1, logStartOffset: -1 };
}

function fetchReq(topic: string, partition: number, offset: number, extra: Record<string, unknown> = {}) {
  return {
    maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
    topics: [{ topic, partitions: [fetchPartition(partition, offset)] }],
    forgottenTopicsData: [], rackId: "", ...extra,
  };
}

describe("ApiVersions", () => {
  test("lists every served API with Kafka 4 floors", async () => {
    const res = await b.call(C.ApiVersions, 3, { clientSoftwareName: "t", clientSoftwareVersion: "1" });
    expect(res.errorCode).toBe(0);
    const byKey = new Map(res.apiKeys.map((k) => [k.apiKey, k]));
    expect(byKey.get(0)).toMatchObject({ minVersion: 0, maxVersion: 11 });
    expect(byKey.get(1)).toMatchObject({ minVersion: 4, maxVersion: 17 });
    expect(byKey.get(3)).toMatchObject({ minVersion: 4, maxVersion: 12 });
    expect(byKey.get(18)).toMatchObject({ minVersion: 0, maxVersion: 4 });
    expect(byKey.has(24)).toBe(false); // AddPartitionsToTxn: transactions not served, so not advertised
  });

  test("an unknown ApiVersions version gets UNSUPPORTED_VERSION in the v0 layout", async () => {
    const w = new Writer();
    w.int16(18); w.int16(99); w.int32(7); w.nullableString("x");
    const result = await b.dispatchRaw(w.toBytes());
    expect(Array.isArray(result)).toBe(true);
    const bytes = Buffer.concat(result as Uint8Array[]);
    expect(bytes.readInt32BE(4)).toBe(7); // correlation id
    expect(bytes.readInt16BE(8)).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect(bytes.readInt32BE(10)).toBeGreaterThan(10); // api_keys array count (classic int32)
  });

  test("unknown API keys, unsupported versions and truncated frames close the connection", async () => {
    const unknownKey = new Writer(); unknownKey.int16(999); unknownKey.int16(0); unknownKey.int32(1); unknownKey.nullableString(null);
    expect(await b.dispatchRaw(unknownKey.toBytes())).toBe("close");
    const badVersion = new Writer(); badVersion.int16(1); badVersion.int16(2); badVersion.int32(1); badVersion.nullableString(null);
    expect(await b.dispatchRaw(badVersion.toBytes())).toBe("close");
    expect(await b.dispatchRaw(new Uint8Array([0, 3, 0]))).toBe("close");
    const truncatedMetadata = new Writer(); truncatedMetadata.int16(3); truncatedMetadata.int16(4); truncatedMetadata.int32(1); truncatedMetadata.nullableString(null); truncatedMetadata.int32(5);
    expect(await b.dispatchRaw(truncatedMetadata.toBytes())).toBe("close");
  });
});

describe("topics", () => {
  test("Metadata auto-creates with num.partitions and returns stable ids", async () => {
    const res = await b.call(C.Metadata, 12, { topics: [{ topicId: "0".repeat(32), name: "auto-1" }], allowAutoTopicCreation: true, includeTopicAuthorizedOperations: false });
    const t = res.topics[0]!;
    expect(t.errorCode).toBe(0);
    expect(t.partitions.length).toBe(2);
    expect(t.topicId).not.toBe("0".repeat(32));
    const again = await b.call(C.Metadata, 12, { topics: [{ topicId: t.topicId, name: null }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    expect(again.topics[0]!.name).toBe("auto-1");
    expect(res.brokers).toEqual([{ nodeId: 1, host: "127.0.0.1", port: 19092, rack: null }]);
  });

  test("Metadata does not auto-create when the request forbids it", async () => {
    const res = await b.call(C.Metadata, 12, { topics: [{ topicId: "0".repeat(32), name: "no-auto" }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    expect(res.topics[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  test("CreateTopics validates names, replication factor, configs and duplicates", async () => {
    expect((await createTopic("bad/name")).errorCode).toBe(ErrorCode.INVALID_TOPIC_EXCEPTION);
    const rf3 = await b.call(C.CreateTopics, 7, { topics: [{ name: "rf3", numPartitions: 1, replicationFactor: 3, assignments: [], configs: [] }], timeoutMs: 1000, validateOnly: false });
    expect(rf3.topics[0]!.errorCode).toBe(ErrorCode.INVALID_REPLICATION_FACTOR);
    expect((await createTopic("badcfg", 1, [{ name: "retention.ms", value: "soon" }])).errorCode).toBe(ErrorCode.INVALID_CONFIG);
    expect((await createTopic("unknowncfg", 1, [{ name: "no.such.config", value: "1" }])).errorCode).toBe(ErrorCode.INVALID_CONFIG);
    const ok = await createTopic("ct-1", 3, [{ name: "retention.ms", value: "12345" }]);
    expect(ok.errorCode).toBe(0);
    expect(ok.numPartitions).toBe(3);
    expect(ok.configs?.find((c) => c.name === "retention.ms")?.value).toBe("12345");
    expect((await createTopic("ct-1")).errorCode).toBe(ErrorCode.TOPIC_ALREADY_EXISTS);
    const validateOnly = await b.call(C.CreateTopics, 7, { topics: [{ name: "vo", numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 1000, validateOnly: true });
    expect(validateOnly.topics[0]!.errorCode).toBe(0);
    expect(b.broker.topics.get("vo")).toBeUndefined();
  });

  test("CreatePartitions grows, refuses shrinking", async () => {
    await createTopic("cp-1", 1);
    const grow = await b.call(CreatePartitions, 3, { topics: [{ name: "cp-1", count: 3, assignments: null }], timeoutMs: 1000, validateOnly: false });
    expect(grow.results[0]!.errorCode).toBe(0);
    expect(b.broker.topics.get("cp-1")!.logs.length).toBe(3);
    const shrink = await b.call(CreatePartitions, 3, { topics: [{ name: "cp-1", count: 2, assignments: null }], timeoutMs: 1000, validateOnly: false });
    expect(shrink.results[0]!.errorCode).toBe(ErrorCode.INVALID_PARTITIONS);
  });

  test("DeleteTopics by name and by id", async () => {
    const a = await createTopic("del-a");
    await createTopic("del-b");
    const byName = await b.call(DeleteTopics, 5, { topicNames: ["del-b", "missing"], timeoutMs: 1000 });
    expect(byName.responses.map((r) => r.errorCode)).toEqual([0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
    const byId = await b.call(DeleteTopics, 6, { topics: [{ name: null, topicId: a.topicId! }], timeoutMs: 1000 });
    expect(byId.responses[0]!.errorCode).toBe(0);
    expect(b.broker.topics.get("del-a")).toBeUndefined();
  });
});

describe("configs", () => {
  test("DescribeConfigs shows overrides, broker synonyms and defaults", async () => {
    await createTopic("cfg-1", 1, [{ name: "segment.bytes", value: "1048576" }]);
    const res = await b.call(C.DescribeConfigs, 4, { resources: [{ resourceType: 2, resourceName: "cfg-1", configurationKeys: null }], includeSynonyms: true, includeDocumentation: false });
    const entries = new Map(res.results[0]!.configs.map((c) => [c.name, c]));
    expect(entries.get("segment.bytes")).toMatchObject({ value: "1048576", configSource: 1 });
    expect(entries.get("segment.bytes")!.synonyms![0]).toMatchObject({ name: "segment.bytes", source: 1 });
    expect(entries.get("retention.ms")).toMatchObject({ value: "604800000", configSource: 5 });
    expect(entries.get("cleanup.policy")!.value).toBe("delete");
    const missing = await b.call(C.DescribeConfigs, 4, { resources: [{ resourceType: 2, resourceName: "nope", configurationKeys: null }], includeSynonyms: false, includeDocumentation: false });
    expect(missing.results[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const brokerRes = await b.call(C.DescribeConfigs, 4, { resources: [{ resourceType: 4, resourceName: "1", configurationKeys: ["num.partitions"] }], includeSynonyms: false, includeDocumentation: false });
    expect(brokerRes.results[0]!.configs).toHaveLength(1);
    expect(brokerRes.results[0]!.configs[0]).toMatchObject({ name: "num.partitions", value: "2", configSource: 4 });
  });

  test("AlterConfigs replaces, IncrementalAlterConfigs patches, invalid values change nothing", async () => {
    await createTopic("cfg-2", 1, [{ name: "retention.ms", value: "1000" }]);
    const full = await b.call(AlterConfigs, 2, { resources: [{ resourceType: 2, resourceName: "cfg-2", configs: [{ name: "retention.bytes", value: "5000" }] }], validateOnly: false });
    expect(full.responses[0]!.errorCode).toBe(0);
    expect(b.broker.topics.get("cfg-2")!.record.configs).toEqual({ "retention.bytes": "5000" });
    const inc = await b.call(IncrementalAlterConfigs, 1, {
      resources: [{ resourceType: 2, resourceName: "cfg-2", configs: [{ name: "segment.ms", configOperation: 0, value: "60000" }, { name: "retention.bytes", configOperation: 1, value: null }] }],
      validateOnly: false,
    });
    expect(inc.responses[0]!.errorCode).toBe(0);
    expect(b.broker.topics.get("cfg-2")!.record.configs).toEqual({ "segment.ms": "60000" });
    const bad = await b.call(IncrementalAlterConfigs, 1, { resources: [{ resourceType: 2, resourceName: "cfg-2", configs: [{ name: "segment.ms", configOperation: 0, value: "-5" }] }], validateOnly: false });
    expect(bad.responses[0]!.errorCode).toBe(ErrorCode.INVALID_CONFIG);
    expect(b.broker.topics.get("cfg-2")!.record.configs).toEqual({ "segment.ms": "60000" });
  });
});

describe("produce and fetch", () => {
  test("round trip with acks=all, offsets contiguous, records byte-identical", async () => {
    await createTopic("pf-1", 1);
    const first = await produce("pf-1", 0, ["a", "b", "c"]);
    expect(first).toMatchObject({ errorCode: 0, baseOffset: 0 });
    const second = await produce("pf-1", 0, ["d"]);
    expect(second.baseOffset).toBe(3);
    const res = await b.call(C.Fetch, 12, fetchReq("pf-1", 0, 0));
    const p = res.responses[0]!.partitions[0]!;
    expect(p.errorCode).toBe(0);
    expect(p.highWatermark).toBe(4);
    const text = Buffer.from(p.records!).toString("latin1");
    for (const v of ["k-a", "k-b", "k-c", "k-d"]) expect(text).toContain(v);
  });

  test("produce errors: unknown partition, corrupt batch, v2 and bad acks", async () => {
    await createTopic("pf-err", 1);
    expect((await produce("pf-err", 5, ["x"])).errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const records = buildRecordBatch([{ value: enc.encode("x") }]);
    records[records.length - 1]! ^= 0xff;
    const res = await b.call(C.Produce, 9, { transactionalId: null, acks: -1, timeoutMs: 1000, topicData: [{ name: "pf-err", partitionData: [{ index: 0, records }] }] });
    expect(res.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
    expect((await produce("pf-err", 0, ["x"], -1, 2)).errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect((await produce("pf-err", 0, ["x"], 2)).errorCode).toBe(ErrorCode.INVALID_REQUIRED_ACKS);
    const two = Buffer.concat([buildRecordBatch([{ value: enc.encode("a") }]), buildRecordBatch([{ value: enc.encode("b") }])]);
    const twoRes = await b.call(C.Produce, 9, { transactionalId: null, acks: -1, timeoutMs: 1000, topicData: [{ name: "pf-err", partitionData: [{ index: 0, records: two }] }] });
    expect(twoRes.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.INVALID_RECORD);
    expect(b.broker.topics.partition("pf-err", 0)!.logEndOffset).toBe(0);
  });

  test("acks=0 gets no response; a failing acks=0 produce closes the connection", async () => {
    await createTopic("pf-acks0", 1);
    const ok = buildRecordBatch([{ value: enc.encode("x") }]);
    const frameOf = (records: Uint8Array, topic: string) => {
      return encodeRequest(C.Produce, 9, 1, "t", { transactionalId: null, acks: 0, timeoutMs: 1000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] }).toBytes().subarray(4);
    };
    expect(await b.dispatchRaw(frameOf(ok, "pf-acks0"))).toBeNull();
    expect(await b.dispatchRaw(frameOf(ok, "missing-topic"))).toBe("close");
  });

  test("fetch out of range and at the end", async () => {
    await createTopic("pf-range", 1);
    await produce("pf-range", 0, ["a"]);
    const past = await b.call(C.Fetch, 12, fetchReq("pf-range", 0, 5));
    expect(past.responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
    const atEnd = await b.call(C.Fetch, 12, fetchReq("pf-range", 0, 1));
    expect(atEnd.responses[0]!.partitions[0]!).toMatchObject({ errorCode: 0, highWatermark: 1 });
    expect(atEnd.responses[0]!.partitions[0]!.records!.length).toBe(0);
  });

  test("fetch by topic id (v13+) and unknown ids", async () => {
    const t = await createTopic("pf-ids", 1);
    await produce("pf-ids", 0, ["a"]);
    const req = fetchReq("", 0, 0);
    req.topics = [{ topicId: t.topicId, partitions: req.topics[0]!.partitions } as any];
    const res = await b.call(C.Fetch, 16, req as any);
    expect(res.responses[0]!.topicId).toBe(t.topicId!);
    expect(res.responses[0]!.partitions[0]!.records!.length).toBeGreaterThan(0);
    (req.topics[0] as any).topicId = "ab".repeat(16);
    const unknown = await b.call(C.Fetch, 16, req as any);
    expect(unknown.responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_ID);
  });

  test("long-poll fetch is woken by an append, and times out empty otherwise", async () => {
    await createTopic("pf-poll", 1);
    const t0 = performance.now();
    const empty = await b.call(C.Fetch, 12, fetchReq("pf-poll", 0, 0, { maxWaitMs: 150, minBytes: 1 }));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    expect(empty.responses[0]!.partitions[0]!.records!.length).toBe(0);
    const waiting = b.call(C.Fetch, 12, fetchReq("pf-poll", 0, 0, { maxWaitMs: 10_000, minBytes: 1 }));
    await Bun.sleep(30);
    const t1 = performance.now();
    await produce("pf-poll", 0, ["wake"]);
    const res = await waiting;
    expect(performance.now() - t1).toBeLessThan(2000);
    expect(Buffer.from(res.responses[0]!.partitions[0]!.records!).toString("latin1")).toContain("wake");
  });

  test("a long-poll fetch answers errors and available data at once, without waiting", async () => {
    await createTopic("pf-now", 1);
    await produce("pf-now", 0, ["x", "y"]);
    const long = { maxWaitMs: 5_000, minBytes: 1 };
    const t0 = performance.now();
    const outOfRange = await b.call(C.Fetch, 12, fetchReq("pf-now", 0, 99, long));
    const unknownPartition = await b.call(C.Fetch, 12, fetchReq("pf-now", 7, 0, long));
    const unknownTopic = await b.call(C.Fetch, 12, fetchReq("pf-none", 0, 0, long));
    const data = await b.call(C.Fetch, 12, fetchReq("pf-now", 0, 1, long));
    const fromStart = await b.call(C.Fetch, 12, fetchReq("pf-now", 0, 0, { maxWaitMs: 5_000, minBytes: 1 }));
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect(outOfRange.responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
    expect(unknownPartition.responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect(unknownTopic.responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect(Buffer.from(data.responses[0]!.partitions[0]!.records!).toString("latin1")).toContain("y");
    expect(fromStart.responses[0]!.partitions[0]!.records!.length).toBeGreaterThan(0);
    // min_bytes above what is there: waits for max_wait, then answers with what there is
    const t1 = performance.now();
    const partial = await b.call(C.Fetch, 12, fetchReq("pf-now", 0, 0, { maxWaitMs: 200, minBytes: 1 << 20 }));
    expect(performance.now() - t1).toBeGreaterThanOrEqual(190);
    expect(Buffer.from(partial.responses[0]!.partitions[0]!.records!).toString("latin1")).toContain("x");
  });

  test("incremental fetch sessions carry only partitions with news", async () => {
    await createTopic("pf-sess", 2);
    await produce("pf-sess", 0, ["a"]);
    const parts = [0, 1].map((partition) => fetchPartition(partition, 0));
    const full = await b.call(C.Fetch, 12, { ...fetchReq("pf-sess", 0, 0), sessionId: 0, sessionEpoch: 0, topics: [{ topic: "pf-sess", partitions: parts }] });
    expect(full.sessionId).not.toBe(0);
    expect(full.responses[0]!.partitions.length).toBe(2);
    // Nothing changed: the incremental response is empty.
    const inc1 = await b.call(C.Fetch, 12, { ...fetchReq("pf-sess", 0, 0), sessionId: full.sessionId, sessionEpoch: 1, topics: [{ topic: "pf-sess", partitions: [{ ...parts[0]!, fetchOffset: 1 }] }] });
    expect(inc1.errorCode).toBe(0);
    expect(inc1.responses.length).toBe(0);
    await produce("pf-sess", 1, ["b"]);
    const inc2 = await b.call(C.Fetch, 12, { ...fetchReq("pf-sess", 0, 0), sessionId: full.sessionId, sessionEpoch: 2, topics: [] });
    expect(inc2.responses[0]!.partitions.map((p) => p.partitionIndex)).toEqual([1]);
    const wrongEpoch = await b.call(C.Fetch, 12, { ...fetchReq("pf-sess", 0, 0), sessionId: full.sessionId, sessionEpoch: 7, topics: [] });
    expect(wrongEpoch.errorCode).toBe(ErrorCode.INVALID_FETCH_SESSION_EPOCH);
    const unknown = await b.call(C.Fetch, 12, { ...fetchReq("pf-sess", 0, 0), sessionId: 123456789, sessionEpoch: 1, topics: [] });
    expect(unknown.errorCode).toBe(ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
  });

  test("a session's partitions follow new partitions, topic deletion and re-creation", async () => {
    const text = (r: Uint8Array | null | undefined) => Buffer.from(r ?? new Uint8Array(0)).toString("latin1");
    await createTopic("sess-life", 1);
    await produce("sess-life", 0, ["first"]);
    const full = await b.call(C.Fetch, 12, { ...fetchReq("sess-life", 0, 0), sessionId: 0, sessionEpoch: 0, topics: [{ topic: "sess-life", partitions: [fetchPartition(0, 0), fetchPartition(1, 0)] }] });
    const byIndex = (res: typeof full) => new Map(res.responses.flatMap((t) => t.partitions).map((p) => [p.partitionIndex, p]));
    expect(byIndex(full).get(0)!.errorCode).toBe(0);
    expect(text(byIndex(full).get(0)!.records)).toContain("first");
    expect(byIndex(full).get(1)!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    let epoch = 1;
    const next = (partitions: ReturnType<typeof fetchPartition>[] = []) =>
      b.call(C.Fetch, 12, { ...fetchReq("sess-life", 0, 0), sessionId: full.sessionId, sessionEpoch: epoch++, topics: partitions.length ? [{ topic: "sess-life", partitions }] : [] });

    // partition 1 appears: the session's next request finds it (no records yet, no error)
    const grow = await b.call(CreatePartitions, 3, { topics: [{ name: "sess-life", count: 2, assignments: null }], timeoutMs: 1000, validateOnly: false });
    expect(grow.results[0]!.errorCode).toBe(0);
    await produce("sess-life", 1, ["second"]);
    const afterGrow = byIndex(await next([fetchPartition(0, 1)]));
    expect(afterGrow.get(1)!.errorCode).toBe(0);
    expect(text(afterGrow.get(1)!.records)).toContain("second");
    expect(afterGrow.has(0)).toBe(false); // nothing new on 0

    // the topic goes: both partitions answer as unknown
    const del = await b.call(DeleteTopics, 5, { topicNames: ["sess-life"], timeoutMs: 1000 });
    expect(del.responses[0]!.errorCode).toBe(0);
    const afterDelete = byIndex(await next());
    expect(afterDelete.get(0)!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect(afterDelete.get(1)!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);

    // a new topic of the same name: the session reads the new logs, not the deleted ones
    await createTopic("sess-life", 2);
    await produce("sess-life", 0, ["reborn"]);
    const afterRecreate = byIndex(await next([fetchPartition(0, 0), fetchPartition(1, 0)]));
    expect(afterRecreate.get(0)!.errorCode).toBe(0);
    expect(text(afterRecreate.get(0)!.records)).toContain("reborn");
    expect(text(afterRecreate.get(0)!.records)).not.toContain("first");
    expect(afterRecreate.get(1)!.errorCode).toBe(0);
    expect(afterRecreate.get(1)!.highWatermark).toBe(0);
  });

  test("a long poll over many partitions wakes on a produce to any one of them, not to another topic", async () => {
    const P = 40; // more than the purgatory indexes per log
    await createTopic("wide-poll", P);
    await createTopic("wide-other", 1);
    const parts = Array.from({ length: P }, (_, partition) => fetchPartition(partition, 0));
    const opened = await b.call(C.Fetch, 12, { ...fetchReq("wide-poll", 0, 0), sessionId: 0, sessionEpoch: 0, topics: [{ topic: "wide-poll", partitions: parts }] });
    expect(opened.responses[0]!.partitions.length).toBe(P);
    const longPoll = (extra: Record<string, unknown>) => {
      let answered = false;
      const res = b.call(C.Fetch, 12, { ...fetchReq("wide-poll", 0, 0), maxWaitMs: 10_000, minBytes: 1, topics: [{ topic: "wide-poll", partitions: parts }], ...extra }).then((r) => {
        answered = true;
        return r;
      });
      return { res, answered: () => answered };
    };
    const inSession = longPoll({ sessionId: opened.sessionId, sessionEpoch: 1, topics: [] });
    const sessionless = longPoll({});
    await Bun.sleep(50);
    await produce("wide-other", 0, ["elsewhere"]);
    await Bun.sleep(50);
    expect(inSession.answered()).toBe(false);
    expect(sessionless.answered()).toBe(false);
    const t0 = performance.now();
    await produce("wide-poll", 37, ["news"]);
    const [a, s] = await Promise.all([inSession.res, sessionless.res]);
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(a.responses[0]!.partitions.map((p) => p.partitionIndex)).toEqual([37]);
    const withRecords = s.responses[0]!.partitions.filter((p) => (p.records?.length ?? 0) > 0);
    expect(withRecords.map((p) => p.partitionIndex)).toEqual([37]);
    expect(s.responses[0]!.partitions.length).toBe(P); // sessionless: every partition answered
  });

  // An incremental session request looks only at the partitions that can have news (the log-change
  // journal, log-change-journal.ts); these are the cases where skipping a partition would be wrong.
  describe("incremental sessions over the log-change journal", () => {
    const P = 40;
    let epoch = 0;
    let sessionId = 0;
    const offsets = new Array<number>(P).fill(0);
    const open = async (topic: string) => {
      await createTopic(topic, P);
      const parts = Array.from({ length: P }, (_, partition) => fetchPartition(partition, 0));
      const res = await b.call(C.Fetch, 12, { ...fetchReq(topic, 0, 0), sessionId: 0, sessionEpoch: 0, topics: [{ topic, partitions: parts }] });
      sessionId = res.sessionId ?? 0;
      epoch = 1;
      offsets.fill(0);
      return res;
    };
    /** Next incremental request naming `moved` partitions at their current offsets; tracks offsets from the answer. */
    const next = async (topic: string, moved: number[] = [], extra: Record<string, unknown> = {}) => {
      const res = await b.call(C.Fetch, 12, {
        ...fetchReq(topic, 0, 0),
        sessionId,
        sessionEpoch: epoch++,
        topics: moved.length ? [{ topic, partitions: moved.map((p) => fetchPartition(p, offsets[p]!)) }] : [],
        ...extra,
      });
      expect(res.errorCode).toBe(0);
      const parts = res.responses.flatMap((t) => t.partitions);
      return parts;
    };
    const withRecords = (parts: { partitionIndex: number; records?: Uint8Array | null }[]) =>
      parts.filter((p) => (p.records?.length ?? 0) > 0).map((p) => p.partitionIndex).sort((x, y) => x - y);

    test("an append while no fetch waits is answered by the next request, once", async () => {
      await open("jr-idle");
      expect((await next("jr-idle")).length).toBe(0);
      await produce("jr-idle", 5, ["five"]);
      await produce("jr-idle", 31, ["thirty-one"]);
      const parts = await next("jr-idle");
      expect(withRecords(parts)).toEqual([5, 31]);
      offsets[5] = 1;
      offsets[31] = 1;
      expect((await next("jr-idle", [5, 31])).length).toBe(0);
      expect((await next("jr-idle")).length).toBe(0);
    });

    test("data left unread by the byte budget comes in the next request though nothing changed", async () => {
      await open("jr-budget");
      const big = "x".repeat(5000);
      await produce("jr-budget", 3, [big]);
      await produce("jr-budget", 17, [big]);
      // max_bytes below one batch: only the first partition with data gets its batch (KIP-74)
      const first = await next("jr-budget", [], { maxBytes: 100 });
      const got = withRecords(first);
      expect(got.length).toBe(1);
      const rest = [3, 17].filter((p) => !got.includes(p));
      offsets[got[0]!] = 1;
      const second = await next("jr-budget", got);
      expect(withRecords(second)).toEqual(rest);
    });

    test("a moved log start offset is news", async () => {
      await open("jr-start");
      await produce("jr-start", 9, ["a", "b", "c"]);
      const seen = await next("jr-start");
      expect(withRecords(seen)).toEqual([9]);
      offsets[9] = 3;
      expect((await next("jr-start", [9])).length).toBe(0);
      const res = await b.call(C.DeleteRecords, 2, { topics: [{ name: "jr-start", partitions: [{ partitionIndex: 9, offset: 2 }] }], timeoutMs: 1000 });
      expect(res.topics[0]!.partitions[0]!.errorCode).toBe(0);
      const after = await next("jr-start");
      expect(after.map((p) => [p.partitionIndex, p.logStartOffset])).toEqual([[9, 2]]);
    });

    test("a session further behind than the journal holds looks at every partition", async () => {
      await open("jr-overflow");
      await produce("jr-overflow", 12, ["early"]);
      // the change to partition 12 falls out of the ring: a flood of changes to another log
      const other = b.broker.topics.get("jr-overflow")!.logs[0]!;
      const otherId = b.broker.logChanges.register(other); // its id already (registered when opened)
      for (let i = 0; i <= (1 << 16); i++) b.broker.logChanges.record(otherId);
      expect(withRecords(await next("jr-overflow"))).toEqual([12]);
      offsets[12] = 1;
      expect((await next("jr-overflow", [12])).length).toBe(0);
    });

    test("a long poll is woken by an append to a partition no request named", async () => {
      await open("jr-poll");
      expect((await next("jr-poll")).length).toBe(0);
      const waiting = next("jr-poll", [], { maxWaitMs: 10_000, minBytes: 1 });
      await Bun.sleep(30);
      const t0 = performance.now();
      await produce("jr-poll", 38, ["late"]);
      const parts = await waiting;
      expect(performance.now() - t0).toBeLessThan(5_000);
      expect(withRecords(parts)).toEqual([38]);
    });
  });

  test("ListOffsets: earliest, latest, by timestamp, max timestamp", async () => {
    await createTopic("lo-1", 1);
    const base = Date.now() - 100_000;
    for (let i = 0; i < 5; i++) {
      const records = buildRecordBatch([{ value: enc.encode(`v${i}`), timestamp: base + i * 1000 }]);
      await b.call(C.Produce, 9, { transactionalId: null, acks: -1, timeoutMs: 1000, topicData: [{ name: "lo-1", partitionData: [{ index: 0, records }] }] });
    }
    const ask = async (timestamp: number) =>
      (await b.call(C.ListOffsets, 8, { replicaId: -1, isolationLevel: 0, topics: [{ name: "lo-1", partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp }] }] })).topics[0]!.partitions[0]!;
    expect((await ask(-2)).offset).toBe(0);
    expect((await ask(-1)).offset).toBe(5);
    expect(await ask(base + 2500)).toMatchObject({ offset: 3, timestamp: base + 3000 });
    expect((await ask(base + 999_999)).offset).toBe(-1);
    expect(await ask(-3)).toMatchObject({ offset: 4, timestamp: base + 4000 });
  });

  test("DeleteRecords moves the log start offset; fetch below it is out of range", async () => {
    await createTopic("dr-1", 1);
    await produce("dr-1", 0, ["a", "b", "c"]);
    const res = await b.call(C.DeleteRecords, 2, { topics: [{ name: "dr-1", partitions: [{ partitionIndex: 0, offset: 2 }] }], timeoutMs: 1000 });
    expect(res.topics[0]!.partitions[0]).toMatchObject({ errorCode: 0, lowWatermark: 2 });
    expect((await b.call(C.Fetch, 12, fetchReq("dr-1", 0, 0))).responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
    const past = await b.call(C.DeleteRecords, 2, { topics: [{ name: "dr-1", partitions: [{ partitionIndex: 0, offset: 99 }] }], timeoutMs: 1000 });
    expect(past.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
  });
});

describe("idempotent producers", () => {
  test("InitProducerId, dedupe of a retried batch, out-of-order sequence, DescribeProducers", async () => {
    await createTopic("idem-1", 1);
    const init = await b.call(C.InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 });
    expect(init.errorCode).toBe(0);
    const pid = init.producerId;
    const s = { producerId: pid, producerEpoch: init.producerEpoch };
    const first = await produce("idem-1", 0, ["a", "b"], -1, 9, { ...s, baseSequence: 0 });
    expect(first).toMatchObject({ errorCode: 0, baseOffset: 0 });
    const retry = await produce("idem-1", 0, ["a", "b"], -1, 9, { ...s, baseSequence: 0 });
    expect(retry).toMatchObject({ errorCode: 0, baseOffset: 0 });
    expect(b.broker.topics.partition("idem-1", 0)!.logEndOffset).toBe(2);
    const gap = await produce("idem-1", 0, ["c"], -1, 9, { ...s, baseSequence: 5 });
    expect(gap.errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    const next = await produce("idem-1", 0, ["c"], -1, 9, { ...s, baseSequence: 2 });
    expect(next).toMatchObject({ errorCode: 0, baseOffset: 2 });
    const desc = await b.call(DescribeProducers, 0, { topics: [{ name: "idem-1", partitionIndexes: [0] }] });
    expect(desc.topics[0]!.partitions[0]!.activeProducers[0]).toMatchObject({ producerId: pid, lastSequence: 2 });
    const second = await b.call(C.InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 });
    expect(second.producerId).not.toBe(pid);
    const bumped = await b.call(C.InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60000, producerId: pid, producerEpoch: 0 });
    expect(bumped).toMatchObject({ errorCode: 0, producerId: pid, producerEpoch: 1 });
    // producer.id.expiration.ms (default one day): the sweep forgets it only once it is that idle.
    expect(b.broker.expireProducers(Date.now())).toBe(0);
    expect(b.broker.expireProducers(Date.now() + 86_400_000 + 60_000)).toBeGreaterThanOrEqual(1);
    const after = await b.call(DescribeProducers, 0, { topics: [{ name: "idem-1", partitionIndexes: [0] }] });
    expect(after.topics[0]!.partitions[0]!.activeProducers).toEqual([]);
  });
});

describe("cluster and log dirs", () => {
  test("DescribeCluster, DescribeLogDirs, OffsetForLeaderEpoch", async () => {
    const cluster = await b.call(DescribeCluster, 1, { includeClusterAuthorizedOperations: false, endpointType: 1 });
    expect(cluster).toMatchObject({ errorCode: 0, clusterId: b.broker.clusterId, controllerId: 1 });
    await createTopic("ld-1", 1);
    await produce("ld-1", 0, ["a"]);
    const dirs = await b.call(DescribeLogDirs, 4, { topics: [{ topic: "ld-1", partitions: [0] }] });
    expect(dirs.results[0]!.topics[0]!.partitions[0]!.partitionSize).toBeGreaterThan(0);
    expect(dirs.results[0]!.totalBytes).toBeGreaterThan(0);
    const epoch = await b.call(OffsetForLeaderEpoch, 4, { replicaId: -1, topics: [{ topic: "ld-1", partitions: [{ partition: 0, currentLeaderEpoch: 0, leaderEpoch: 0 }] }] });
    expect(epoch.topics[0]!.partitions[0]).toMatchObject({ errorCode: 0, leaderEpoch: 0, endOffset: 1 });
    const fenced = await b.call(OffsetForLeaderEpoch, 4, { replicaId: -1, topics: [{ topic: "ld-1", partitions: [{ partition: 0, currentLeaderEpoch: 3, leaderEpoch: 0 }] }] });
    expect(fenced.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_LEADER_EPOCH);
  });
});

describe("persistence", () => {
  test("topics, ids, configs and data survive a reopen", async () => {
    const t = await createTopic("persist-1", 2, [{ name: "retention.ms", value: "99999" }]);
    await produce("persist-1", 1, ["x", "y"]);
    b = await b.reopen();
    const state = b.broker.topics.get("persist-1")!;
    expect(state.record.id).toBe(t.topicId!);
    expect(state.record.configs).toEqual({ "retention.ms": "99999" });
    expect(state.logs[1]!.highWatermark).toBe(2);
    const res = await b.call(C.Fetch, 12, fetchReq("persist-1", 1, 0));
    expect(Buffer.from(res.responses[0]!.partitions[0]!.records!).toString("latin1")).toContain("k-y");
  });
});
