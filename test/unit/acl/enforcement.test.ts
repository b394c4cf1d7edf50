/**
 * ACL enforcement on the group, config, admin and quota APIs, in-process. The connection is
 * `User:ANONYMOUS` with `allow.everyone.if.no.acl.found=false`: it may do everything on topic "open"
 * and group "g-open" and nothing else unless a test grants it. Each API: a denied request gets
 * Kafka's code at Kafka's level and changes nothing; an allowed one gets through.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as C from "../../../src/client/codecs.ts";
import { codec } from "../../../src/client/wire-client.ts";
import type { FetchResponse } from "../../../src/protocol/generated/fetch-response.ts";
import { buildRecordBatch } from "../../../src/client/record-batch-builder.ts";
import { aclServiceFor } from "../../../src/acl/acl-service.ts";
import { AclOperation as Op, AclPermission, PatternType, ResourceType as RT, type AclBinding } from "../../../src/acl/types.ts";
import { writeOffsetCommitRequest } from "../../../src/protocol/generated/offset-commit-request.ts";
import { readOffsetCommitResponse } from "../../../src/protocol/generated/offset-commit-response.ts";
import { writeOffsetFetchRequest } from "../../../src/protocol/generated/offset-fetch-request.ts";
import { readOffsetFetchResponse } from "../../../src/protocol/generated/offset-fetch-response.ts";
import { writeFindCoordinatorRequest } from "../../../src/protocol/generated/find-coordinator-request.ts";
import { readFindCoordinatorResponse } from "../../../src/protocol/generated/find-coordinator-response.ts";
import { writeJoinGroupRequest } from "../../../src/protocol/generated/join-group-request.ts";
import { readJoinGroupResponse } from "../../../src/protocol/generated/join-group-response.ts";
import { writeSyncGroupRequest } from "../../../src/protocol/generated/sync-group-request.ts";
import { readSyncGroupResponse } from "../../../src/protocol/generated/sync-group-response.ts";
import { writeLeaveGroupRequest } from "../../../src/protocol/generated/leave-group-request.ts";
import { readLeaveGroupResponse } from "../../../src/protocol/generated/leave-group-response.ts";
import { writeDescribeGroupsRequest } from "../../../src/protocol/generated/describe-groups-request.ts";
import { readDescribeGroupsResponse } from "../../../src/protocol/generated/describe-groups-response.ts";
import { writeListGroupsRequest } from "../../../src/protocol/generated/list-groups-request.ts";
import { readListGroupsResponse } from "../../../src/protocol/generated/list-groups-response.ts";
import { writeDeleteGroupsRequest } from "../../../src/protocol/generated/delete-groups-request.ts";
import { readDeleteGroupsResponse } from "../../../src/protocol/generated/delete-groups-response.ts";
import { writeOffsetDeleteRequest } from "../../../src/protocol/generated/offset-delete-request.ts";
import { readOffsetDeleteResponse } from "../../../src/protocol/generated/offset-delete-response.ts";
import { writeConsumerGroupHeartbeatRequest } from "../../../src/protocol/generated/consumer-group-heartbeat-request.ts";
import { readConsumerGroupHeartbeatResponse } from "../../../src/protocol/generated/consumer-group-heartbeat-response.ts";
import { writeConsumerGroupDescribeRequest } from "../../../src/protocol/generated/consumer-group-describe-request.ts";
import { readConsumerGroupDescribeResponse } from "../../../src/protocol/generated/consumer-group-describe-response.ts";
import { writeOffsetForLeaderEpochRequest } from "../../../src/protocol/generated/offset-for-leader-epoch-request.ts";
import { readOffsetForLeaderEpochResponse } from "../../../src/protocol/generated/offset-for-leader-epoch-response.ts";
import { writeAlterConfigsRequest } from "../../../src/protocol/generated/alter-configs-request.ts";
import { readAlterConfigsResponse } from "../../../src/protocol/generated/alter-configs-response.ts";
import { writeIncrementalAlterConfigsRequest } from "../../../src/protocol/generated/incremental-alter-configs-request.ts";
import { readIncrementalAlterConfigsResponse } from "../../../src/protocol/generated/incremental-alter-configs-response.ts";
import { writeDescribeLogDirsRequest } from "../../../src/protocol/generated/describe-log-dirs-request.ts";
import { readDescribeLogDirsResponse } from "../../../src/protocol/generated/describe-log-dirs-response.ts";
import { writeCreatePartitionsRequest } from "../../../src/protocol/generated/create-partitions-request.ts";
import { readCreatePartitionsResponse } from "../../../src/protocol/generated/create-partitions-response.ts";
import { writeDescribeProducersRequest } from "../../../src/protocol/generated/describe-producers-request.ts";
import { readDescribeProducersResponse } from "../../../src/protocol/generated/describe-producers-response.ts";
import { writeDescribeClientQuotasRequest } from "../../../src/protocol/generated/describe-client-quotas-request.ts";
import { readDescribeClientQuotasResponse } from "../../../src/protocol/generated/describe-client-quotas-response.ts";
import { writeAlterClientQuotasRequest } from "../../../src/protocol/generated/alter-client-quotas-request.ts";
import { readAlterClientQuotasResponse } from "../../../src/protocol/generated/alter-client-quotas-response.ts";
import { openInProcessBroker, type InProcessBroker } from "../../support/in-process.ts";

const OffsetCommit = codec(8, writeOffsetCommitRequest, readOffsetCommitResponse);
const OffsetFetch = codec(9, writeOffsetFetchRequest, readOffsetFetchResponse);
const FindCoordinator = codec(10, writeFindCoordinatorRequest, readFindCoordinatorResponse);
const JoinGroup = codec(11, writeJoinGroupRequest, readJoinGroupResponse);
const SyncGroup = codec(14, writeSyncGroupRequest, readSyncGroupResponse);
const LeaveGroup = codec(13, writeLeaveGroupRequest, readLeaveGroupResponse);
const DescribeGroups = codec(15, writeDescribeGroupsRequest, readDescribeGroupsResponse);
const ListGroups = codec(16, writeListGroupsRequest, readListGroupsResponse);
const DeleteGroups = codec(42, writeDeleteGroupsRequest, readDeleteGroupsResponse);
const OffsetDelete = codec(47, writeOffsetDeleteRequest, readOffsetDeleteResponse);
const CgHeartbeat = codec(68, writeConsumerGroupHeartbeatRequest, readConsumerGroupHeartbeatResponse);
const CgDescribe = codec(69, writeConsumerGroupDescribeRequest, readConsumerGroupDescribeResponse);
const OffsetForLeaderEpoch = codec(23, writeOffsetForLeaderEpochRequest, readOffsetForLeaderEpochResponse);
const AlterConfigs = codec(33, writeAlterConfigsRequest, readAlterConfigsResponse);
const IncrementalAlterConfigs = codec(44, writeIncrementalAlterConfigsRequest, readIncrementalAlterConfigsResponse);
const DescribeLogDirs = codec(35, writeDescribeLogDirsRequest, readDescribeLogDirsResponse);
const CreatePartitions = codec(37, writeCreatePartitionsRequest, readCreatePartitionsResponse);
const DescribeProducers = codec(61, writeDescribeProducersRequest, readDescribeProducersResponse);
const DescribeClientQuotas = codec(48, writeDescribeClientQuotasRequest, readDescribeClientQuotasResponse);
const AlterClientQuotas = codec(49, writeAlterClientQuotasRequest, readAlterClientQuotasResponse);

const TOPIC_AUTHZ = 29;
const GROUP_AUTHZ = 30;
const CLUSTER_AUTHZ = 31;
const TXN_AUTHZ = 53;
const ME = "User:ANONYMOUS";
const enc = new TextEncoder();

let b: InProcessBroker;

const allow = (resourceType: number, resourceName: string, operation: number = Op.ALL): AclBinding => ({
  resourceType, resourceName, patternType: PatternType.LITERAL, principal: ME, host: "*", operation, permissionType: AclPermission.ALLOW,
});
const store = () => aclServiceFor(b.broker).store;
const BASE = [allow(RT.TOPIC, "open"), allow(RT.GROUP, "g-open")];
const ADMIN = [allow(RT.TOPIC, "*"), allow(RT.GROUP, "*"), allow(RT.CLUSTER, "kafka-cluster")];

/** Runs `fn` with ALL on every topic, group and the cluster, then takes it back. */
async function asAdmin<T>(fn: () => Promise<T>): Promise<T> {
  await store().add(ADMIN);
  try {
    return await fn();
  } finally {
    await store().remove(ADMIN);
  }
}

/** Runs `fn` with the extra bindings granted. */
async function withGrant<T>(grants: AclBinding[], fn: () => Promise<T>): Promise<T> {
  await store().add(grants);
  try {
    return await fn();
  } finally {
    await store().remove(grants);
  }
}

const commit = (group: string, topic: string, offset: number) =>
  b.call(OffsetCommit, 8, {
    groupId: group, generationIdOrMemberEpoch: -1, memberId: "", groupInstanceId: null,
    topics: [{ name: topic, partitions: [{ partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: "" }] }],
  });

/** Committed offset of (group, topic, 0), read past the ACLs. */
async function committed(group: string, topic: string): Promise<number> {
  const r = await asAdmin(() => b.call(OffsetFetch, 8, { groups: [{ groupId: group, topics: [{ name: topic, partitionIndexes: [0] }] }], requireStable: false }));
  return r.groups![0]!.topics[0]!.partitions[0]!.committedOffset;
}

beforeAll(async () => {
  b = await openInProcessBroker({ "authorizer.class.name": "bunka", "allow.everyone.if.no.acl.found": "false" });
  await asAdmin(async () => {
    for (const name of ["open", "secret"]) {
      const r = await b.call(C.CreateTopics, 7, { topics: [{ name, numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 1000, validateOnly: false });
      expect(r.topics[0]!.errorCode).toBe(0);
      const records = buildRecordBatch(["a", "b", "c"].map((v) => ({ key: null, value: enc.encode(v) })));
      const p = await b.call(C.Produce, 9, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name, partitionData: [{ index: 0, records }] }] });
      expect(p.responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
    }
    for (const g of ["g-open", "g-secret"]) for (const t of ["open", "secret"]) expect((await commit(g, t, 1)).topics[0]!.partitions[0]!.errorCode).toBe(0);
  });
  await store().add(BASE);
});
afterAll(async () => {
  await b.close();
});

describe("classic group APIs", () => {
  test("JoinGroup: READ on the group", async () => {
    const req = (groupId: string) => ({ groupId, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: "", groupInstanceId: null, protocolType: "consumer", protocols: [{ name: "range", metadata: new Uint8Array(0) }] });
    const denied = await b.call(JoinGroup, 7, req("g-secret"));
    expect(denied.errorCode).toBe(GROUP_AUTHZ);
    expect(denied.generationId).toBe(-1);
    expect(denied.members).toEqual([]);
    expect(b.broker.groups.describeGroup("g-secret").members).toEqual([]);
    // Allowed: v7 without a member id gets MEMBER_ID_REQUIRED (79), past the check.
    expect((await b.call(JoinGroup, 7, req("g-open"))).errorCode).toBe(79);
  });

  test("SyncGroup / LeaveGroup: READ on the group, top-level error", async () => {
    const sync = (groupId: string) => b.call(SyncGroup, 5, { groupId, generationId: 1, memberId: "m-1", groupInstanceId: null, protocolType: "consumer", protocolName: "range", assignments: [] });
    expect((await sync("g-secret")).errorCode).toBe(GROUP_AUTHZ);
    expect((await sync("g-open")).errorCode).not.toBe(GROUP_AUTHZ);
    const leave = (groupId: string) => b.call(LeaveGroup, 5, { groupId, members: [{ memberId: "m-1", groupInstanceId: null, reason: null }] });
    const denied = await leave("g-secret");
    expect(denied.errorCode).toBe(GROUP_AUTHZ);
    expect(denied.members).toEqual([]);
    expect((await leave("g-open")).errorCode).not.toBe(GROUP_AUTHZ);
  });

  test("OffsetCommit: READ on the group (every partition) and on each topic (its partitions)", async () => {
    const both = (group: string) =>
      b.call(OffsetCommit, 8, {
        groupId: group, generationIdOrMemberEpoch: -1, memberId: "", groupInstanceId: null,
        topics: ["open", "secret"].map((name) => ({ name, partitions: [{ partitionIndex: 0, committedOffset: 2, committedLeaderEpoch: -1, committedMetadata: "" }] })),
      });
    const noGroup = await both("g-secret");
    expect(noGroup.topics.map((t) => t.partitions[0]!.errorCode)).toEqual([GROUP_AUTHZ, GROUP_AUTHZ]);
    expect(await committed("g-secret", "open")).toBe(1);
    const partial = await both("g-open");
    expect(partial.topics.map((t) => t.partitions[0]!.errorCode)).toEqual([0, TOPIC_AUTHZ]);
    expect(await committed("g-open", "open")).toBe(2);
    expect(await committed("g-open", "secret")).toBe(1);
    expect((await commit("g-open", "open", 1)).topics[0]!.partitions[0]!.errorCode).toBe(0);
  });

  test("OffsetFetch: DESCRIBE on the group; unauthorized topics left out of 'all', failed when named", async () => {
    const v8 = await b.call(OffsetFetch, 8, {
      groups: [
        { groupId: "g-secret", topics: null },
        { groupId: "g-open", topics: null },
        { groupId: "g-open", topics: [{ name: "open", partitionIndexes: [0] }, { name: "secret", partitionIndexes: [0] }] },
      ],
      requireStable: false,
    });
    const [secret, all, named] = v8.groups!;
    expect(secret!.errorCode).toBe(GROUP_AUTHZ);
    expect(secret!.topics).toEqual([]);
    expect(all!.topics.map((t) => t.name)).toEqual(["open"]);
    expect(named!.topics.map((t) => [t.name, t.partitions[0]!.errorCode, t.partitions[0]!.committedOffset])).toEqual([["open", 0, 1], ["secret", TOPIC_AUTHZ, -1]]);
    const v7 = await b.call(OffsetFetch, 7, { groupId: "g-secret", topics: null, requireStable: false });
    expect(v7.errorCode).toBe(GROUP_AUTHZ);
    const v1 = await b.call(OffsetFetch, 1, { groupId: "g-secret", topics: [{ name: "open", partitionIndexes: [0] }] });
    expect(v1.topics![0]!.partitions[0]!.errorCode).toBe(GROUP_AUTHZ);
  });

  test("DescribeGroups: DESCRIBE per group; authorized operations when asked", async () => {
    const r = await b.call(DescribeGroups, 5, { groups: ["g-secret", "g-open"], includeAuthorizedOperations: true });
    expect(r.groups.map((g) => g.errorCode)).toEqual([GROUP_AUTHZ, 0]);
    expect(r.groups[0]!.groupState).toBe("");
    expect(r.groups[1]!.authorizedOperations).toBe((1 << Op.READ) | (1 << Op.DELETE) | (1 << Op.DESCRIBE));
  });

  test("ListGroups: only DESCRIBE-able groups, all with DESCRIBE on the cluster", async () => {
    const ids = async () => (await b.call(ListGroups, 5, { statesFilter: [], typesFilter: [] })).groups.map((g) => g.groupId).sort();
    expect(await ids()).toEqual(["g-open"]);
    expect(await withGrant([allow(RT.CLUSTER, "kafka-cluster", Op.DESCRIBE)], ids)).toEqual(["g-open", "g-secret"]);
  });

  test("FindCoordinator: DESCRIBE on the group / transactional id, per key", async () => {
    const groups = await b.call(FindCoordinator, 6, { keyType: 0, coordinatorKeys: ["g-secret", "g-open"] });
    expect(groups.coordinators!.map((c) => c.errorCode)).toEqual([GROUP_AUTHZ, 0]);
    expect(groups.coordinators![1]!.nodeId).toBe(b.broker.nodeId);
    expect((await b.call(FindCoordinator, 3, { key: "g-secret", keyType: 0 })).errorCode).toBe(GROUP_AUTHZ);
    expect((await b.call(FindCoordinator, 6, { keyType: 1, coordinatorKeys: ["txn-1"] })).coordinators![0]!.errorCode).toBe(TXN_AUTHZ);
  });

  test("OffsetDelete: DELETE on the group (top level), READ on each topic", async () => {
    const del = (groupId: string) => b.call(OffsetDelete, 0, { groupId, topics: ["open", "secret"].map((name) => ({ name, partitions: [{ partitionIndex: 0 }] })) });
    expect((await del("g-secret")).errorCode).toBe(GROUP_AUTHZ);
    expect(await committed("g-secret", "open")).toBe(1);
    const partial = await del("g-open");
    expect(partial.errorCode).toBe(0);
    expect(partial.topics.map((t) => t.partitions[0]!.errorCode)).toEqual([0, TOPIC_AUTHZ]);
    expect(await committed("g-open", "open")).toBe(-1);
    expect(await committed("g-open", "secret")).toBe(1);
    expect((await commit("g-open", "open", 1)).topics[0]!.partitions[0]!.errorCode).toBe(0);
  });

  test("DeleteGroups: DELETE per group", async () => {
    await asAdmin(() => commit("g-doomed", "open", 1));
    const r = await b.call(DeleteGroups, 2, { groupsNames: ["g-secret", "g-doomed"] });
    expect(r.results.map((x) => x.errorCode)).toEqual([GROUP_AUTHZ, GROUP_AUTHZ]);
    expect(await committed("g-secret", "open")).toBe(1);
    const ok = await withGrant([allow(RT.GROUP, "g-doomed", Op.DELETE)], () => b.call(DeleteGroups, 2, { groupsNames: ["g-doomed"] }));
    expect(ok.results[0]!.errorCode).toBe(0);
    expect(await committed("g-doomed", "open")).toBe(-1);
  });
});

describe("KIP-848 group APIs", () => {
  const hb = (groupId: string, topics: string[]) =>
    b.call(CgHeartbeat, 0, {
      groupId, memberId: "", memberEpoch: 0, instanceId: null, rackId: null, rebalanceTimeoutMs: 30_000,
      subscribedTopicNames: topics, subscribedTopicRegex: null, serverAssignor: null, topicPartitions: [],
    });

  test("ConsumerGroupHeartbeat: READ on the group, DESCRIBE on subscribed topics", async () => {
    expect((await hb("cg-secret", ["open"])).errorCode).toBe(GROUP_AUTHZ);
    await withGrant([allow(RT.GROUP, "cg-open", Op.READ)], async () => {
      const hidden = await hb("cg-open", ["open", "secret"]);
      expect(hidden.errorCode).toBe(TOPIC_AUTHZ);
      expect(hidden.memberId).toBeNull();
      const describe = await asAdmin(() => b.call(CgDescribe, 0, { groupIds: ["cg-secret", "cg-open"], includeAuthorizedOperations: false }));
      expect(describe.groups.map((g) => g.errorCode)).toEqual([69, 69]);
      const joined = await hb("cg-open", ["open"]);
      expect(joined.errorCode).toBe(0);
      expect(joined.memberEpoch).toBeGreaterThan(0);
    });
  });

  test("ConsumerGroupDescribe: DESCRIBE on the group; assigned topics must be describable", async () => {
    await asAdmin(() => hb("cg-mixed", ["open", "secret"]));
    const r = await withGrant([allow(RT.GROUP, "cg-mixed", Op.DESCRIBE), allow(RT.GROUP, "cg-open", Op.DESCRIBE)], () =>
      b.call(CgDescribe, 0, { groupIds: ["cg-secret", "cg-open", "cg-mixed"], includeAuthorizedOperations: true }),
    );
    expect(r.groups.map((g) => g.errorCode)).toEqual([GROUP_AUTHZ, 0, TOPIC_AUTHZ]);
    expect(r.groups[1]!.members.length).toBe(1);
    expect(r.groups[1]!.authorizedOperations).toBe(1 << Op.DESCRIBE);
    expect(r.groups[2]!.members).toEqual([]);
  });
});

describe("topic and cluster APIs", () => {
  test("DeleteRecords: DELETE on the topic, per partition", async () => {
    const r = await b.call(C.DeleteRecords, 2, { topics: ["open", "secret"].map((name) => ({ name, partitions: [{ partitionIndex: 0, offset: 1 }] })), timeoutMs: 1000 });
    expect(r.topics.map((t) => t.partitions[0]!.errorCode)).toEqual([0, TOPIC_AUTHZ]);
    expect(b.broker.topics.partition("open", 0)!.logStartOffset).toBe(1);
    expect(b.broker.topics.partition("secret", 0)!.logStartOffset).toBe(0);
  });

  test("OffsetForLeaderEpoch: DESCRIBE on the topic", async () => {
    const r = await b.call(OffsetForLeaderEpoch, 4, { replicaId: -1, topics: ["open", "secret"].map((topic) => ({ topic, partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }] })) });
    expect(r.topics.map((t) => [t.partitions[0]!.errorCode, t.partitions[0]!.endOffset])).toEqual([[0, 3], [TOPIC_AUTHZ, -1]]);
  });

  test("DescribeConfigs: DESCRIBE_CONFIGS on the topic / cluster, per resource", async () => {
    const req = { resources: [{ resourceType: 2, resourceName: "open", configurationKeys: null }, { resourceType: 2, resourceName: "secret", configurationKeys: null }, { resourceType: 4, resourceName: "", configurationKeys: null }], includeSynonyms: false, includeDocumentation: false };
    const r = await b.call(C.DescribeConfigs, 4, req);
    expect(r.results.map((x) => x.errorCode)).toEqual([0, TOPIC_AUTHZ, CLUSTER_AUTHZ]);
    expect(r.results[1]!.configs).toEqual([]);
    const granted = await withGrant([allow(RT.CLUSTER, "kafka-cluster", Op.DESCRIBE_CONFIGS)], () => b.call(C.DescribeConfigs, 4, req));
    expect(granted.results[2]!.errorCode).toBe(0);
  });

  test("AlterConfigs / IncrementalAlterConfigs: ALTER_CONFIGS on the topic / cluster", async () => {
    const legacy = await b.call(AlterConfigs, 2, {
      resources: [
        { resourceType: 2, resourceName: "secret", configs: [{ name: "retention.ms", value: "1000" }] },
        { resourceType: 4, resourceName: "", configs: [] },
        { resourceType: 2, resourceName: "open", configs: [{ name: "retention.ms", value: "12345" }] },
      ],
      validateOnly: false,
    });
    expect(legacy.responses.map((x) => x.errorCode)).toEqual([TOPIC_AUTHZ, CLUSTER_AUTHZ, 0]);
    expect(b.broker.topics.get("secret")!.record.configs["retention.ms"]).toBeUndefined();
    expect(b.broker.topics.get("open")!.record.configs["retention.ms"]).toBe("12345");
    const inc = await b.call(IncrementalAlterConfigs, 1, {
      resources: ["secret", "open"].map((resourceName) => ({ resourceType: 2, resourceName, configs: [{ name: "retention.ms", configOperation: 0, value: "2000" }] })),
      validateOnly: false,
    });
    expect(inc.responses.map((x) => x.errorCode)).toEqual([TOPIC_AUTHZ, 0]);
    expect(b.broker.topics.get("secret")!.record.configs["retention.ms"]).toBeUndefined();
    expect(b.broker.topics.get("open")!.record.configs["retention.ms"]).toBe("2000");
  });

  test("CreatePartitions: ALTER on the topic", async () => {
    const r = await b.call(CreatePartitions, 3, { topics: ["secret", "open"].map((name) => ({ name, count: 3, assignments: null })), timeoutMs: 1000, validateOnly: false });
    expect(r.results.map((x) => x.errorCode)).toEqual([TOPIC_AUTHZ, 0]);
    expect(b.broker.topics.get("secret")!.record.partitions).toBe(2);
    expect(b.broker.topics.get("open")!.record.partitions).toBe(3);
    // Denied before the existence check, as Kafka: no topic-name probing.
    const ghost = await b.call(CreatePartitions, 3, { topics: [{ name: "ghost", count: 3, assignments: null }], timeoutMs: 1000, validateOnly: false });
    expect(ghost.results[0]!.errorCode).toBe(TOPIC_AUTHZ);
  });

  test("DescribeProducers: READ on the topic", async () => {
    const r = await b.call(DescribeProducers, 0, { topics: ["open", "secret"].map((name) => ({ name, partitionIndexes: [0] })) });
    expect(r.topics.map((t) => t.partitions[0]!.errorCode)).toEqual([0, TOPIC_AUTHZ]);
  });

  test("Fetch: READ per topic, decided on every request of a session (not kept with its partitions)", async () => {
    // from each partition's log start (earlier tests delete records of "open")
    const start = (topic: string, partition: number) => b.broker.topics.get(topic)!.logs[partition]!.logStartOffset;
    const part = (topic: string, partition: number) => ({ partition, fetchOffset: start(topic, partition), partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1, lastFetchedEpoch: -1, logStartOffset: -1 });
    const req = (sessionId: number, sessionEpoch: number, named: boolean) => ({
      replicaId: -1, maxWaitMs: 5000, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, sessionId, sessionEpoch,
      topics: named ? ["open", "secret"].map((topic) => ({ topic, partitions: [part(topic, 0), part(topic, 1)] })) : [],
      forgottenTopicsData: [], rackId: "",
    });
    /** topic → [partition, error code, record bytes] per answered partition */
    const byTopic = (r: FetchResponse) =>
      Object.fromEntries(r.responses.map((t) => [t.topic, t.partitions.map((p) => [p.partitionIndex, p.errorCode, p.records?.length ?? 0])]));
    const first = await b.call(C.Fetch, 12, req(0, 0, true));
    expect(first.sessionId).not.toBe(0);
    const seen = byTopic(first);
    expect(seen.secret).toEqual([[0, TOPIC_AUTHZ, 0], [1, TOPIC_AUTHZ, 0]]);
    expect(seen.open![0]![1]).toBe(0);
    expect(seen.open![0]![2]).toBeGreaterThan(0); // the allowed topic's data in the same answer
    // Still denied on the next request of the session: the denial is answered again, not forgotten.
    const again = byTopic(await b.call(C.Fetch, 12, req(first.sessionId ?? 0, 1, false)));
    expect(again.secret).toEqual([[0, TOPIC_AUTHZ, 0], [1, TOPIC_AUTHZ, 0]]);
    // READ granted: the same session's next request reads the topic.
    const granted = byTopic(await withGrant([allow(RT.TOPIC, "secret", Op.READ)], () => b.call(C.Fetch, 12, req(first.sessionId ?? 0, 2, false))));
    expect(granted.secret![0]![1]).toBe(0);
    expect(granted.secret![0]![2]).toBeGreaterThan(0);
  });

  test("DescribeLogDirs: DESCRIBE on the cluster (top-level error v3+)", async () => {
    const denied = await b.call(DescribeLogDirs, 4, { topics: null });
    expect(denied.errorCode).toBe(CLUSTER_AUTHZ);
    expect(denied.results).toEqual([]);
    expect((await b.call(DescribeLogDirs, 1, { topics: null })).results).toEqual([]);
    const ok = await withGrant([allow(RT.CLUSTER, "kafka-cluster", Op.DESCRIBE)], () => b.call(DescribeLogDirs, 4, { topics: null }));
    expect(ok.errorCode).toBe(0);
    expect(ok.results[0]!.topics.map((t) => t.name).sort()).toEqual(["open", "secret"]);
  });

  test("Describe/AlterClientQuotas: DESCRIBE_CONFIGS / ALTER_CONFIGS on the cluster", async () => {
    const alterReq = { entries: [{ entity: [{ entityType: "client-id", entityName: "c1" }], ops: [{ key: "producer_byte_rate", value: 1024, remove: false }] }], validateOnly: false };
    const describeReq = { components: [{ entityType: "client-id", matchType: 0, match: "c1" }], strict: false };
    const denied = await b.call(AlterClientQuotas, 1, alterReq);
    expect(denied.entries[0]!.errorCode).toBe(CLUSTER_AUTHZ);
    const d = await b.call(DescribeClientQuotas, 1, describeReq);
    expect(d.errorCode).toBe(CLUSTER_AUTHZ);
    expect(d.entries).toBeNull();
    await withGrant([allow(RT.CLUSTER, "kafka-cluster", Op.ALTER_CONFIGS)], async () => {
      const seen = await b.call(DescribeClientQuotas, 1, describeReq);
      expect(seen.errorCode).toBe(0);
      expect(seen.entries).toEqual([]);
      expect((await b.call(AlterClientQuotas, 1, alterReq)).entries[0]!.errorCode).toBe(0);
      expect((await b.call(DescribeClientQuotas, 1, describeReq)).entries!.length).toBe(1);
    });
  });
});
