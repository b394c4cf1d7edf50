import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Reader } from "../../src/protocol/reader.ts";
import { Writer } from "../../src/protocol/writer.ts";
import { requestHeaderVersion, responseHeaderVersion } from "../../src/protocol/header.ts";
import { API_SCHEMAS } from "../../src/protocol/generated/index.ts";
import { readRequestHeader, writeRequestHeader } from "../../src/protocol/generated/request-header.ts";
import { readResponseHeader, writeResponseHeader } from "../../src/protocol/generated/response-header.ts";
import { API_VERSIONS_REQUEST, readApiVersionsRequest, writeApiVersionsRequest } from "../../src/protocol/generated/api-versions-request.ts";
import { type ApiVersionsResponse, readApiVersionsResponse, writeApiVersionsResponse } from "../../src/protocol/generated/api-versions-response.ts";
import { PRODUCE_REQUEST, type ProduceRequest, readProduceRequest, writeProduceRequest } from "../../src/protocol/generated/produce-request.ts";
import { type ProduceResponse, readProduceResponse, writeProduceResponse } from "../../src/protocol/generated/produce-response.ts";
import { type FetchRequest, readFetchRequest, writeFetchRequest } from "../../src/protocol/generated/fetch-request.ts";
import { type FetchResponse, readFetchResponse, writeFetchResponse } from "../../src/protocol/generated/fetch-response.ts";
import { type MetadataRequest, readMetadataRequest, writeMetadataRequest } from "../../src/protocol/generated/metadata-request.ts";
import { type MetadataResponse, readMetadataResponse, writeMetadataResponse } from "../../src/protocol/generated/metadata-response.ts";
import { type CreateTopicsRequest, readCreateTopicsRequest, writeCreateTopicsRequest } from "../../src/protocol/generated/create-topics-request.ts";
import { type CreateTopicsResponse, readCreateTopicsResponse, writeCreateTopicsResponse } from "../../src/protocol/generated/create-topics-response.ts";
import { type JoinGroupRequest, readJoinGroupRequest, writeJoinGroupRequest } from "../../src/protocol/generated/join-group-request.ts";
import { type JoinGroupResponse, readJoinGroupResponse, writeJoinGroupResponse } from "../../src/protocol/generated/join-group-response.ts";
import { readConsumerProtocolSubscription, writeConsumerProtocolSubscription } from "../../src/protocol/generated/consumer-protocol-subscription.ts";
import { HEADER_LINE } from "../../scripts/codegen/emit.ts";
import { generateAll } from "../../scripts/codegen/main.ts";
import { type FieldSpec, type MessageSpec, kebab, parseRange, parseSchema, rangeMask } from "../../scripts/codegen/schema.ts";

const ROOT = resolve(import.meta.dir, "../..");
const SCHEMA_DIR = resolve(ROOT, "../shared/kafka-protocol/message");
const GEN_DIR = resolve(ROOT, "src/protocol/generated");
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const ascii = (s: string) => Buffer.from(s, "latin1").toString("hex");

type ReadFn<T> = (r: Reader, v: number) => T;
type WriteFn<T> = (w: Writer, v: number, m: T) => void;

function encode<T>(write: WriteFn<T>, v: number, m: T): Uint8Array {
  const w = new Writer(64);
  write(w, v, m);
  return w.toBytes();
}

function decode<T>(read: ReadFn<T>, v: number, b: Uint8Array): T {
  const r = new Reader(b);
  const m = read(r, v);
  expect(r.error).toBeNull();
  expect(r.remaining).toBe(0);
  return m;
}

/** write -> read -> write gives identical bytes; returns the decoded message. */
function roundTrip<T>(read: ReadFn<T>, write: WriteFn<T>, v: number, m: T): T {
  const b1 = encode(write, v, m);
  const d = decode(read, v, b1);
  const b2 = encode(write, v, d);
  expect(hex(b2)).toBe(hex(b1));
  return d;
}

describe("hand-checked bytes", () => {
  test("ApiVersions v3 request with request header v2", () => {
    const w = new Writer();
    const size = w.reserveInt32();
    writeRequestHeader(w, 2, { requestApiKey: 18, requestApiVersion: 3, correlationId: 7, clientId: "cli" });
    writeApiVersionsRequest(w, 3, { clientSoftwareName: "bunka", clientSoftwareVersion: "1.0" });
    w.patchInt32(size, w.byteLength - 4);
    const expected =
      "00000019" + // frame size = 25
      "0012" + // api key 18
      "0003" + // api version 3
      "00000007" + // correlation id
      "0003" + ascii("cli") + // client id: classic nullable string even in header v2
      "00" + // header tagged fields
      "06" + ascii("bunka") + // compact string: len+1
      "04" + ascii("1.0") +
      "00"; // body tagged fields
    expect(hex(w.toBytes())).toBe(expected);

    const r = new Reader(w.toBytes(), 4);
    const h = readRequestHeader(r, 2);
    expect(h).toEqual({ requestApiKey: 18, requestApiVersion: 3, correlationId: 7, clientId: "cli" });
    const body = readApiVersionsRequest(r, 3);
    expect(body).toEqual({ clientSoftwareName: "bunka", clientSoftwareVersion: "1.0" });
    expect(r.error).toBeNull();
    expect(r.remaining).toBe(0);
    expect(API_VERSIONS_REQUEST).toEqual({ apiKey: 18, minVersion: 0, maxVersion: 4, flexibleMin: 3 });
  });

  test("ApiVersions v0 request is empty; null client id in header v1", () => {
    expect(encode(writeApiVersionsRequest, 0, {}).length).toBe(0);
    expect(readApiVersionsRequest(new Reader(new Uint8Array(0)), 0)).toEqual({ clientSoftwareName: "", clientSoftwareVersion: "" });
    const b = encode(writeRequestHeader, 1, { requestApiKey: 3, requestApiVersion: 1, correlationId: 1, clientId: null });
    expect(hex(b)).toBe("0003" + "0001" + "00000001" + "ffff");
    expect(decode(readRequestHeader, 1, b).clientId).toBeNull();
    expect(hex(encode(writeResponseHeader, 1, { correlationId: 5 }))).toBe("0000000500");
    expect(hex(encode(writeResponseHeader, 0, { correlationId: 5 }))).toBe("00000005");
    expect(decode(readResponseHeader, 1, new Uint8Array([0, 0, 0, 5, 0])).correlationId).toBe(5);
  });

  test("ApiVersions v3 response with tagged fields", () => {
    const m: ApiVersionsResponse = {
      errorCode: 0,
      apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }],
      throttleTimeMs: 0,
      finalizedFeaturesEpoch: 5,
    };
    const b = encode(writeApiVersionsResponse, 3, m);
    const expected =
      "0000" + // error code
      "02" + // compact array: 1 element
      "0012" + "0000" + "0004" + "00" + // ApiVersion + its tagged fields
      "00000000" + // throttle
      "01" + // one tagged field (only the non-default one)
      "01" + "08" + "0000000000000005"; // tag 1, size 8, int64 5
    expect(hex(b)).toBe(expected);
    const d = decode(readApiVersionsResponse, 3, b);
    expect(d.finalizedFeaturesEpoch).toBe(5);
    expect(d.supportedFeatures).toEqual([]);
    expect(d.finalizedFeatures).toEqual([]);
    expect(d.zkMigrationReady).toBe(false);
    // defaults are not emitted: all-default tagged fields -> count 0
    const b0 = encode(writeApiVersionsResponse, 3, { ...m, finalizedFeaturesEpoch: -1 });
    expect(hex(b0).endsWith("00000000" + "00")).toBe(true);
    // v0: no throttle, no tags
    expect(hex(encode(writeApiVersionsResponse, 0, m))).toBe("0000" + "00000001" + "001200000004");
  });

  test("unknown tagged fields are skipped", () => {
    // ApiVersions v3 request with an unknown tag 9 (3 bytes)
    const b = new Uint8Array([2, 0x61, 2, 0x62, 1, 9, 3, 1, 2, 3]);
    const d = decode(readApiVersionsRequest, 3, b);
    expect(d).toEqual({ clientSoftwareName: "a", clientSoftwareVersion: "b" });
  });

  test("Metadata v4 request matches kafkajs encoding", async () => {
    const req = require("kafkajs/src/protocol/requests/metadata/v4/request.js")({ topics: ["a", "bc"], allowAutoTopicCreation: false });
    const kb: Buffer = (await req.encode()).buffer;
    const ours = encode(writeMetadataRequest, 4, { topics: [{ name: "a" }, { name: "bc" }], allowAutoTopicCreation: false });
    expect(hex(ours)).toBe(kb.toString("hex"));
  });
});

describe("message round trips", () => {
  const records = new Uint8Array(100).map((_, i) => i);
  const produce: ProduceRequest = {
    transactionalId: "tx-1",
    acks: -1,
    timeoutMs: 30000,
    topicData: [
      { name: "t1", partitionData: [{ index: 0, records }, { index: 1, records: null }] },
      { name: "t2", partitionData: [] },
    ],
  };

  test("Produce request v0, v3, v8, v9, v11", () => {
    for (const v of [0, 3, 8, 9, 11]) {
      const d = roundTrip(readProduceRequest, writeProduceRequest, v, produce);
      expect(d.transactionalId).toBe(v >= 3 ? "tx-1" : null);
      expect(d.topicData[0]!.partitionData[0]!.records).toEqual(records);
      expect(d.topicData[0]!.partitionData[1]!.records).toBeNull();
    }
    expect(PRODUCE_REQUEST).toEqual({ apiKey: 0, minVersion: 0, maxVersion: 11, flexibleMin: 9 });
    // optional field may be omitted -> default
    const d = roundTrip(readProduceRequest, writeProduceRequest, 9, { acks: 1, timeoutMs: 1, topicData: [] });
    expect(d.transactionalId).toBeNull();
  });

  test("Produce request with big records is zero-copy on write and read", () => {
    const big = new Uint8Array(64 * 1024).fill(3);
    const m: ProduceRequest = { transactionalId: null, acks: 1, timeoutMs: 5, topicData: [{ name: "t", partitionData: [{ index: 0, records: big }] }] };
    const w = new Writer();
    writeProduceRequest(w, 9, m);
    expect(w.toChunks().some((c) => c === big)).toBe(true);
    const buf = w.toBytes();
    const d = readProduceRequest(new Reader(buf), 9);
    const rec = d.topicData[0]!.partitionData[0]!.records!;
    expect(rec.length).toBe(big.length);
    expect(rec.buffer).toBe(buf.buffer);
  });

  test("Produce response v8 and v10 (tagged CurrentLeader, NodeEndpoints)", () => {
    const m: ProduceResponse = {
      responses: [
        {
          name: "t1",
          partitionResponses: [
            {
              index: 0,
              errorCode: 6,
              baseOffset: 2 ** 40,
              logAppendTimeMs: -1,
              logStartOffset: 0,
              recordErrors: [{ batchIndex: 1, batchIndexErrorMessage: null }],
              errorMessage: "not leader",
              currentLeader: { leaderId: 2, leaderEpoch: 9 },
            },
          ],
        },
      ],
      throttleTimeMs: 0,
      nodeEndpoints: [{ nodeId: 2, host: "h", port: 9092, rack: null }],
    };
    const d8 = roundTrip(readProduceResponse, writeProduceResponse, 8, m);
    expect(d8.responses[0]!.partitionResponses[0]!.currentLeader).toEqual({ leaderId: -1, leaderEpoch: -1 });
    expect(d8.nodeEndpoints).toEqual([]);
    const d10 = roundTrip(readProduceResponse, writeProduceResponse, 10, m);
    expect(d10.responses[0]!.partitionResponses[0]!.currentLeader).toEqual({ leaderId: 2, leaderEpoch: 9 });
    expect(d10.responses[0]!.partitionResponses[0]!.baseOffset).toBe(2 ** 40);
    expect(d10.nodeEndpoints).toEqual([{ nodeId: 2, host: "h", port: 9092, rack: null }]);
  });

  test("an absent optional tagged struct or array is written as its default (no tag), a default one too", () => {
    const bytes = (m: ProduceResponse) => {
      const w = new Writer(64);
      writeProduceResponse(w, 10, m);
      return w.toBytes();
    };
    const partition = { index: 0, errorCode: 0, baseOffset: 5, logAppendTimeMs: -1, logStartOffset: 0, recordErrors: [], errorMessage: null };
    const absent: ProduceResponse = { responses: [{ name: "t", partitionResponses: [{ ...partition }] }], throttleTimeMs: 0 };
    const defaults: ProduceResponse = {
      responses: [{ name: "t", partitionResponses: [{ ...partition, currentLeader: { leaderId: -1, leaderEpoch: -1 } }] }],
      throttleTimeMs: 0,
      nodeEndpoints: [],
    };
    const given: ProduceResponse = { responses: [{ name: "t", partitionResponses: [{ ...partition, currentLeader: { leaderId: 3, leaderEpoch: 1 } }] }], throttleTimeMs: 0 };
    expect(bytes(absent)).toEqual(bytes(defaults));
    expect(bytes(given).length).toBeGreaterThan(bytes(absent).length);
    const back = readProduceResponse(new Reader(bytes(given)), 10);
    expect(back.responses[0]!.partitionResponses[0]!.currentLeader).toEqual({ leaderId: 3, leaderEpoch: 1 });
  });

  test("Fetch request v4, v7, v12, v13, v15", () => {
    const m: FetchRequest = {
      clusterId: null,
      replicaId: -1,
      replicaState: { replicaId: 3, replicaEpoch: 4 },
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 52428800,
      isolationLevel: 1,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic: "t1",
          topicId: "0123456789abcdef0123456789abcdef",
          partitions: [{ partition: 0, currentLeaderEpoch: 5, fetchOffset: 100, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1048576 }],
        },
      ],
      forgottenTopicsData: [{ topic: "old", topicId: "0123456789abcdef0123456789abcdef", partitions: [1, 2] }],
      rackId: "",
    };
    for (const v of [4, 7, 12, 13, 15]) {
      const d = roundTrip(readFetchRequest, writeFetchRequest, v, m);
      expect(d.topics[0]!.topic).toBe(v < 13 ? "t1" : "");
      expect(d.topics[0]!.topicId).toBe(v >= 13 ? "0123456789abcdef0123456789abcdef" : "00000000000000000000000000000000");
      expect(d.topics[0]!.partitions[0]!.fetchOffset).toBe(100);
      expect(d.forgottenTopicsData).toEqual(v >= 7 ? [{ topic: v < 13 ? "old" : "", topicId: v >= 13 ? m.forgottenTopicsData![0]!.topicId! : "00000000000000000000000000000000", partitions: [1, 2] }] : []);
      expect(d.replicaState).toEqual(v >= 15 ? { replicaId: 3, replicaEpoch: 4 } : { replicaId: -1, replicaEpoch: -1 });
      expect(d.replicaId).toBe(v >= 15 ? -1 : -1);
    }
  });

  test("Fetch response v4, v11, v12 (tagged), v16", () => {
    const m: FetchResponse = {
      throttleTimeMs: 1,
      errorCode: 0,
      sessionId: 12,
      responses: [
        {
          topic: "t1",
          topicId: "fedcba9876543210fedcba9876543210",
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              highWatermark: 1000,
              lastStableOffset: 990,
              logStartOffset: 0,
              divergingEpoch: { epoch: 3, endOffset: 77 },
              currentLeader: { leaderId: 1, leaderEpoch: 2 },
              snapshotId: { endOffset: -1, epoch: -1 },
              abortedTransactions: [{ producerId: 9, firstOffset: 10 }],
              preferredReadReplica: -1,
              records: new Uint8Array([1, 2, 3]),
            },
            { partitionIndex: 1, errorCode: 1, highWatermark: -1, abortedTransactions: null, records: null },
          ],
        },
      ],
      nodeEndpoints: [],
    };
    for (const v of [4, 11, 12, 16]) {
      const d = roundTrip(readFetchResponse, writeFetchResponse, v, m);
      const p = d.responses[0]!.partitions[0]!;
      expect(p.records).toEqual(new Uint8Array([1, 2, 3]));
      expect(p.abortedTransactions).toEqual([{ producerId: 9, firstOffset: 10 }]);
      expect(p.divergingEpoch).toEqual(v >= 12 ? { epoch: 3, endOffset: 77 } : { epoch: -1, endOffset: -1 });
      expect(d.responses[0]!.partitions[1]!.abortedTransactions).toBeNull();
      expect(d.sessionId).toBe(v >= 7 ? 12 : 0);
    }
  });

  test("Metadata request/response v1, v4, v9, v12", () => {
    const req: MetadataRequest = { topics: null, allowAutoTopicCreation: true, includeTopicAuthorizedOperations: false };
    for (const v of [1, 4, 9, 12]) expect(roundTrip(readMetadataRequest, writeMetadataRequest, v, req).topics).toBeNull();
    expect(() => encode(writeMetadataRequest, 0, req)).toThrow(/null is not allowed/);
    const req12: MetadataRequest = { topics: [{ topicId: "00000000000000000000000000000001", name: null }] };
    expect(roundTrip(readMetadataRequest, writeMetadataRequest, 12, req12).topics).toEqual([{ topicId: "00000000000000000000000000000001", name: null }]);

    const resp: MetadataResponse = {
      throttleTimeMs: 0,
      brokers: [{ nodeId: 1, host: "localhost", port: 9092, rack: null }],
      clusterId: "c1",
      controllerId: 1,
      topics: [
        {
          errorCode: 0,
          name: "t1",
          topicId: "0123456789abcdef0123456789abcdef",
          isInternal: false,
          partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, leaderEpoch: 0, replicaNodes: [1], isrNodes: [1], offlineReplicas: [] }],
          topicAuthorizedOperations: -2147483648,
        },
      ],
    };
    for (const v of [1, 4, 9, 12]) {
      const d = roundTrip(readMetadataResponse, writeMetadataResponse, v, resp);
      expect(d.brokers[0]!.host).toBe("localhost");
      expect(d.topics[0]!.partitions[0]!.replicaNodes).toEqual([1]);
      expect(d.clusterId).toBe(v >= 2 ? "c1" : null);
    }
  });

  test("ApiVersions response v0..v4 incl. all tagged fields", () => {
    const m: ApiVersionsResponse = {
      errorCode: 35,
      apiKeys: [
        { apiKey: 0, minVersion: 0, maxVersion: 11 },
        { apiKey: 18, minVersion: 0, maxVersion: 4 },
      ],
      throttleTimeMs: 10,
      supportedFeatures: [{ name: "metadata.version", minVersion: 1, maxVersion: 20 }],
      finalizedFeaturesEpoch: 2 ** 40,
      finalizedFeatures: [{ name: "metadata.version", maxVersionLevel: 20, minVersionLevel: 20 }],
      zkMigrationReady: true,
    };
    for (let v = 0; v <= 4; v++) {
      const d = roundTrip(readApiVersionsResponse, writeApiVersionsResponse, v, m);
      if (v >= 3) expect(d).toEqual(m);
      else expect(d.zkMigrationReady).toBe(false);
    }
  });

  test("CreateTopics v2, v4, v5, v7", () => {
    const req: CreateTopicsRequest = {
      topics: [
        { name: "t", numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }], configs: [{ name: "cleanup.policy", value: null }] },
      ],
      timeoutMs: 1000,
      validateOnly: true,
    };
    for (const v of [2, 4, 5, 7]) expect(roundTrip(readCreateTopicsRequest, writeCreateTopicsRequest, v, req)).toEqual(req);
    const resp: CreateTopicsResponse = {
      throttleTimeMs: 0,
      topics: [
        {
          name: "t",
          topicId: "0123456789abcdef0123456789abcdef",
          errorCode: 0,
          errorMessage: null,
          topicConfigErrorCode: 0,
          numPartitions: 3,
          replicationFactor: 1,
          configs: [{ name: "x", value: "y", readOnly: false, configSource: 5, isSensitive: false }],
        },
      ],
    };
    for (const v of [2, 4, 5, 7]) {
      const d = roundTrip(readCreateTopicsResponse, writeCreateTopicsResponse, v, resp);
      expect(d.topics[0]!.configs).toEqual(v >= 5 ? resp.topics[0]!.configs! : []);
      expect(d.topics[0]!.numPartitions).toBe(v >= 5 ? 3 : -1);
    }
    // nullable array written as null in v5
    expect(roundTrip(readCreateTopicsResponse, writeCreateTopicsResponse, 5, { topics: [{ name: "t", errorCode: 0, configs: null }] }).topics[0]!.configs).toBeNull();
  });

  test("JoinGroup v0, v5, v6, v9", () => {
    const req: JoinGroupRequest = {
      groupId: "g",
      sessionTimeoutMs: 10000,
      rebalanceTimeoutMs: 30000,
      memberId: "",
      groupInstanceId: null,
      protocolType: "consumer",
      protocols: [{ name: "range", metadata: new Uint8Array([0, 3, 0, 0]) }],
      reason: "because",
    };
    for (const v of [0, 5, 6, 9]) {
      const d = roundTrip(readJoinGroupRequest, writeJoinGroupRequest, v, req);
      expect(d.rebalanceTimeoutMs).toBe(v >= 1 ? 30000 : -1);
      expect(d.protocols[0]!.metadata).toEqual(new Uint8Array([0, 3, 0, 0]));
      expect(d.reason).toBe(v >= 8 ? "because" : null);
    }
    const resp: JoinGroupResponse = {
      throttleTimeMs: 0,
      errorCode: 0,
      generationId: 1,
      protocolType: "consumer",
      protocolName: "range",
      leader: "m1",
      skipAssignment: false,
      memberId: "m1",
      members: [{ memberId: "m1", groupInstanceId: null, metadata: new Uint8Array([1]) }],
    };
    for (const v of [0, 5, 6, 9]) expect(roundTrip(readJoinGroupResponse, writeJoinGroupResponse, v, resp).members[0]!.memberId).toBe("m1");
  });

  test("ConsumerProtocolSubscription v0 and v3", () => {
    const m = { topics: ["a", "b"], userData: null, ownedPartitions: [{ topic: "a", partitions: [0, 1] }], generationId: 4, rackId: "r1" };
    expect(roundTrip(readConsumerProtocolSubscription, writeConsumerProtocolSubscription, 3, m)).toEqual(m);
    const d0 = roundTrip(readConsumerProtocolSubscription, writeConsumerProtocolSubscription, 0, m);
    expect(d0).toEqual({ topics: ["a", "b"], userData: null, ownedPartitions: [], generationId: -1, rackId: null });
  });

  test("unsupported versions and hostile input", () => {
    const r = new Reader(new Uint8Array(10));
    readProduceRequest(r, 99);
    expect(r.error).toContain("unsupported version");
    expect(() => encode(writeProduceRequest, 12, produce)).toThrow(/unsupported version/);
    // topic array count claims 0x7fffffff elements
    const bad = new Uint8Array([0xff, 0xff, 0, 1, 0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff, 0]);
    const r2 = new Reader(bad);
    const d = readProduceRequest(r2, 3);
    expect(r2.error).toContain("exceeds");
    expect(d.topicData).toEqual([]);
    // truncated flexible produce: every prefix of a valid encoding fails cleanly
    const full = encode(writeProduceRequest, 9, produce);
    for (let i = 0; i < full.length; i++) {
      const rr = new Reader(full.subarray(0, i));
      readProduceRequest(rr, 9);
      expect(rr.error).not.toBeNull();
    }
  });
});

describe("header helpers and API_SCHEMAS", () => {
  test("header versions", () => {
    expect(requestHeaderVersion(0, 8)).toBe(1);
    expect(requestHeaderVersion(0, 9)).toBe(2);
    expect(requestHeaderVersion(18, 3)).toBe(2);
    expect(requestHeaderVersion(18, 2)).toBe(1);
    expect(requestHeaderVersion(7, 0)).toBe(0);
    expect(responseHeaderVersion(0, 9)).toBe(1);
    expect(responseHeaderVersion(0, 8)).toBe(0);
    expect(responseHeaderVersion(18, 3)).toBe(0);
    expect(responseHeaderVersion(18, 4)).toBe(0);
    expect(responseHeaderVersion(3, 9)).toBe(1);
  });

  test("API_SCHEMAS covers every request schema", () => {
    expect(API_SCHEMAS[0]).toEqual({ name: "Produce", minVersion: 0, maxVersion: 11, flexibleMin: 9 });
    expect(API_SCHEMAS[18]).toEqual({ name: "ApiVersions", minVersion: 0, maxVersion: 4, flexibleMin: 3 });
    if (existsSync(SCHEMA_DIR)) {
      const reqs = readdirSync(SCHEMA_DIR).filter((f) => f.endsWith("Request.json"));
      expect(Object.keys(API_SCHEMAS).length).toBe(reqs.length);
    }
  });
});

// ---- schema-driven property test: every message, every version ---------------

function sampleValue(spec: FieldSpec, structs: Map<string, FieldSpec[]>, depth: number, seed: number): unknown {
  const t = spec.type;
  if (t.startsWith("[]")) {
    const elem = t.slice(2);
    const es: FieldSpec = { name: spec.name, type: elem, versions: spec.versions, fields: spec.fields };
    return [sampleValue(es, structs, depth + 1, seed + 1), sampleValue(es, structs, depth + 1, seed + 2)];
  }
  switch (t) {
    case "bool":
      return true;
    case "int8":
      return 7 + (seed % 5);
    case "int16":
      return 300 + seed;
    case "uint16":
      return 65000;
    case "int32":
      return 70000 + seed;
    case "uint32":
      return 4000000000;
    case "int64":
      return 2 ** 45 + seed;
    case "float64":
      return 1.25;
    case "string":
      return `s${seed}-é`;
    case "uuid":
      return "0123456789abcdef0123456789abcd" + (10 + (seed % 90)).toString();
    case "bytes":
    case "records":
      return new Uint8Array([seed & 255, 1, 2]);
  }
  const fields = spec.fields ?? structs.get(t);
  if (fields === undefined) throw new Error(`no struct ${t}`);
  const o: Record<string, unknown> = {};
  let i = 0;
  for (const f of fields) o[f.name[0]!.toLowerCase() + f.name.slice(1)] = sampleValue(f, structs, depth + 1, seed * 7 + i++);
  return o;
}

function collectStructs(fields: FieldSpec[], out: Map<string, FieldSpec[]>): void {
  for (const f of fields) {
    if (f.fields === undefined) continue;
    out.set(f.type.replace(/^\[\]/, ""), f.fields);
    collectStructs(f.fields, out);
  }
}

describe("every generated message round-trips at every version", () => {
  if (!existsSync(SCHEMA_DIR)) return;
  const specs: MessageSpec[] = [];
  for (const f of readdirSync(SCHEMA_DIR).filter((x) => x.endsWith(".json")).sort()) {
    const s = parseSchema(readFileSync(join(SCHEMA_DIR, f), "utf8"));
    if (existsSync(join(GEN_DIR, `${kebab(s.name)}.ts`))) specs.push(s);
  }
  test.each(specs.map((s) => [s.name, s] as const))("%s", async (_name, spec) => {
    const mod = (await import(join(GEN_DIR, `${kebab(spec.name)}.ts`))) as Record<string, unknown>;
    const read = mod[`read${spec.name}`] as ReadFn<unknown>;
    const write = mod[`write${spec.name}`] as WriteFn<unknown>;
    const structs = new Map<string, FieldSpec[]>();
    for (const c of spec.commonStructs ?? []) structs.set(c.name, c.fields);
    collectStructs(spec.fields, structs);
    for (const c of spec.commonStructs ?? []) collectStructs(c.fields, structs);
    const sample = sampleValue({ name: spec.name, type: spec.name, versions: "0+", fields: spec.fields }, structs, 0, 1);
    const [lo, hi] = parseRange(spec.validVersions)!;
    for (let v = lo; v <= hi; v++) {
      const d = roundTrip(read, write, v, sample) as Record<string, unknown>;
      // Fields present in this version (and non-tagged or tagged) keep their value at the top level.
      for (const f of spec.fields) {
        if ((rangeMask(f.versions, hi) & (1 << v)) === 0) continue;
        if (f.fields !== undefined || f.type.startsWith("[]")) continue;
        const key = f.name[0]!.toLowerCase() + f.name.slice(1);
        expect(d[key]).toEqual((sample as Record<string, unknown>)[key]);
      }
      // Truncating the encoding must set an error, never throw.
      const full = encode(write, v, sample);
      if (full.length > 0) {
        const r = new Reader(full.subarray(0, full.length - 1));
        read(r, v);
        expect(r.error).not.toBeNull();
      }
    }
  });
});

describe("regeneration", () => {
  test("committed generated files equal a fresh generation", () => {
    if (!existsSync(SCHEMA_DIR)) return;
    const fresh = generateAll(SCHEMA_DIR);
    const tmp = mkdtempSync(join(tmpdir(), "bunka-codegen-"));
    try {
      const committed = readdirSync(GEN_DIR).filter((f) => f.endsWith(".ts")).sort();
      expect(fresh.map((f) => f.fileName).sort()).toEqual(committed);
      for (const f of fresh) {
        expect(f.source.split("\n")[0]).toBe(HEADER_LINE);
        expect(f.source).toBe(readFileSync(join(GEN_DIR, f.fileName), "utf8"));
      }
      // The CLI writes the same thing.
      const proc = Bun.spawnSync(["bun", resolve(ROOT, "scripts/codegen/main.ts"), SCHEMA_DIR, tmp]);
      expect(proc.exitCode).toBe(0);
      for (const f of fresh) expect(readFileSync(join(tmp, f.fileName), "utf8")).toBe(f.source);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
