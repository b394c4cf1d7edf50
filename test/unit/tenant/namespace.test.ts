// Tenant namespaces in-process: two tenants with the same topic and group names stay apart on every
// API that names them; the global namespace (no tenant) sees the internal names; topic ids of other
// tenants are not revealed; partition limits answer Kafka's errors.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as C from "../../../src/client/codecs.ts";
import { codec } from "../../../src/client/wire-client.ts";
import { buildRecordBatch } from "../../../src/client/record-batch-builder.ts";
import { ErrorCode } from "../../../src/protocol/error-codes.ts";
import { writeOffsetCommitRequest } from "../../../src/protocol/generated/offset-commit-request.ts";
import { readOffsetCommitResponse } from "../../../src/protocol/generated/offset-commit-response.ts";
import { writeOffsetFetchRequest } from "../../../src/protocol/generated/offset-fetch-request.ts";
import { readOffsetFetchResponse } from "../../../src/protocol/generated/offset-fetch-response.ts";
import { writeListGroupsRequest } from "../../../src/protocol/generated/list-groups-request.ts";
import { readListGroupsResponse } from "../../../src/protocol/generated/list-groups-response.ts";
import { writeCreatePartitionsRequest } from "../../../src/protocol/generated/create-partitions-request.ts";
import { readCreatePartitionsResponse } from "../../../src/protocol/generated/create-partitions-response.ts";
import { writeDeleteTopicsRequest } from "../../../src/protocol/generated/delete-topics-request.ts";
import { readDeleteTopicsResponse } from "../../../src/protocol/generated/delete-topics-response.ts";
import { TenantStore } from "../../../src/tenant/tenant-store.ts";
import { openPrincipalBroker, openTwoTenantBroker, type PrincipalBroker } from "./principal-broker.ts";

const OffsetCommit = codec(8, writeOffsetCommitRequest, readOffsetCommitResponse);
const OffsetFetch = codec(9, writeOffsetFetchRequest, readOffsetFetchResponse);
const ListGroups = codec(16, writeListGroupsRequest, readListGroupsResponse);
const CreatePartitions = codec(37, writeCreatePartitionsRequest, readCreatePartitionsResponse);
const DeleteTopics = codec(20, writeDeleteTopicsRequest, readDeleteTopicsResponse);

let pb: PrincipalBroker;

beforeAll(async () => {
  pb = await openTwoTenantBroker({ "bunka.tenant.unit.partitions": "6", "bunka.tenant.unit.controller.mutation.rate": "1000" });
});

afterAll(async () => {
  await pb.close();
});

const create = (name: string, numPartitions = 1) => ({
  topics: [{ name, numPartitions, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false,
});
const fetchReq = (topic: string) => ({
  maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
  topics: [{ topic, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }], forgottenTopicsData: [], rackId: "",
});

describe("two tenants, same names", () => {
  test("CreateTopics: both get 'orders'; the global namespace holds both under their prefixes", async () => {
    for (const user of ["alice", "bob"]) {
      const res = await pb.as(user)(C.CreateTopics, 7, create("orders"));
      expect(res.topics.map((t) => [t.name, t.errorCode])).toEqual([["orders", 0]]);
    }
    const global = await pb.as(null)(C.Metadata, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    expect(global.topics.map((t) => t.name).sort()).toEqual(["__lc-1.orders", "__lc-2.orders"]);
    const again = await pb.as("alice")(C.CreateTopics, 7, create("orders"));
    expect(again.topics[0]!.errorCode).toBe(ErrorCode.TOPIC_ALREADY_EXISTS);
    expect(again.topics[0]!.errorMessage ?? "").not.toContain("__lc-");
  });

  test("Produce / Fetch: each tenant reads only its own records", async () => {
    const batch = buildRecordBatch([{ key: null, value: new TextEncoder().encode("acme-secret") }]);
    const p = await pb.as("alice")(C.Produce, 9, { acks: -1, timeoutMs: 5000, topicData: [{ name: "orders", partitionData: [{ index: 0, records: batch }] }] });
    expect(p.responses[0]!.name).toBe("orders");
    expect(p.responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
    const mine = await pb.as("alice")(C.Fetch, 12, fetchReq("orders"));
    expect(mine.responses[0]!.topic).toBe("orders");
    expect(Buffer.from(mine.responses[0]!.partitions[0]!.records ?? new Uint8Array()).includes("acme-secret")).toBe(true);
    const theirs = await pb.as("bob")(C.Fetch, 12, fetchReq("orders"));
    expect(theirs.responses[0]!.partitions[0]!.highWatermark).toBe(0);
    expect(theirs.responses[0]!.partitions[0]!.records?.length ?? 0).toBe(0);
  });

  test("Metadata listing shows only the tenant's topics; another tenant's topic id is unknown", async () => {
    const md = await pb.as("alice")(C.Metadata, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    expect(md.topics.map((t) => t.name)).toEqual(["orders"]);
    const aliceId = md.topics[0]!.topicId!;
    const byBob = await pb.as("bob")(C.Metadata, 12, { topics: [{ topicId: aliceId, name: null }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    expect(byBob.topics[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_ID);
    expect(byBob.topics[0]!.name).toBeNull();
    expect(byBob.topics[0]!.topicId).toBe(aliceId);
    const byAlice = await pb.as("alice")(C.Metadata, 12, { topics: [{ topicId: aliceId, name: null }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    expect(byAlice.topics[0]!.name).toBe("orders");
    // Fetch by id (v13+): bob gets UNKNOWN_TOPIC_ID for alice's id, alice her data.
    const fetchById = (topicId: string) => ({ ...fetchReq(""), topics: [{ topic: "", topicId, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }] });
    const bobFetch = await pb.as("bob")(C.Fetch, 13, fetchById(aliceId));
    expect(bobFetch.responses[0]!.topicId).toBe(aliceId);
    expect(bobFetch.responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_ID);
    const aliceFetch = await pb.as("alice")(C.Fetch, 13, fetchById(aliceId));
    expect(aliceFetch.responses[0]!.partitions[0]!.errorCode).toBe(0);
    expect(aliceFetch.responses[0]!.partitions[0]!.highWatermark).toBe(1);
  });

  test("DescribeConfigs answers with the client's topic name", async () => {
    const res = await pb.as("bob")(C.DescribeConfigs, 4, { resources: [{ resourceType: 2, resourceName: "orders", configurationKeys: ["retention.ms"] }], includeSynonyms: false, includeDocumentation: false });
    expect(res.results[0]!.errorCode).toBe(0);
    expect(res.results[0]!.resourceName).toBe("orders");
  });

  test("groups: same group id in two tenants, ListGroups and OffsetFetch see only their own", async () => {
    for (const [user, offset] of [["alice", 11], ["bob", 22]] as const) {
      const res = await pb.as(user)(OffsetCommit, 8, {
        groupId: "billing", generationIdOrMemberEpoch: -1, memberId: "", groupInstanceId: null,
        topics: [{ name: "orders", partitions: [{ partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: null }] }],
      });
      expect(res.topics[0]!.name).toBe("orders");
      expect(res.topics[0]!.partitions[0]!.errorCode).toBe(0);
    }
    const lg = await pb.as("alice")(ListGroups, 5, { statesFilter: [], typesFilter: [] });
    expect(lg.groups.map((g) => g.groupId)).toEqual(["billing"]);
    const all = await pb.as(null)(ListGroups, 5, { statesFilter: [], typesFilter: [] });
    expect(all.groups.map((g) => g.groupId).sort()).toEqual(["__lc-1.billing", "__lc-2.billing"]);
    const of = await pb.as("bob")(OffsetFetch, 8, { groups: [{ groupId: "billing", topics: null }], requireStable: false });
    expect(of.groups![0]!.groupId).toBe("billing");
    expect(of.groups![0]!.topics.map((t) => [t.name, t.partitions[0]!.committedOffset])).toEqual([["orders", 22]]);
  });
});

describe("partition limits (6 per unit)", () => {
  test("CreateTopics beyond the tenant's partitions: POLICY_VIOLATION with a message; nothing created", async () => {
    const res = await pb.as("alice")(C.CreateTopics, 7, create("big", 6));
    expect(res.topics[0]!.name).toBe("big");
    expect(res.topics[0]!.errorCode).toBe(ErrorCode.POLICY_VIOLATION);
    expect(res.topics[0]!.errorMessage).toContain("limit of 6");
    const md = await pb.as("alice")(C.Metadata, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    expect(md.topics.map((t) => t.name)).toEqual(["orders"]);
    // Within the limit it works; the other tenant's partitions do not count.
    const ok = await pb.as("alice")(C.CreateTopics, 7, create("mid", 5));
    expect(ok.topics[0]!.errorCode).toBe(0);
  });

  test("CreatePartitions beyond the limit: POLICY_VIOLATION; auto-creation past it: not created", async () => {
    const res = await pb.as("alice")(CreatePartitions, 3, { topics: [{ name: "mid", count: 6, assignments: null }], timeoutMs: 5000, validateOnly: false });
    expect(res.results[0]!.name).toBe("mid");
    expect(res.results[0]!.errorCode).toBe(ErrorCode.POLICY_VIOLATION);
    const md = await pb.as("alice")(C.Metadata, 12, { topics: [{ name: "auto-topic" }], allowAutoTopicCreation: true, includeTopicAuthorizedOperations: false });
    expect(md.topics[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const del = await pb.as("alice")(DeleteTopics, 6, { topics: [{ name: "mid", topicId: "00000000000000000000000000000000" }], timeoutMs: 5000 });
    expect(del.responses[0]!.name).toBe("mid");
    expect(del.responses[0]!.errorCode).toBe(0);
  });
});

describe("partition creation rate (KIP-599)", () => {
  test("over the tenant's controller mutation rate: THROTTLING_QUOTA_EXCEEDED with throttle_time_ms", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bunka-tenant-rate-"));
    const store = TenantStore.open(dir);
    store.add("acme", 1);
    store.assign("alice", "acme");
    store.saveSync();
    const rb = await openPrincipalBroker(dir, { "bunka.tenant.unit.controller.mutation.rate": "0.2" });
    try {
      // 0.2 partitions/s over a 10 s span = 2 partitions before the rate is over.
      const first = await rb.as("alice")(C.CreateTopics, 7, create("a", 3));
      expect(first.topics[0]!.errorCode).toBe(0);
      const second = await rb.as("alice")(C.CreateTopics, 7, create("b", 1));
      expect(second.topics[0]!.errorCode).toBe(ErrorCode.THROTTLING_QUOTA_EXCEEDED);
      expect(second.throttleTimeMs).toBeGreaterThan(0);
      const md = await rb.as(null)(C.Metadata, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      expect(md.topics.map((t) => t.name)).toEqual(["__lc-1.a"]);
    } finally {
      await rb.close();
    }
  });
});
